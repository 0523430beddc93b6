"""The SQLite store: articles, results under their cache keys, runs and outcomes.

WAL mode, each result in its own transaction, so a finished article survives a
crash at any later point and readers (report, export) work while a run writes.
The tables are plain and named, with a view per concept (``articles``,
``quotes``, ``claims``, ``runs``), so Datasette and sqlite-utils open it cleanly.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cached_property
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import RunLockedError, StoreError
from .models import Analysis, Article, EngineAnswer, Usage
from .sources import FileStamp

__all__ = ["CacheIdentity", "StoredResult", "ArticleRef", "Store", "cache_key", "utc_now"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS article (
    article_id TEXT PRIMARY KEY,
    title TEXT,
    url TEXT,
    published TEXT,
    text TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS article_source (
    article_id TEXT NOT NULL REFERENCES article(article_id),
    source_path TEXT NOT NULL,
    record_id TEXT NOT NULL DEFAULT '',
    last_seen TEXT NOT NULL,
    PRIMARY KEY (article_id, source_path, record_id)
);
CREATE TABLE IF NOT EXISTS result (
    cache_key TEXT PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES article(article_id),
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    mode TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    schema_hash TEXT NOT NULL,
    params TEXT NOT NULL,
    label TEXT NOT NULL,
    confidence REAL NOT NULL,
    analysis TEXT NOT NULL,
    raw_responses TEXT NOT NULL,
    requests INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    run_id INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS result_article ON result(article_id, created_at);
CREATE TABLE IF NOT EXISTS run (
    run_id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    pid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outcome (
    run_id INTEGER NOT NULL REFERENCES run(run_id),
    source_path TEXT NOT NULL,
    record_id TEXT,
    article_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('ok', 'cached', 'failed', 'skipped')),
    reason TEXT,
    cache_key TEXT,
    requests INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outcome_run ON outcome(run_id, status);
CREATE TABLE IF NOT EXISTS source_file (
    source_path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    articles TEXT NOT NULL,
    indexed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lock (
    name TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    run_id INTEGER,
    acquired_at TEXT NOT NULL
);
CREATE VIEW IF NOT EXISTS latest_result AS
    SELECT * FROM result AS r
    WHERE r.created_at = (SELECT MAX(created_at) FROM result WHERE article_id = r.article_id);
CREATE VIEW IF NOT EXISTS articles AS
    SELECT a.article_id, a.title, a.url, a.published, a.first_seen,
           (SELECT source_path FROM article_source s WHERE s.article_id = a.article_id
            ORDER BY last_seen DESC LIMIT 1) AS source_path,
           l.label, l.confidence, l.engine, l.model, l.prompt_version, l.created_at AS analysed_at,
           json_array_length(l.analysis, '$.quotes') AS quotes,
           json_array_length(l.analysis, '$.rejected_quotes') AS rejected_quotes,
           json_array_length(l.analysis, '$.claims') AS claims
    FROM article a LEFT JOIN latest_result l ON l.article_id = a.article_id;
CREATE VIEW IF NOT EXISTS quotes AS
    SELECT l.article_id, l.cache_key,
           json_extract(q.value, '$.speaker') AS speaker,
           json_extract(q.value, '$.speaker_kind') AS speaker_kind,
           json_extract(q.value, '$.text') AS text,
           json_extract(q.value, '$.cue') AS cue,
           json_extract(q.value, '$.channel') AS channel,
           json_extract(q.value, '$.start') AS start,
           json_extract(q.value, '$.end') AS "end"
    FROM latest_result l, json_each(l.analysis, '$.quotes') q;
CREATE VIEW IF NOT EXISTS claims AS
    SELECT l.article_id, l.cache_key,
           json_extract(c.value, '$.event') AS event,
           json_extract(c.value, '$.who') AS who,
           json_extract(c.value, '$.when') AS "when",
           json_extract(c.value, '$.where') AS "where",
           json_extract(c.value, '$.attributed_to') AS attributed_to,
           json_extract(c.value, '$.why') AS why,
           json_extract(c.value, '$.check_with') AS check_with,
           json_extract(c.value, '$.priority') AS priority
    FROM latest_result l, json_each(l.analysis, '$.claims') c;
CREATE VIEW IF NOT EXISTS runs AS
    SELECT r.run_id, r.started_at, r.ended_at, r.status, r.engine, r.model,
           SUM(o.status = 'ok') AS ok, SUM(o.status = 'failed') AS failed,
           SUM(o.status = 'cached') AS cached, SUM(o.status = 'skipped') AS skipped,
           COALESCE(SUM(o.requests), 0) AS requests,
           COALESCE(SUM(o.input_tokens), 0) AS input_tokens,
           COALESCE(SUM(o.output_tokens), 0) AS output_tokens
    FROM run r LEFT JOIN outcome o ON o.run_id = r.run_id
    GROUP BY r.run_id;
"""


