"""The SQLite store: articles, results under their cache keys, runs and outcomes.

WAL mode (``connection.py`` opens, checks and upgrades the file), each result in its own
transaction, so a finished article survives a crash at any later point and readers
(report, export) work while a run writes.
The tables are plain and named, with a view per concept (``articles``,
``quotes``, ``claims``, ``runs``), so Datasette and sqlite-utils open it cleanly.
They are defined in ``schema.py``. The queries on runs, articles, results, outcomes and
failure memory are methods here (the run lock is ``lock.py``); each desk feature (clusters,
deaths, fact-checks, reviews, source lists) and the runs package's Batch API jobs and inbox
index keep the queries on their own tables beside their logic, through ``Store.db`` and
``Store.transaction``, and filter by article with ``among``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import RunLockedError, UsageError
from pipeline.models import Analysis, Article, CacheIdentity, EngineAnswer, Usage
from pipeline.store.connection import Transaction, connect
from pipeline.store.lock import RunLock

__all__ = ["CacheIdentity", "StoredResult", "ArticleRef", "Store", "among", "cache_key", "utc_now", "parse_since"]

_KEYS_PER_QUERY = 500
_OUTCOME_COLUMNS = (
    "run_id, source_path, record_id, article_id, status, reason, cache_key, requests, input_tokens, output_tokens, at"
)


# A result's cache identity as stored (``params`` as JSON), and the usage columns results and outcomes share.
_IDENTITY_COLUMNS = "engine, model, mode, prompt_version, prompt_hash, schema_hash, params"
_USAGE_COLUMNS = "requests, input_tokens, cached_input_tokens, output_tokens, estimated_requests"


def _identity_values(identity: CacheIdentity) -> tuple[str, ...]:
    return tuple(
        identity.params_json() if name == "params" else getattr(identity, name) for name in _IDENTITY_COLUMNS.split(", ")
    )


def _usage_values(usage: Usage | None) -> tuple[int, ...]:
    """The values of ``_USAGE_COLUMNS``; none spent when there is no usage."""
    return tuple(getattr(usage, name) if usage else 0 for name in _USAGE_COLUMNS.split(", "))


def _marks(values: tuple[Any, ...]) -> str:
    """One ``?`` per value."""
    return ", ".join("?" * len(values))


# The ledger view and each run's wall time on a monotonic clock.
_RUNS = "SELECT runs.*, run.wall_seconds FROM runs JOIN run USING (run_id)"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def parse_since(value: str) -> datetime:
    """A moment given on the command line: a date (2026-12-1, 2026-12-01: its midnight)
    or an ISO datetime; without a zone it is UTC, as the store's timestamps are."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            moment = datetime.strptime(value.strip(), "%Y-%m-%d")
        except ValueError:
            raise UsageError(f"{value!r} is not a date or time: give e.g. 2026-12-01 or 2026-12-01T06:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def among(column: str, values: Iterable[str] | Iterable[int] | None) -> tuple[str, tuple[str, ...]]:
    """A condition keeping the rows whose ``column`` is one of ``values`` (every row when
    ``values`` is None), and its parameters. The values travel as one JSON array, so any
    number of them fits under SQLite's limit on bound variables, in one query."""
    if values is None:
        return "1", ()
    return f"{column} IN (SELECT value FROM json_each(?))", (json.dumps(list(values)),)


def cache_key(article_id: str, identity: CacheIdentity) -> str:
    """Hash of article, prompt, schema, model, mode and generation parameters.

    The hashed text is the JSON array ``[article_id, engine, model, mode, prompt_version,
    prompt_hash, schema_hash, params_json]``: a JSON array, not a joined string, so no
    separator a model name could contain, and lone surrogates from undecodable
    command-line bytes are escaped, not a crash.
    """
    return hashlib.sha256(f"[{json.dumps(article_id)}, {identity.key_tail}".encode()).hexdigest()


@dataclass(frozen=True)
class ArticleRef:
    """A stored article as seen again in a source, without its text (the store has it)."""

    article_id: str
    source_path: str
    record_id: str | None


@dataclass(frozen=True)
class StoredResult:
    """One stored analysis with its provenance (``records.article_record`` is its JSON shape)."""

    cache_key: str
    analysis: Analysis
    article: Article
    identity: CacheIdentity
    requests: int
    input_tokens: int
    output_tokens: int
    latency_ms: int
    run_id: int | None
    created_at: str
    sources: list[dict[str, str | None]]

    @classmethod
    def from_row(cls, row: sqlite3.Row, article: Article, sources: list[dict[str, str | None]]) -> StoredResult:
        """A ``result`` row with its article and the sources it was seen at."""
        identity = CacheIdentity(
            **{name: json.loads(row[name]) if name == "params" else row[name] for name in _IDENTITY_COLUMNS.split(", ")}
        )
        return cls(
            cache_key=row["cache_key"],
            analysis=Analysis.model_validate_json(row["analysis"]),
            article=article,
            identity=identity,
            **{name: row[name] for name in ("requests", "input_tokens", "output_tokens", "latency_ms", "run_id", "created_at")},
            sources=sources,
        )


class Store:
    """A connection to the pipeline's SQLite database."""

    def __init__(self, path: Path | str, *, read_only: bool = False, create: bool = True):
        """Open (and create, and upgrade) the database; ``read_only``: open an existing one only
        to read it, never creating or changing a file, as read commands do; ``create`` False:
        open an existing one only (the desk's commands that act on stored articles)."""
        self.path = Path(path)
        self.read_only = read_only
        self._run_lock: RunLock | None = None
        self._run_clocks: dict[int, float] = {}
        self.db = connect(self.path, read_only=read_only, create=create)

    def close(self) -> None:
        self._release_run_lock()
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # runs and the lock

    def start_run(self, engine: str, model: str) -> int:
        """Record a new run holding the database's run lock (RunLockedError while another run holds it).

        Runs the ledger still shows as running belonged to holders that died: the lock
        is free, so they are over and are closed as interrupted.
        """
        if self._run_lock is not None:
            raise RunLockedError(f"{self.path}: this connection already holds run {self._run_lock.run_id}")
        lock = RunLock.acquire(self.path)
        try:
            with self.transaction("BEGIN IMMEDIATE"):
                self.db.execute("UPDATE run SET status = 'interrupted', ended_at = ? WHERE ended_at IS NULL", (utc_now(),))
                run_id = self.db.execute(
                    "INSERT INTO run (started_at, status, engine, model, pid, insight_pending) VALUES (?, 'running', ?, ?, ?, 1)",
                    (utc_now(), engine, model, os.getpid()),
                ).lastrowid
            assert run_id is not None, "an INSERT has a row id"
        except BaseException:
            lock.release()
            raise
        lock.describe(run_id, since=utc_now())
        self._run_lock = lock
        self._run_clocks[run_id] = time.monotonic()
        return run_id

    def finish_run(self, run_id: int, status: str) -> None:
        """Close the run in the ledger and release the run lock, even when the write fails; its
        wall time is measured on a monotonic clock (the wall clock may step)."""
        started = self._run_clocks.pop(run_id, None)
        wall_seconds = None if started is None else time.monotonic() - started
        try:
            with self.transaction():
                self.db.execute(
                    "UPDATE run SET ended_at = ?, status = ?, wall_seconds = ? WHERE run_id = ?",
                    (utc_now(), status, wall_seconds, run_id),
                )
        finally:
            self._release_run_lock()

    def _release_run_lock(self) -> None:
        if self._run_lock is not None:
            self._run_lock.release()
            self._run_lock = None

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The ledger's latest runs, each with ``rejected_quotes``: reason -> count over the
        answers the run made."""
        runs = [dict(row) for row in self.db.execute(f"{_RUNS} ORDER BY run_id DESC LIMIT ?", (limit,))]
        for run in runs:
            run["rejected_quotes"] = dict(
                self.db.execute(
                    """SELECT json_extract(q.value, '$.reason'), COUNT(*)
                       FROM outcome o JOIN result r ON r.cache_key = o.cache_key,
                            json_each(r.analysis, '$.rejected_quotes') q
                       WHERE o.run_id = ? AND o.status = 'ok' GROUP BY 1 ORDER BY 2 DESC, 1""",
                    (run["run_id"],),
                ).fetchall()
            )
        return runs

    def run_summary(self, run_id: int) -> dict[str, Any]:
        """The run's line of the ledger; UsageError when there is no such run."""
        row = self.db.execute(f"{_RUNS} WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise UsageError(f"{self.path}: no run {run_id}")
        return dict(row)

    # articles, results, outcomes

    def has_result(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM result WHERE cache_key = ?", (key,)).fetchone() is not None

    def record_outcome(
        self,
        run_id: int,
        *,
        source_path: str,
        record_id: str | None,
        status: str,
        article_id: str | None = None,
        reason: str | None = None,
        key: str | None = None,
        usage: Usage | None = None,
        cost: float | None = None,
    ) -> None:
        """Record what happened to one input in this run (``usage``: what its failed attempts
        cost in tokens, ``cost`` in estimated USD)."""
        with self.transaction():
            self._insert_outcome(run_id, source_path, record_id, article_id, status, reason, key, usage, cost)

    def save_result(
        self,
        run_id: int,
        article: Article,
        key: str,
        identity: CacheIdentity,
        analysis: Analysis,
        answers: list[EngineAnswer],
        latency_ms: int,
        cost: float | None = None,
    ) -> None:
        """Commit one finished article: article, source, result and outcome in one transaction
        (and forget any failure remembered under its key)."""
        now = utc_now()
        usage = sum((answer.usage for answer in answers), Usage(requests=0, input_tokens=0, output_tokens=0))
        raw = json.dumps([raw for answer in answers for raw in answer.raw_responses])
        with self.transaction():
            self.remember_article(article, now)
            judged = (analysis.label.value, analysis.confidence, analysis.model_dump_json(), raw)
            row = (key, article.article_id, *_identity_values(identity), *judged, *_usage_values(usage), latency_ms, run_id, now)
            self.db.execute(
                f"""INSERT OR REPLACE INTO result (cache_key, article_id, {_IDENTITY_COLUMNS}, label, confidence, analysis,
                   raw_responses, {_USAGE_COLUMNS}, latency_ms, run_id, created_at) VALUES ({_marks(row)})""",
                row,
            )
            self._insert_outcome(run_id, article.source_path, article.record_id, article.article_id, "ok", None, key, usage, cost)
            self.db.execute("DELETE FROM failure WHERE cache_key = ?", (key,))

    def remember_article(self, article: Article, seen_at: str | None = None) -> None:
        """Record the article and where it was seen (no transaction of its own)."""
        seen_at = seen_at or utc_now()
        self._insert_article(article, seen_at)
        self.db.execute(
            "INSERT OR REPLACE INTO article_source (article_id, source_path, record_id, last_seen) VALUES (?, ?, ?, ?)",
            (article.article_id, article.source_path, article.record_id or "", seen_at),
        )

    def _insert_article(self, article: Article, seen_at: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO article (article_id, title, url, published, text, first_seen) VALUES (?, ?, ?, ?, ?, ?)",
            (article.article_id, article.title, article.url, article.published, article.text, seen_at),
        )
        if article.versioned_source:
            # The source now holds this article: any other it held is an earlier version.
            self.db.execute(
                """UPDATE article_source SET superseded_at = ? WHERE source_path = ? AND record_id = ?
                   AND article_id != ? AND superseded_at IS NULL""",
                (seen_at, article.source_path, article.record_id or "", article.article_id),
            )

    def record_cached(self, run_id: int, cached: list[tuple[Article | ArticleRef, str]]) -> None:
        """Record articles served from the cache (article or reference, cache key) in one transaction.

        The run's ledger hands these over in blocks: a cached outcome is a ledger line, not
        paid work, so a block lost to a crash costs nothing to redo.
        """
        now = utc_now()
        with self.transaction():
            for article, _key in cached:
                if isinstance(article, Article):
                    self._insert_article(article, now)
            self.db.executemany(
                "INSERT OR REPLACE INTO article_source (article_id, source_path, record_id, last_seen) VALUES (?, ?, ?, ?)",
                [(article.article_id, article.source_path, article.record_id or "", now) for article, _key in cached],
            )
            self.db.executemany(
                f"INSERT INTO outcome ({_OUTCOME_COLUMNS}) VALUES (?, ?, ?, ?, 'cached', NULL, ?, 0, 0, 0, ?)",
                [(run_id, article.source_path, article.record_id, article.article_id, key, now) for article, key in cached],
            )

    def results_among(self, keys: list[str]) -> set[str]:
        """Those of ``keys`` that have a stored result."""
        return self._present("SELECT cache_key FROM result WHERE cache_key IN ({marks})", keys)

    def _present(self, query: str, values: list[str]) -> set[str]:
        """The ``values`` that ``query`` (one column, ``IN ({marks})``) finds, asked in chunks."""
        found: set[str] = set()
        for start in range(0, len(values), _KEYS_PER_QUERY):
            chunk = values[start : start + _KEYS_PER_QUERY]
            found.update(row[0] for row in self.db.execute(query.format(marks=", ".join("?" * len(chunk))), chunk))
        return found

    def article(self, ref: ArticleRef) -> Article | None:
        """The stored article ``ref`` names, as seen at ``ref``'s source."""
        row = self.db.execute("SELECT * FROM article WHERE article_id = ?", (ref.article_id,)).fetchone()
        if row is None:
            return None
        return Article(
            article_id=row["article_id"],
            text=row["text"],
            title=row["title"],
            url=row["url"],
            published=row["published"],
            source_path=ref.source_path,
            record_id=ref.record_id,
        )

    def _insert_outcome(self, run_id, source_path, record_id, article_id, status, reason, key, usage, cost=None) -> None:
        values = (run_id, source_path, record_id, article_id, status, reason, key, *_usage_values(usage), cost, utc_now())
        self.db.execute(
            f"""INSERT INTO outcome (run_id, source_path, record_id, article_id, status, reason, cache_key,
               {_USAGE_COLUMNS}, cost, at) VALUES ({_marks(values)})""",
            values,
        )

    # failure memory

    def remembered_failure(self, key: str) -> dict[str, Any] | None:
        """The deterministic failure remembered under ``key``: kind, reason, and in how many runs."""
        row = self.db.execute("SELECT * FROM failure WHERE cache_key = ?", (key,)).fetchone()
        return dict(row) if row else None

    def remember_failure(self, run_id: int, key: str, article_id: str, kind: str, reason: str) -> None:
        """Count one more run in which ``key`` failed for a deterministic reason."""
        with self.transaction():
            self.db.execute(
                """INSERT INTO failure (cache_key, article_id, kind, reason, runs, first_run_id, last_run_id, last_failed)
                   VALUES (?, ?, ?, ?, 1, ?, ?, ?)
                   ON CONFLICT (cache_key) DO UPDATE SET kind = excluded.kind, reason = excluded.reason,
                       runs = runs + 1, last_run_id = excluded.last_run_id, last_failed = excluded.last_failed""",
                (key, article_id, kind, reason, run_id, run_id, utc_now()),
            )

    def outcomes(self, run_id: int) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM outcome WHERE run_id = ? ORDER BY rowid", (run_id,))
        return [dict(row) for row in rows]

    def get_result(self, key: str) -> StoredResult | None:
        row = self.db.execute("SELECT * FROM result WHERE cache_key = ?", (key,)).fetchone()
        return self._stored(row) if row else None

    def find_results(self, ref: str) -> list[StoredResult]:
        """Latest results for an article id (or prefix), a cache key, a source path (or its end
        after a ``/``), or ``PATH#RECORD-ID``; every character is literal (no wildcards)."""
        if not ref.strip():
            return []
        path, _, record = ref.rpartition("#")
        rows = self.db.execute(
            """SELECT * FROM latest_result WHERE substr(article_id, 1, length(:ref)) = :ref OR cache_key = :ref
               OR article_id IN (SELECT article_id FROM article_source
                   WHERE source_path = :ref OR substr(source_path, -length(:tail)) = :tail
                   OR (record_id = :record AND (source_path = :path OR substr(source_path, -length(:path_tail)) = :path_tail)))
               ORDER BY created_at""",
            {
                "ref": ref,
                "tail": "/" + ref.lstrip("./"),
                "path": path,
                "path_tail": "/" + path.lstrip("./"),
                "record": record if path else None,
            },
        ).fetchall()
        return [self._stored(row) for row in rows]

    def iter_results(self, run_id: int | None = None, *, analysed_only: bool = False) -> Iterator[StoredResult]:
        """Latest result per article still current at one of its sources (not replaced there by
        a newer version), or the results a run touched: analysed or cached, or with
        ``analysed_only`` just those the run itself produced."""
        params: tuple[int, ...] = ()
        query = """SELECT * FROM latest_result WHERE article_id IN
                   (SELECT article_id FROM article_source WHERE superseded_at IS NULL) ORDER BY created_at"""
        if run_id is not None:
            statuses = "('ok')" if analysed_only else "('ok', 'cached')"
            query = f"""SELECT r.* FROM result r JOIN (SELECT DISTINCT cache_key FROM outcome
                       WHERE run_id = ? AND cache_key IS NOT NULL AND status IN {statuses}) o
                       ON o.cache_key = r.cache_key ORDER BY r.created_at"""
            params = (run_id,)
        for row in self.db.execute(query, params):
            yield self._stored(row)

    def latest_results(self, article_ids: Iterable[str]) -> list[StoredResult]:
        """The latest result of each of these articles (those with none are left out)."""
        condition, params = among("article_id", article_ids)
        rows = self.db.execute(f"SELECT * FROM latest_result WHERE {condition} ORDER BY created_at", params).fetchall()
        return [self._stored(row) for row in rows]

    def results_since(self, moment: str) -> Iterator[StoredResult]:
        """Latest result per current article (as ``iter_results``) stored at or after ``moment`` (ISO)."""
        rows = self.db.execute(
            """SELECT * FROM latest_result WHERE created_at >= ? AND article_id IN
               (SELECT article_id FROM article_source WHERE superseded_at IS NULL) ORDER BY created_at""",
            (moment,),
        )
        for row in rows:
            yield self._stored(row)

    def first_seen_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        """When each of these articles was first stored."""
        condition, params = among("article_id", article_ids)
        rows = self.db.execute(f"SELECT article_id, first_seen FROM article WHERE {condition}", params)
        return {row["article_id"]: row["first_seen"] for row in rows}

    def first_seen_between(self, start: str, end: str) -> list[str]:
        """The articles first stored at or after ``start`` and before ``end`` (ISO, UTC)."""
        rows = self.db.execute("SELECT article_id FROM article WHERE first_seen >= ? AND first_seen < ?", (start, end))
        return [row["article_id"] for row in rows]

    def article_text(self, article_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM article WHERE article_id = ?", (article_id,)).fetchone()
        return None if row is None else row["text"]

    def insight_pending(self, run_id: int) -> list[int]:
        """This run and the earlier ones whose batch insight never completed (failed or interrupted)."""
        rows = self.db.execute("SELECT run_id FROM run WHERE insight_pending = 1 AND run_id <= ? ORDER BY run_id", (run_id,))
        return [row["run_id"] for row in rows]

    def insight_done(self, run_ids: Iterable[int]) -> None:
        condition, params = among("run_id", run_ids)
        with self.transaction():
            self.db.execute(f"UPDATE run SET insight_pending = 0 WHERE {condition}", params)

    def analysed_article_ids(self, run_id: int) -> list[str]:
        """The articles this run analysed itself (not those it found cached)."""
        rows = self.db.execute("SELECT DISTINCT article_id FROM outcome WHERE run_id = ? AND status = 'ok'", (run_id,))
        return [row["article_id"] for row in rows]

    def _stored(self, row: sqlite3.Row) -> StoredResult:
        sources = [
            {"source_path": source["source_path"], "record_id": source["record_id"] or None}
            for source in self.db.execute(
                "SELECT source_path, record_id FROM article_source WHERE article_id = ? ORDER BY last_seen",
                (row["article_id"],),
            )
        ]
        article = self.article(
            ArticleRef(
                row["article_id"],
                source_path=sources[-1]["source_path"] if sources else "",
                record_id=sources[-1]["record_id"] if sources else None,
            )
        )
        assert article is not None, "a result's article is stored in the same transaction"
        return StoredResult.from_row(row, article, sources)

    def transaction(self, begin: str = "BEGIN"):
        """One transaction: committed on success, rolled back on an exception."""
        return Transaction(self.db, begin, self.path)
