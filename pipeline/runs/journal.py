"""The answer journal: every raw provider answer, appended the moment it arrives.

A paid answer exists only in memory between the HTTP response and the commit of
its result. The journal keeps it on disk before anything parses or stores it, so
an answer whose result never reached the database (another writer held it past
the busy timeout, the disk filled, the process was killed) is recovered by the
next run without paying again.

It is a file beside the database, ``<database>.answers.jsonl``, not a table in it:
a journal inside the database would fail exactly when the database cannot be
written. One JSON line per answer: the cache key, the phase (``analyse`` or
``reask``), and the raw chat completion. Only a run holding the run lock writes it;
at the start of each run it is compacted to the answers whose results are still
missing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


__all__ = ["AnswerJournal"]


class AnswerJournal:
    """Append-only raw answers by cache key, and the recovery of the ones never stored."""

    def __init__(self, database: Path):
        self.path = database.with_name(database.name + ".answers.jsonl")
        self.pending: dict[str, list[tuple[str, str]]] = {}
        self.error: str | None = None  # why an answer could not be journalled, once it happens
        self._descriptor: int | None = None

    def open(self, settled: Callable[[str], bool]) -> AnswerJournal:
        """Load the answers of keys not yet ``settled`` (no stored result, no remembered
        deterministic failure: a failed answer is asked for afresh) and keep only those."""
        kept: list[bytes] = []
        dropped = False
        try:
            with open(self.path, "rb") as lines:
                for line in lines:
                    entry = _entry(line)
                    if entry is None or settled(entry[0]):
                        dropped = True
                        continue
                    self.pending.setdefault(entry[0], []).append(entry[1:])
                    kept.append(line if line.endswith(b"\n") else line + b"\n")
        except FileNotFoundError:
            pass
        except OSError as error:
            self.error = f"cannot read {self.path} ({error.strerror or error})"
        if dropped:
            self._rewrite(kept)
        try:
            self._descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as error:
            self.error = f"cannot open {self.path} ({error.strerror or error})"
        return self

    def _rewrite(self, lines: list[bytes]) -> None:
        temporary = self.path.with_name(self.path.name + ".compacting")
        try:
            temporary.write_bytes(b"".join(lines))
            os.replace(temporary, self.path)
        except OSError:
            temporary.unlink(missing_ok=True)  # the longer file stays: nothing in it is lost

    def append(self, key: str, phase: str, raw: str) -> None:
        """Write one raw answer at once, in one write; never raises (the answer is still in memory)."""
        if self._descriptor is None:
            return
        line = json.dumps({"key": key, "phase": phase, "raw": raw}, ensure_ascii=False).encode("utf-8", "surrogatepass")
        try:
            os.write(self._descriptor, line + b"\n")
        except OSError as error:
            self.error = f"cannot write {self.path} ({error.strerror or error})"

    def recovered_completion(self, key: str) -> dict[str, Any] | None:
        """The last first answer journalled for ``key`` (a chat completion body), or None.
        The engine reads it as it reads any completion that arrived another way."""
        for phase, raw in reversed(self.pending.get(key, [])):
            if phase != "analyse":
                continue
            try:
                body = json.loads(raw)
            except ValueError:
                continue
            if isinstance(body, dict):
                return body
        return None

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def _entry(line: bytes) -> tuple[str, str, str] | None:
    """A journal line as (key, phase, raw); None for a line cut short by a crash."""
    try:
        entry = json.loads(line)
        return str(entry["key"]), str(entry["phase"]), str(entry["raw"])
    except (ValueError, KeyError, TypeError):
        return None