_KEYS_PER_QUERY = 500
_OUTCOME_COLUMNS = (
    "run_id, source_path, record_id, article_id, status, reason, cache_key, requests, input_tokens, output_tokens, at"
)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class CacheIdentity:
    """Everything besides the article that decides an answer."""

    engine: str
    model: str
    mode: str
    prompt_version: str
    prompt_hash: str
    schema_hash: str
    params: dict[str, Any]

    def params_json(self) -> str:
        return json.dumps(self.params, sort_keys=True)

    @cached_property
    def _key_tail(self) -> str:
        """The JSON array of ``cache_key`` after its first element, encoded once per identity."""
        parts = [self.engine, self.model, self.mode, self.prompt_version, self.prompt_hash, self.schema_hash,
                 self.params_json()]
        return json.dumps(parts)[1:]


def cache_key(article_id: str, identity: CacheIdentity) -> str:
    """Hash of article, prompt, schema, model, mode and generation parameters.

    The hashed text is the JSON array ``[article_id, engine, model, mode, prompt_version,
    prompt_hash, schema_hash, params_json]``: a JSON array, not a joined string, so no
    separator a model name could contain, and lone surrogates from undecodable
    command-line bytes are escaped, not a crash.
    """
    return hashlib.sha256(f"[{json.dumps(article_id)}, {identity._key_tail}".encode()).hexdigest()


@dataclass(frozen=True)
class ArticleRef:
    """A stored article as seen again in a source, without its text (the store has it)."""

    article_id: str
    source_path: str
    record_id: str | None


@dataclass(frozen=True)
class StoredResult:
    """One stored analysis with its provenance, as ``show`` and ``export`` give it."""

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

    def to_record(self) -> dict[str, Any]:
        """The stable export shape (documented in README)."""
        return {
            "article_id": self.article.article_id,
            "title": self.article.title,
            "url": self.article.url,
            "published": self.article.published,
            "sources": self.sources,
            **self.analysis.model_dump(mode="json", exclude={"article_id"}),
            **asdict(self.identity),
            "usage": {
                "requests": self.requests,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
            },
            "latency_ms": self.latency_ms,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "cache_key": self.cache_key,
        }


