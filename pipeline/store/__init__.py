"""The SQLite store: articles, results under their cache keys, runs and outcomes.

WAL mode, each result in its own transaction, so a finished article survives a
crash at any later point and readers (report, export) work while a run writes.
The tables are plain and named, with a view per concept (``articles``,
``quotes``, ``claims``, ``runs``), so Datasette and sqlite-utils open it cleanly.
They are defined in ``schema.py``; the store's own queries are methods here, and a
feature's own tables are queried beside its logic, through ``Store.db`` (the run lock
is in ``lock.py``).
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

from pipeline.errors import RunLockedError, StoreError, UsageError
from pipeline.models import Analysis, Article, CacheIdentity, EngineAnswer, Usage
from pipeline.store.lock import RunLock
from pipeline.store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["CacheIdentity", "StoredResult", "ArticleRef", "Store", "cache_key", "utc_now", "parse_since"]

_KEYS_PER_QUERY = 500
_OUTCOME_COLUMNS = (
    "run_id, source_path, record_id, article_id, status, reason, cache_key, requests, input_tokens, output_tokens, at"
)


_BUSY_TIMEOUT_S = 30.0

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


class Store:
    """A connection to the pipeline's SQLite database."""

    def __init__(self, path: Path | str, *, read_only: bool = False):
        """Open (and create, and upgrade) the database; ``read_only``: open an existing one only
        to read it, never creating or changing a file, as read commands do."""
        self.path = Path(path)
        self._run_lock: RunLock | None = None
        self._run_clocks: dict[int, float] = {}
        try:
            if read_only:
                self.db = _open_read_only(self.path)
            else:
                self.db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                _migrate(self.db, self.path)
            self.db.row_factory = sqlite3.Row
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot open the database ({error})") from None

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
                    "INSERT INTO run (started_at, status, engine, model, pid) VALUES (?, 'running', ?, ?, ?)",
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
            self.db.execute(
                """INSERT OR REPLACE INTO result (cache_key, article_id, engine, model, mode, prompt_version,
                   prompt_hash, schema_hash, params, label, confidence, analysis, raw_responses, requests,
                   input_tokens, cached_input_tokens, output_tokens, latency_ms, run_id, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    key,
                    article.article_id,
                    identity.engine,
                    identity.model,
                    identity.mode,
                    identity.prompt_version,
                    identity.prompt_hash,
                    identity.schema_hash,
                    identity.params_json(),
                    analysis.label.value,
                    analysis.confidence,
                    analysis.model_dump_json(),
                    raw,
                    usage.requests,
                    usage.input_tokens,
                    usage.cached_input_tokens,
                    usage.output_tokens,
                    latency_ms,
                    run_id,
                    now,
                ),
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
        self.db.execute(
            """INSERT INTO outcome (run_id, source_path, record_id, article_id, status, reason, cache_key,
               requests, input_tokens, cached_input_tokens, output_tokens, cost, at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                run_id,
                source_path,
                record_id,
                article_id,
                status,
                reason,
                key,
                usage.requests if usage else 0,
                usage.input_tokens if usage else 0,
                usage.cached_input_tokens if usage else 0,
                usage.output_tokens if usage else 0,
                cost,
                utc_now(),
            ),
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
        """Latest results for an article id (or unique prefix), a cache key, or a source path."""
        rows = self.db.execute(
            """SELECT * FROM latest_result WHERE article_id LIKE ? || '%' OR cache_key = ?
               OR article_id IN (SELECT article_id FROM article_source WHERE source_path = ? OR source_path LIKE '%' || ?)
               ORDER BY created_at""",
            (ref, ref, ref, "/" + ref.lstrip("./")),
        ).fetchall()
        return [self._stored(row) for row in rows]

    def iter_results(self, run_id: int | None = None, *, analysed_only: bool = False) -> Iterator[StoredResult]:
        """Latest result per article still current at one of its sources (not replaced there by
        a newer version), or the results a run touched: analysed or cached, or with
        ``analysed_only`` just those the run itself produced."""
        if run_id is None:
            query, params = (
                """SELECT * FROM latest_result WHERE article_id IN
                               (SELECT article_id FROM article_source WHERE superseded_at IS NULL)
                               ORDER BY created_at""",
                tuple[Any, ...](),
            )
        else:
            statuses = "('ok')" if analysed_only else "('ok', 'cached')"
            query = f"""SELECT r.* FROM result r JOIN (SELECT DISTINCT cache_key FROM outcome
                       WHERE run_id = ? AND cache_key IS NOT NULL AND status IN {statuses}) o
                       ON o.cache_key = r.cache_key ORDER BY r.created_at"""
            params = (run_id,)
        for row in self.db.execute(query, params):
            yield self._stored(row)

    def article_text(self, article_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM article WHERE article_id = ?", (article_id,)).fetchone()
        return None if row is None else row["text"]

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
        return StoredResult(
            cache_key=row["cache_key"],
            analysis=Analysis.model_validate_json(row["analysis"]),
            article=article,
            identity=CacheIdentity(
                engine=row["engine"],
                model=row["model"],
                mode=row["mode"],
                prompt_version=row["prompt_version"],
                prompt_hash=row["prompt_hash"],
                schema_hash=row["schema_hash"],
                params=json.loads(row["params"]),
            ),
            requests=row["requests"],
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            latency_ms=row["latency_ms"],
            run_id=row["run_id"],
            created_at=row["created_at"],
            sources=sources,
        )

    # template clusters (callers hold a transaction)

    def replace_cluster_bands(self, article_id: str, buckets: Iterable[tuple[int, int]]) -> None:
        """The LSH (band, bucket) pairs of one article, replacing its old ones."""
        self.db.execute("DELETE FROM cluster_band WHERE article_id = ?", (article_id,))
        self.db.executemany(
            "INSERT INTO cluster_band (article_id, band, bucket) VALUES (?, ?, ?)",
            [(article_id, band, bucket) for band, bucket in buckets],
        )

    def band_neighbours(self, article_id: str, max_bucket: int) -> list[str]:
        """Articles sharing a band bucket with this one, in buckets of at most ``max_bucket`` articles."""
        rows = self.db.execute(
            """SELECT DISTINCT other.article_id FROM cluster_band mine
               JOIN cluster_band other ON other.band = mine.band AND other.bucket = mine.bucket
               WHERE mine.article_id = ? AND other.article_id != mine.article_id
                 AND (SELECT COUNT(*) FROM cluster_band b WHERE b.band = mine.band AND b.bucket = mine.bucket) <= ?""",
            (article_id, max_bucket),
        )
        return [row["article_id"] for row in rows]

    def save_cluster_pair(self, first: str, second: str, jaccard: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO cluster_pair (article_a, article_b, jaccard) VALUES (?, ?, ?)",
            (*sorted((first, second)), jaccard),
        )

    def cluster_pairs(self) -> Iterator[tuple[str, str, float]]:
        for row in self.db.execute("SELECT article_a, article_b, jaccard FROM cluster_pair"):
            yield row["article_a"], row["article_b"], row["jaccard"]

    def replace_template_clusters(self, members: Iterable[tuple[str, str, int, float]]) -> None:
        """Every clustered article as (article id, cluster id, size, best Jaccard), replacing the old clusters."""
        self.db.execute("DELETE FROM template_cluster")
        self.db.executemany(
            "INSERT INTO template_cluster (article_id, cluster_id, size, best_jaccard) VALUES (?, ?, ?, ?)", members
        )

    def template_clusters(self) -> list[tuple[str, str, int, float]]:
        """Every clustered article as (article id, cluster id, size, best Jaccard), largest clusters first."""
        rows = self.db.execute(
            "SELECT article_id, cluster_id, size, best_jaccard FROM template_cluster ORDER BY size DESC, cluster_id, article_id"
        )
        return [(row["article_id"], row["cluster_id"], row["size"], row["best_jaccard"]) for row in rows]

    # posthumous attribution (callers hold a transaction)

    def replace_posthumous_flags(self, article_id: str, flags: Iterable[tuple[str, str, int, int, str | None]]) -> None:
        """One article's flags as (person, kind, start, end, evidence article id), replacing its old ones."""
        self.db.execute("DELETE FROM posthumous_flag WHERE article_id = ?", (article_id,))
        self.db.executemany(
            'INSERT OR IGNORE INTO posthumous_flag (article_id, person, kind, start, "end", evidence_article_id) '
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(article_id, *flag) for flag in flags],
        )

    def posthumous_flags(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            'SELECT article_id, person, kind, start, "end", evidence_article_id FROM posthumous_flag ORDER BY article_id, start'
        )
        return [dict(row) for row in rows]

    def drop_posthumous_flags(self, person: str) -> None:
        """Drop every flag resting on one person's entry."""
        self.db.execute("DELETE FROM posthumous_flag WHERE person = ?", (person,))

    def applied_deaths(self) -> dict[str, tuple[str, str | None]]:
        """The register the stored flags were computed from: name key -> (name, evidence article id)."""
        rows = self.db.execute("SELECT name_key, name, evidence_article_id FROM posthumous_applied")
        return {row["name_key"]: (row["name"], row["evidence_article_id"]) for row in rows}

    def replace_applied_deaths(self, register: dict[str, tuple[str, str | None]]) -> None:
        self.db.execute("DELETE FROM posthumous_applied")
        self.db.executemany(
            "INSERT INTO posthumous_applied (name_key, name, evidence_article_id) VALUES (?, ?, ?)",
            [(key, name, evidence) for key, (name, evidence) in register.items()],
        )

    def article_ids_containing(self, needles: Iterable[str]) -> list[str]:
        """Articles whose case-folded text contains any of these case-folded strings."""
        wanted = sorted(set(needles))
        if not wanted:
            return []
        self.db.create_function("casefold", 1, lambda text: text.casefold() if text else "", deterministic=True)
        rows = self.db.execute(
            "SELECT article_id FROM (SELECT article_id, casefold(text) AS folded FROM article) WHERE "
            + " OR ".join("instr(folded, ?) > 0" for _ in wanted)
            + " ORDER BY article_id",
            wanted,
        )
        return [row["article_id"] for row in rows]

    def latest_results(self, article_ids: Iterable[str]) -> list[StoredResult]:
        """The latest result of each of these articles (those with none are left out)."""
        ids = list(dict.fromkeys(article_ids))
        found = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.db.execute(
                f"SELECT * FROM latest_result WHERE article_id IN ({','.join('?' * len(chunk))}) ORDER BY created_at",
                chunk,
            )
            found += [self._stored(row) for row in rows]
        return found

    # the death register (callers hold a transaction for writes)

    def add_death_evidence(self, rows: Iterable[tuple[str, str, str, str, int, int, int, int]]) -> None:
        """(name key, name, article id, kind, start, end, sentence start, sentence end) rows;
        evidence already recorded keeps its state, so a suppressed row stays suppressed."""
        now = utc_now()
        self.db.executemany(
            """INSERT OR IGNORE INTO death_evidence (name_key, name, article_id, kind, start, "end",
               sentence_start, sentence_end, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(*row, now) for row in rows],
        )

    def death_evidence(self, exclude_label: str) -> list[dict[str, Any]]:
        """Unsuppressed evidence with its sentence, from articles whose latest label is not
        ``exclude_label``, oldest article first."""
        rows = self.db.execute(
            """SELECT e.*, substr(a.text, e.sentence_start + 1, e.sentence_end - e.sentence_start) AS sentence
               FROM death_evidence e JOIN article a ON a.article_id = e.article_id
               JOIN latest_result l ON l.article_id = e.article_id
               WHERE e.suppressed_at IS NULL AND l.label != ?
               ORDER BY a.first_seen, e.article_id, e.start""",
            (exclude_label,),
        )
        return [dict(row) for row in rows]

    def death_desk_entries(self) -> dict[str, dict[str, Any]]:
        """The desk's own entries by name key."""
        return {row["name_key"]: dict(row) for row in self.db.execute("SELECT * FROM death_desk_entry")}

    def save_death_desk_entry(self, key: str, name: str, date: str | None, source: str | None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO death_desk_entry (name_key, name, date, source, added_at) VALUES (?, ?, ?, ?, ?)",
            (key, name, date, source, utc_now()),
        )

    def suppress_death(self, key: str) -> None:
        """Suppress a name's evidence for good and drop the desk's entry for it."""
        self.db.execute(
            "UPDATE death_evidence SET suppressed_at = ? WHERE name_key = ? AND suppressed_at IS NULL", (utc_now(), key)
        )
        self.db.execute("DELETE FROM death_desk_entry WHERE name_key = ?", (key,))

    # known fact-checks (callers hold a transaction for writes)

    def has_factchecks(self) -> bool:
        return self.db.execute("SELECT 1 FROM factcheck LIMIT 1").fetchone() is not None

    def save_factcheck(
        self,
        url: str,
        publisher: str | None,
        claim_reviewed: str,
        rating: str | None,
        claimant: str | None,
        date_published: str | None,
        appearances: list[str],
    ) -> bool:
        """Insert or update the check with this URL, and its FTS5 row; True when it is new."""
        row = self.db.execute("SELECT factcheck_id FROM factcheck WHERE url = ?", (url,)).fetchone()
        values = (publisher, claim_reviewed, rating, claimant, date_published, json.dumps(appearances), utc_now())
        if row is None:
            factcheck_id = self.db.execute(
                """INSERT INTO factcheck (url, publisher, claim_reviewed, rating, claimant, date_published,
                   appearances, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (url, *values),
            ).lastrowid
        else:
            factcheck_id = row["factcheck_id"]
            self.db.execute(
                """UPDATE factcheck SET publisher = ?, claim_reviewed = ?, rating = ?, claimant = ?,
                   date_published = ?, appearances = ?, imported_at = ? WHERE factcheck_id = ?""",
                (*values, factcheck_id),
            )
            self.db.execute("DELETE FROM factcheck_fts WHERE rowid = ?", (factcheck_id,))
        self.db.execute("INSERT INTO factcheck_fts (rowid, claim_reviewed) VALUES (?, ?)", (factcheck_id, claim_reviewed))
        return row is None

    def factchecks(self, ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
        """Stored checks (of these ids, or all), newest first."""
        if ids is None:
            rows = self.db.execute("SELECT * FROM factcheck ORDER BY date_published DESC, url")
        else:
            wanted = list(ids)
            rows = self.db.execute(
                f"SELECT * FROM factcheck WHERE factcheck_id IN ({','.join('?' * len(wanted))}) "
                "ORDER BY date_published DESC, url",
                wanted,
            )
        return [dict(row) for row in rows]

    def factcheck_search(self, query: str, limit: int) -> list[int]:
        """FTS5 rowids of the checks matching an FTS5 query, best BM25 first."""
        rows = self.db.execute(
            "SELECT rowid FROM factcheck_fts WHERE factcheck_fts MATCH ? ORDER BY bm25(factcheck_fts) LIMIT ?", (query, limit)
        )
        return [row[0] for row in rows]

    def factcheck_bm25(self, query: str, rowids: list[int]) -> dict[int, float]:
        """BM25 of an FTS5 query against each of these checks it matches."""
        rows = self.db.execute(
            f"SELECT rowid, bm25(factcheck_fts) FROM factcheck_fts WHERE factcheck_fts MATCH ? "
            f"AND rowid IN ({','.join('?' * len(rowids))})",
            (query, *rowids),
        )
        return {row[0]: row[1] for row in rows}

    def factcheck_claim(self, rowid: int) -> str:
        return self.db.execute("SELECT claim_reviewed FROM factcheck_fts WHERE rowid = ?", (rowid,)).fetchone()[0]

    def replace_factcheck_matches(self, article_id: str, matches: Iterable[tuple[str, int, float]]) -> None:
        """One article's matches as (target, fact-check id, score), replacing its old ones."""
        now = utc_now()
        self.db.execute("DELETE FROM factcheck_match WHERE article_id = ?", (article_id,))
        self.db.executemany(
            "INSERT OR REPLACE INTO factcheck_match (article_id, target, factcheck_id, score, matched_at) VALUES (?, ?, ?, ?, ?)",
            [(article_id, target, factcheck_id, score, now) for target, factcheck_id, score in matches],
        )

    def factcheck_matches(self) -> list[dict[str, Any]]:
        """Every stored match with its check, by article, best first."""
        rows = self.db.execute(
            """SELECT m.article_id, m.target, m.score, f.url, f.publisher, f.rating, f.claim_reviewed
               FROM factcheck_match m JOIN factcheck f ON f.factcheck_id = m.factcheck_id
               ORDER BY m.article_id, m.score DESC, f.url"""
        )
        return [dict(row) for row in rows]

    # the desk's verdicts and source lists

    def add_review(
        self, target: str, story_id: str | None, article_ids: list[str], verdict: str, note: str | None, by: str | None, at: str
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO review (target, story_id, article_ids, verdict, note, reviewed_by, reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (target, story_id, json.dumps(article_ids), verdict, note, by, at),
        )
        assert cursor.lastrowid is not None, "an INSERT sets lastrowid"
        return cursor.lastrowid

    def reviews(self) -> list[dict[str, Any]]:
        """Every review, oldest first, its ``article_ids`` a list."""
        rows = self.db.execute("SELECT * FROM review ORDER BY reviewed_at, review_id")
        return [{**dict(row), "article_ids": json.loads(row["article_ids"])} for row in rows]

    def first_seen(self) -> dict[str, str]:
        """When each article was first stored."""
        return {row["article_id"]: row["first_seen"] for row in self.db.execute("SELECT article_id, first_seen FROM article")}

    def latest_labels(self) -> dict[str, str]:
        """Each article's label in its latest result."""
        return {row["article_id"]: row["label"] for row in self.db.execute("SELECT article_id, label FROM latest_result")}

    def article_urls(self) -> dict[str, str]:
        """The URL of each article that has one."""
        return {
            row["article_id"]: row["url"] for row in self.db.execute("SELECT article_id, url FROM article WHERE url IS NOT NULL")
        }

    def save_sources(self, listed: Iterable[tuple[str, str]]) -> None:
        """(domain, standing) pairs; a domain listed before changes standing."""
        now = utc_now()
        self.db.executemany(
            "INSERT OR REPLACE INTO source_list (domain, standing, added_at) VALUES (?, ?, ?)",
            [(domain, standing, now) for domain, standing in listed],
        )

    def remove_sources(self, domains: Iterable[str]) -> int:
        return sum(self.db.execute("DELETE FROM source_list WHERE domain = ?", (domain,)).rowcount for domain in domains)

    def sources(self) -> list[tuple[str, str]]:
        """Every listed (domain, standing), by domain."""
        return [
            (row["domain"], row["standing"])
            for row in self.db.execute("SELECT domain, standing FROM source_list ORDER BY domain")
        ]

    def transaction(self, begin: str = "BEGIN"):
        """One transaction: committed on success, rolled back on an exception."""
        return _Transaction(self.db, begin, self.path)


class _Transaction:
    """A write: committed on success, rolled back on an exception. With the store's ``path``, a
    write SQLite refuses (disk full, busy past the timeout) is a StoreError naming the cause."""

    def __init__(self, db: sqlite3.Connection, begin: str, path: Path | None = None):
        self.db = db
        self.begin = begin
        self.path = path

    def __enter__(self) -> None:
        try:
            self.db.execute(self.begin)
        except sqlite3.OperationalError as error:
            raise self._refused(error) from None

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        except sqlite3.OperationalError as error:
            if exc_type is None:
                raise self._refused(error) from None
            # The rollback failed too (SQLite may have rolled back itself): the first error says why.
        if isinstance(exc, sqlite3.OperationalError):
            raise self._refused(exc) from None

    def _refused(self, error: sqlite3.OperationalError) -> Exception:
        return error if self.path is None else _write_error(self.path, error)


def _write_error(path: Path, error: sqlite3.Error) -> StoreError:
    message = str(error)
    if "full" in message:
        why = "the disk is full (free space, then re-run)"
    elif "locked" in message or "busy" in message:
        why = f"another process held the database longer than the {_BUSY_TIMEOUT_S:g} s busy timeout"
    else:
        why = message
    return StoreError(f"{path}: cannot write: {why} ({message})")


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that can only read ``path``: ``mode=ro``, or, on a read-only mount where
    SQLite cannot create the WAL index beside it, ``immutable=1`` (nothing can write there)."""
    if not path.exists():
        raise StoreError(f"{path}: no database there (check --db; `pipeline run` creates one)")
    if path.is_dir():
        raise StoreError(f"{path}: a folder, not a database (check --db)")
    uri = path.resolve().as_uri()
    try:
        db = _checked(sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None), path)
    except sqlite3.OperationalError:
        if os.access(path.parent, os.W_OK):
            raise
        db = _checked(sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None), path)
    return db


def _checked(db: sqlite3.Connection, path: Path) -> sqlite3.Connection:
    """Read the schema version, which fails on a file that is no SQLite database; refuse any other version."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    if version != SCHEMA_VERSION:
        db.close()
        newer = (
            "newer than this pipeline's: upgrade pipeline"
            if version > SCHEMA_VERSION
            else "older than this pipeline's: run `pipeline run` once to upgrade it"
        )
        raise StoreError(f"{path}: schema version {version} is {newer} ({SCHEMA_VERSION})")
    return db


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Run the schema steps this database lacks, each in its own transaction."""
    while (version := db.execute("PRAGMA user_version").fetchone()[0]) != SCHEMA_VERSION:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: schema version {version} is newer than this pipeline's ({SCHEMA_VERSION}): upgrade pipeline"
            )
        with _Transaction(db, "BEGIN IMMEDIATE"):
            # Another process may have run the step while this one waited for the lock.
            if db.execute("PRAGMA user_version").fetchone()[0] == version:
                for statement in _statements(MIGRATIONS[version]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")


def _statements(script: str) -> Iterator[str]:
    """The statements of an SQL script, one at a time (``executescript`` would commit the transaction)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""
    if statement.strip():
        yield statement
