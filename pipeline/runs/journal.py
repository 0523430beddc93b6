"""The answer journal: every raw provider answer, appended the moment it arrives.

A paid answer exists only in memory between the HTTP response and the commit of
its result. The journal keeps it on disk before anything parses or stores it, so
an answer whose result never reached the database (another writer held it past
the busy timeout, the disk filled, the process was killed) is recovered by the
next run without paying again.

It is a file beside the database, ``<database>.answers.jsonl``, not a table in it:
a journal inside the database would fail exactly when the database cannot be
written. One JSON line per answer: the cache key, the phase (``analyse`` or
``reask``), the raw chat completion and when it arrived. Only a run holding the run
lock writes it, and only a run that can pay (the LLM engine) reads it.

It is bounded and streamed: at the start of such a run it is compacted, line by line,
to the answers whose results are still missing, no older than ``max_age_days``, the
newest ``max_bytes`` of them; the run keeps only where each key's answers lie in the
file and reads one when its article comes up.
"""

from __future__ import annotations

import json
import os
import time
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["AnswerJournal"]

_DAY = 86_400.0


class AnswerJournal:
    """Append-only raw answers by cache key, and the recovery of the ones never stored.

    ``max_bytes`` and ``max_age_days`` cap what a compaction keeps (the settings
    ``journal_max_bytes`` and ``journal_max_age_days``); ``clock`` gives the time in seconds."""

    def __init__(
        self,
        database: Path,
        max_bytes: int = 64 * 1024 * 1024,
        max_age_days: float = 14.0,
        clock: Callable[[], float] = time.time,
    ):
        self.path = database.with_name(database.name + ".answers.jsonl")
        self.max_bytes = max_bytes
        self.max_age_days = max_age_days
        self._clock = clock
        # Where each unsettled key's first answers ("analyse" lines) start in the file, oldest first.
        self.pending: dict[str, list[int]] = {}
        self.error: str | None = None  # why an answer could not be journalled, once it happens
        self._descriptor: int | None = None

    def open(self, settled: Callable[[str], bool]) -> AnswerJournal:
        """Compact the journal to the answers of keys not yet ``settled`` (no stored result, no
        remembered deterministic failure: a failed answer is asked for afresh) within the caps,
        note where each lies, and open it for appending. Never holds more than one line in memory."""
        try:
            kept, dropped = self._scan(settled)
        except FileNotFoundError:
            kept, dropped = array("q"), False
        except OSError as error:
            self.error = f"cannot read {self.path} ({error.strerror or error})"
            kept, dropped = array("q"), False
        if dropped:
            kept = self._rewrite(kept)
        self._index(kept)
        try:
            self._descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as error:
            self.error = f"cannot open {self.path} ({error.strerror or error})"
        return self

    def _lines(self, spans: array | None = None) -> Iterator[tuple[int, bytes]]:
        """(offset, line) of every line, or of the lines starting at ``spans``' offsets."""
        with open(self.path, "rb") as lines:
            if spans is None:
                offset = 0
                for line in lines:
                    yield offset, line
                    offset += len(line)
                return
            for at in spans[0::2]:
                lines.seek(at)
                yield at, lines.readline()

    def _scan(self, settled: Callable[[str], bool]) -> tuple[array, bool]:
        """(offset, length) pairs of the lines to keep, and whether any line is dropped."""
        oldest = self._clock() - self.max_age_days * _DAY
        answered: dict[str, bool] = {}
        kept = array("q")
        dropped = False
        for offset, line in self._lines():
            entry = _entry(line)
            if entry is None or (entry[3] is not None and entry[3] < oldest):
                dropped = True
                continue
            key = entry[0]
            if key not in answered:
                answered[key] = settled(key)
            if answered[key]:
                dropped = True
                continue
            kept.extend((offset, len(line)))
        total = sum(kept[1::2])
        first = 0
        while total > self.max_bytes:  # the oldest answers go first
            total -= kept[first * 2 + 1]
            first += 1
        return kept[first * 2 :], dropped or first > 0

    def _rewrite(self, kept: array) -> array:
        """Write only the kept lines, streamed, in place of the journal; their new spans."""
        temporary = self.path.with_name(self.path.name + ".compacting")
        moved = array("q")
        try:
            with open(temporary, "wb") as out:
                for _offset, line in self._lines(kept):
                    line = line if line.endswith(b"\n") else line + b"\n"
                    moved.extend((out.tell(), len(line)))
                    out.write(line)
            os.replace(temporary, self.path)
        except OSError:
            temporary.unlink(missing_ok=True)  # the longer file stays: nothing in it is lost
            return kept
        return moved

    def _index(self, kept: array) -> None:
        if not kept:
            return
        for offset, line in self._lines(kept):
            entry = _entry(line)
            if entry is not None and entry[1] == "analyse":
                self.pending.setdefault(entry[0], []).append(offset)

    def append(self, key: str, phase: str, raw: str) -> None:
        """Write one raw answer at once, in one write; never raises (the answer is still in memory)."""
        if self._descriptor is None:
            return
        entry = {"key": key, "phase": phase, "raw": raw, "at": round(self._clock(), 3)}
        line = json.dumps(entry, ensure_ascii=False).encode("utf-8", "surrogatepass")
        try:
            os.write(self._descriptor, line + b"\n")
        except OSError as error:
            self.error = f"cannot write {self.path} ({error.strerror or error})"

    def recovered_completion(self, key: str, usable: Callable[[Any], bool] = lambda _body: True) -> dict[str, Any] | None:
        """The last first answer journalled for ``key`` that is ``usable`` (a chat completion
        of the asked model: an unusable one is asked for again, never stored), or None."""
        offsets = self.pending.get(key)
        if not offsets:
            return None
        spans = array("q")
        for offset in offsets:
            spans.extend((offset, 0))
        try:
            found = [_entry(line) for _offset, line in self._lines(spans)]
        except OSError:
            return None
        for entry in reversed(found):
            try:
                body = json.loads(entry[2]) if entry is not None else None
            except ValueError:
                continue
            if isinstance(body, dict) and usable(body):
                return body
        return None

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def _entry(line: bytes) -> tuple[str, str, str, float | None] | None:
    """A journal line as (key, phase, raw, arrival time or None); None for a line cut short by a crash."""
    try:
        entry = json.loads(line)
        at = entry.get("at")
        return str(entry["key"]), str(entry["phase"]), str(entry["raw"]), float(at) if isinstance(at, int | float) else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