class Store:
    """A connection to the pipeline's SQLite database."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot open the database ({error})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # runs and the lock

    def start_run(self, engine: str, model: str) -> int:
        """Record a new run and take the database's lock (a dead holder's lock is taken over)."""
        with self.transaction("BEGIN IMMEDIATE"):
            holder = self.db.execute("SELECT pid, run_id FROM lock WHERE name = 'run'").fetchone()
            if holder and holder["pid"] != os.getpid() and _process_alive(holder["pid"]):
                raise RunLockedError(
                    f"{self.path}: run {holder['run_id']} (pid {holder['pid']}) is still running"
                )
            if holder:
                self.db.execute(
                    "UPDATE run SET status = 'interrupted', ended_at = ? WHERE run_id = ? AND ended_at IS NULL",
                    (utc_now(), holder["run_id"]),
                )
            run_id = self.db.execute(
                "INSERT INTO run (started_at, status, engine, model, pid) VALUES (?, 'running', ?, ?, ?)",
                (utc_now(), engine, model, os.getpid()),
            ).lastrowid
            self.db.execute(
                "INSERT OR REPLACE INTO lock (name, pid, run_id, acquired_at) VALUES ('run', ?, ?, ?)",
                (os.getpid(), run_id, utc_now()),
            )
        return int(run_id)

    def finish_run(self, run_id: int, status: str) -> None:
        with self.transaction():
            self.db.execute("UPDATE run SET ended_at = ?, status = ? WHERE run_id = ?", (utc_now(), status, run_id))
            self.db.execute("DELETE FROM lock WHERE name = 'run' AND run_id = ?", (run_id,))

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM runs ORDER BY run_id DESC LIMIT ?", (limit,))
        return [dict(row) for row in rows]

    def run_summary(self, run_id: int) -> dict[str, Any]:
        row = self.db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return dict(row) if row else {}

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
    ) -> None:
        """Record what happened to one input in this run (``usage``: what its failed attempts cost)."""
        with self.transaction():
            self._insert_outcome(run_id, source_path, record_id, article_id, status, reason, key, usage)

    def save_result(
        self,
        run_id: int,
        article: Article,
        key: str,
        identity: CacheIdentity,
        analysis: Analysis,
        answers: list[EngineAnswer],
        latency_ms: int,
    ) -> None:
        """Commit one finished article: article, source, result and outcome in one transaction."""
        now = utc_now()
        usage = Usage(
            requests=sum(answer.usage.requests for answer in answers),
            input_tokens=sum(answer.usage.input_tokens for answer in answers),
            output_tokens=sum(answer.usage.output_tokens for answer in answers),
        )
        raw = json.dumps([raw for answer in answers for raw in answer.raw_responses])
        with self.transaction():
            self.remember_article(article, now)
            self.db.execute(
                """INSERT OR REPLACE INTO result (cache_key, article_id, engine, model, mode, prompt_version,
                   prompt_hash, schema_hash, params, label, confidence, analysis, raw_responses, requests,
                   input_tokens, output_tokens, latency_ms, run_id, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    key, article.article_id, identity.engine, identity.model, identity.mode,
                    identity.prompt_version, identity.prompt_hash, identity.schema_hash,
                    identity.params_json(), analysis.label.value, analysis.confidence,
                    analysis.model_dump_json(), raw, usage.requests, usage.input_tokens, usage.output_tokens,
                    latency_ms, run_id, now,
                ),
            )
            self._insert_outcome(
                run_id, article.source_path, article.record_id, article.article_id, "ok", None, key, usage
            )

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

    def record_cached(self, run_id: int, cached: list[tuple[Article | ArticleRef, str]]) -> None:
        """Record articles served from the cache (article or reference, cache key) in one transaction.

        The runner hands these over in blocks: a cached outcome is a ledger line, not
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
            chunk = values[start:start + _KEYS_PER_QUERY]
            found.update(row[0] for row in self.db.execute(query.format(marks=", ".join("?" * len(chunk))), chunk))
        return found

    def article(self, ref: ArticleRef) -> Article | None:
        """The stored article ``ref`` names, as seen at ``ref``'s source."""
        row = self.db.execute("SELECT * FROM article WHERE article_id = ?", (ref.article_id,)).fetchone()
        if row is None:
            return None
        return Article(article_id=row["article_id"], text=row["text"], title=row["title"], url=row["url"],
                       published=row["published"], source_path=ref.source_path, record_id=ref.record_id)

    # the inbox index: files whose stamp is unchanged are not read again

    def source_index(self) -> dict[str, tuple[FileStamp, str]]:
        """Every indexed file: its stamp and its articles as JSON ``[[article_id, record_id], ...]``."""
        rows = self.db.execute("SELECT source_path, size, mtime_ns, inode, articles FROM source_file")
        return {row[0]: (FileStamp(row[1], row[2], row[3]), row[4]) for row in rows}

    def index_files(self, files: list[tuple[str, FileStamp, list[tuple[str, str | None]]]]) -> None:
        """Index files read whole (path, stamp, its articles' ids and record ids), each only
        when every one of its articles is in the store, so the index can stand in for it."""
        now = utc_now()
        with self.transaction():
            for path, stamp, articles in files:
                ids = list({article_id for article_id, _record_id in articles})
                if len(self._present("SELECT article_id FROM article WHERE article_id IN ({marks})", ids)) != len(ids):
                    self.db.execute("DELETE FROM source_file WHERE source_path = ?", (path,))
                    continue
                self.db.execute(
                    "INSERT OR REPLACE INTO source_file (source_path, size, mtime_ns, inode, articles, indexed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (path, stamp.size, stamp.mtime_ns, stamp.inode, json.dumps(articles), now),
                )

    def _insert_outcome(self, run_id, source_path, record_id, article_id, status, reason, key, usage) -> None:
        self.db.execute(
            f"INSERT INTO outcome ({_OUTCOME_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id, source_path, record_id, article_id, status, reason, key,
                usage.requests if usage else 0,
                usage.input_tokens if usage else 0,
                usage.output_tokens if usage else 0,
                utc_now(),
            ),
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
        """Latest result per article, or the results a run touched: analysed or cached,
        or with ``analysed_only`` just those the run itself produced."""
        if run_id is None:
            query, params = "SELECT * FROM latest_result ORDER BY created_at", ()
        else:
            statuses = "('ok')" if analysed_only else "('ok', 'cached')"
            query = f"""SELECT r.* FROM result r JOIN (SELECT DISTINCT cache_key FROM outcome
                       WHERE run_id = ? AND cache_key IS NOT NULL AND status IN {statuses}) o
                       ON o.cache_key = r.cache_key ORDER BY r.created_at"""
            params = (run_id,)
        for row in self.db.execute(query, params):
            yield self._stored(row)

    def _stored(self, row: sqlite3.Row) -> StoredResult:
        article_row = self.db.execute("SELECT * FROM article WHERE article_id = ?", (row["article_id"],)).fetchone()
        sources = [
            {"source_path": source["source_path"], "record_id": source["record_id"] or None}
            for source in self.db.execute(
                "SELECT source_path, record_id FROM article_source WHERE article_id = ? ORDER BY last_seen",
                (row["article_id"],),
            )
        ]
        article = Article(
            article_id=article_row["article_id"],
            text=article_row["text"],
            title=article_row["title"],
            url=article_row["url"],
            published=article_row["published"],
            source_path=sources[-1]["source_path"] if sources else "",
            record_id=sources[-1]["record_id"] if sources else None,
        )
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

    def transaction(self, begin: str = "BEGIN"):
        """One transaction: committed on success, rolled back on an exception."""
        return _Transaction(self.db, begin)


class _Transaction:
    def __init__(self, db: sqlite3.Connection, begin: str):
        self.db = db
        self.begin = begin

    def __enter__(self) -> None:
        self.db.execute(self.begin)

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
