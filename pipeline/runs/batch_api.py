"""OpenAI Batch API mode: the same requests as the live path, at half the price, within 24 h.

``submit`` writes one chat-completion request per article the cache lacks
(``custom_id`` = the cache key), split into files at the provider's limits
(50,000 requests / 200 MB each), uploads them and creates the batches.
``status`` asks the provider how each open batch is doing. ``collect`` joins the
answers back by ``custom_id`` (they come back unordered), parses them with
instructor and verifies them with ``analyse_article`` exactly like the live path,
stores them under their cache keys, and records every request in the error file
(or missing from both files) as ``failed``: with no stored result, the next live
``pipeline run`` analyses it.

Batch state lives in the store's database, in ``batch_job`` and ``batch_item``
(``BatchJobs`` owns their queries), so a crashed ``submit`` or ``collect`` is seen by
the next one. An article in a batch not yet collected is never submitted again.
``collect`` records its run through the ledger every executor shares: the same
outcomes, the same failure memory (a deterministic failure is not paid for night
after night), the same closing step.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from typing import Any, Final

import openai
from pipeline.engines import LLMEngine, make_engine
from pipeline.engines.answers import answer_usage
from pipeline.engines.openai_client import classify_error, make_openai_client
from pipeline.errors import ConfigError, ProviderError
from pipeline.inputs import iter_articles
from pipeline.models import Article, CacheIdentity, SkippedInput, Usage
from pipeline.pricing import BATCH_ENGINE
from pipeline.runs.article import analyse_completion
from pipeline.runs.ledger import Failure, RunLedger, RunResult, recorded_run, retries_used_up
from pipeline.settings import Engine, LLMMode, Settings
from pipeline.store import ArticleRef, Store, cache_key, utc_now

__all__ = [
    "BATCH_ENGINE",
    "BatchJobs",
    "MAX_REQUESTS_PER_FILE",
    "MAX_BYTES_PER_FILE",
    "request_line",
    "split_request_lines",
    "submit",
    "status",
    "collect",
]

MAX_REQUESTS_PER_FILE = 50_000
MAX_BYTES_PER_FILE = 200 * 1024 * 1024
_ENDPOINT: Final = "/v1/chat/completions"
_FINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})
_LOG = logging.getLogger(__name__)


class BatchJobs:
    """The Batch API's jobs and their requests (tables ``batch_job``, ``batch_item``), through the store's connection."""

    def __init__(self, store: Store):
        self.store = store
        self.db = store.db

    def pending_keys(self) -> set[str]:
        """Cache keys of requests in a batch not yet collected."""
        rows = self.db.execute(
            "SELECT i.custom_id FROM batch_item i JOIN batch_job j USING (batch_id) WHERE j.collected_at IS NULL"
        )
        return {row[0] for row in rows}

    def record(self, batch_id: str, input_file_id: str, status: str, identity: str, items: list[tuple[Article, str]]) -> None:
        """Record a submitted batch and its requests (article, cache key) in one transaction."""
        now = utc_now()
        with self.store.transaction():
            self.db.execute(
                "INSERT INTO batch_job (batch_id, input_file_id, status, identity, requests, submitted_at) VALUES (?, ?, ?, ?, ?, ?)",
                (batch_id, input_file_id, status, identity, len(items), now),
            )
            for article, key in items:
                self.store.remember_article(article, now)
                self.db.execute(
                    "INSERT INTO batch_item (batch_id, custom_id, article_id, source_path, record_id) VALUES (?, ?, ?, ?, ?)",
                    (batch_id, key, article.article_id, article.source_path, article.record_id),
                )

    def open_ids(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT batch_id FROM batch_job WHERE collected_at IS NULL")]

    def update(self, batch_id: str, status: str, output_file_id: str | None, error_file_id: str | None) -> None:
        self.db.execute(
            "UPDATE batch_job SET status = ?, output_file_id = ?, error_file_id = ?, checked_at = ? WHERE batch_id = ?",
            (status, output_file_id, error_file_id, utc_now(), batch_id),
        )

    def all(self) -> list[dict[str, Any]]:
        """Every batch, newest first."""
        return [dict(row) for row in self.db.execute("SELECT * FROM batch_job ORDER BY submitted_at DESC, batch_id")]

    def to_collect(self) -> list[dict[str, Any]]:
        """Batches not yet collected that the provider has finished with, oldest first."""
        statuses = tuple(sorted(_FINAL_STATUSES))
        rows = self.db.execute(
            f"SELECT * FROM batch_job WHERE collected_at IS NULL AND status IN ({','.join('?' * len(statuses))}) "
            "ORDER BY submitted_at",
            statuses,
        )
        return [dict(row) for row in rows]

    def items(self, batch_id: str) -> dict[str, dict[str, Any]]:
        """The requests of one batch by cache key (``custom_id``)."""
        rows = self.db.execute("SELECT * FROM batch_item WHERE batch_id = ?", (batch_id,))
        return {row["custom_id"]: dict(row) for row in rows}

    def mark_collected(self, batch_id: str) -> None:
        self.db.execute("UPDATE batch_job SET collected_at = ? WHERE batch_id = ?", (utc_now(), batch_id))


def _llm_engine(settings: Settings) -> LLMEngine:
    if settings.resolved_engine is not Engine.llm:
        raise ConfigError("batch mode needs the LLM engine: set OPENAI_API_KEY or pass --base-url, and --model")
    if settings.mode is LLMMode.md_json:
        raise ConfigError("batch mode supports --mode tools, json_schema or json, not md_json")
    engine = make_engine(settings)
    assert isinstance(engine, LLMEngine)
    return engine


def request_line(article: Article, key: str, engine: LLMEngine) -> bytes:
    """One JSONL line of a batch input file: the live path's request for this article."""
    line = {"custom_id": key, "method": "POST", "url": _ENDPOINT, "body": engine.request_body(article)}
    return json.dumps(line, ensure_ascii=False).encode() + b"\n"


def split_request_lines(
    lines: Iterable[tuple[Article, bytes]],
    max_requests: int = MAX_REQUESTS_PER_FILE,
    max_bytes: int = MAX_BYTES_PER_FILE,
) -> Iterator[list[tuple[Article, bytes]]]:
    """Group request lines into files within the provider's limits, in order."""
    chunk: list[tuple[Article, bytes]] = []
    size = 0
    for article, line in lines:
        if chunk and (len(chunk) >= max_requests or size + len(line) > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append((article, line))
        size += len(line)
    if chunk:
        yield chunk


def _articles_to_submit(
    paths: Sequence[str], store: Store, engine: LLMEngine, refresh: bool, retry_failed: bool
) -> Iterator[tuple[Article, bytes]]:
    pending = BatchJobs(store).pending_keys()
    for item in iter_articles(paths, min_file_age=engine.settings.min_file_age):
        if isinstance(item, SkippedInput):
            continue
        key = cache_key(item.article_id, engine.identity)
        if key in pending or (not refresh and store.has_result(key)):
            continue
        if not retry_failed and retries_used_up(store, key, engine.settings.failed_retries):
            continue
        pending.add(key)
        yield item, request_line(item, key, engine)


async def _submit_files(
    client: openai.AsyncOpenAI, store: Store, chunks: Iterable[list[tuple[Article, bytes]]], identity: str
) -> list[dict[str, Any]]:
    submitted = []
    for number, chunk in enumerate(chunks):
        content = b"".join(line for _article, line in chunk)
        upload = await client.files.create(file=(f"pipeline-batch-{number}.jsonl", content), purpose="batch")
        batch = await client.batches.create(input_file_id=upload.id, endpoint=_ENDPOINT, completion_window="24h")
        items = [(article, json.loads(line)["custom_id"]) for article, line in chunk]
        BatchJobs(store).record(batch.id, batch.input_file_id, batch.status, identity, items)
        submitted.append({"batch_id": batch.id, "status": batch.status, "requests": len(chunk)})
    return submitted


def submit(
    paths: Sequence[str],
    settings: Settings,
    store: Store,
    *,
    refresh: bool = False,
    retry_failed: bool = False,
    client: openai.AsyncOpenAI | None = None,
    max_requests: int = MAX_REQUESTS_PER_FILE,
    max_bytes: int = MAX_BYTES_PER_FILE,
) -> list[dict[str, Any]]:
    """Submit every article under ``paths`` with no result (and not already in a batch); the new batches.
    An article whose deterministic failure has used up its retries (as ``run`` counts them) is
    left out until ``retry_failed``."""
    engine = _llm_engine(settings)
    client = client or make_openai_client(settings)
    identity = json.dumps(asdict(engine.identity), sort_keys=True)
    chunks = split_request_lines(_articles_to_submit(paths, store, engine, refresh, retry_failed), max_requests, max_bytes)
    try:
        return asyncio.run(_submit_files(client, store, chunks, identity))
    except openai.OpenAIError as error:
        raise classify_error(error, settings.api_key) from None


async def _refresh_jobs(client: openai.AsyncOpenAI, store: Store) -> None:
    jobs = BatchJobs(store)
    for batch in await asyncio.gather(*(client.batches.retrieve(batch_id) for batch_id in jobs.open_ids())):
        jobs.update(batch.id, batch.status, batch.output_file_id, batch.error_file_id)


def status(settings: Settings, store: Store, *, client: openai.AsyncOpenAI | None = None) -> list[dict[str, Any]]:
    """Ask the provider about every batch not yet collected, record and return every batch."""
    client = client or make_openai_client(settings)
    try:
        asyncio.run(_refresh_jobs(client, store))
    except openai.OpenAIError as error:
        raise classify_error(error, settings.api_key) from None
    return BatchJobs(store).all()


def _failure_reason(line: dict[str, Any]) -> str:
    response: dict[str, Any] = line["response"] if isinstance(line.get("response"), dict) else {}
    body: dict[str, Any] = response["body"] if isinstance(response.get("body"), dict) else {}
    found = line.get("error") or body.get("error") or {}
    error: dict[str, Any] = found if isinstance(found, dict) else {"message": str(found)}
    status_code = response.get("status_code")
    return f"batch request failed ({status_code or error.get('code') or 'error'}): {error.get('message', 'no message')}"[:500]


async def _read_file(client: openai.AsyncOpenAI, file_id: str | None) -> list[dict[str, Any]]:
    """The lines of one batch output or error file that name their request; every other line
    (no JSON object, no ``custom_id``) is logged and skipped: its request, if any, is then
    missing from the batch and fails as such."""
    if not file_id:
        return []
    content = await client.files.content(file_id)
    lines = []
    for number, text in enumerate(content.text.splitlines(), 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except ValueError:
            line = None
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
            _LOG.warning("batch file %s, line %d: no JSON object with a custom_id; skipped: %.80r", file_id, number, text)
            continue
        lines.append(line)
    return lines


def _answer_body(line: dict[str, Any]) -> tuple[Any, str | None]:
    """The answer of one output line (whatever it is: the engine says what is wrong with it),
    or why the line holds none."""
    response = line.get("response")
    if not isinstance(response, dict):
        return None, f"the batch output line has no response object: {str(response)[:80]!r}"
    if response.get("status_code") != 200:
        return None, _failure_reason(line)
    return response.get("body"), None


async def _collect_job(
    job: dict[str, Any], jobs: BatchJobs, client: openai.AsyncOpenAI, live: LLMEngine, ledger: RunLedger
) -> None:
    """Record every request of one finished batch in the run: verified and stored, or failed.
    The batch is marked collected only when every outcome is written."""
    store = ledger.store
    identity = CacheIdentity(**json.loads(job["identity"]))
    items = jobs.items(job["batch_id"])
    answered = await _read_file(client, job["output_file_id"])
    failed_lines = await _read_file(client, job["error_file_id"])
    reasons = {line["custom_id"]: _failure_reason(line) for line in failed_lines}
    for line in answered:
        key = line["custom_id"]
        item = items.get(key)
        if item is None or key in reasons:
            continue
        body, no_answer = _answer_body(line)
        if no_answer is not None:
            reasons[key] = no_answer
            continue
        del items[key]
        article = store.article(ArticleRef(item["article_id"], item["source_path"], item["record_id"]))
        assert article is not None, "a batch item's article is stored with the item"
        try:
            analysis, answers = await analyse_completion(article, body, live, identity, BATCH_ENGINE)
        except ProviderError as error:
            # The batch answer was paid at the batch rate; its re-asks went out live.
            ledger.failed(article, key, Failure.of(error), answered=_batch_usage(body, article, live))
        except Exception as error:  # an answer no check foresaw must not keep the batch uncollected
            ledger.failed(article, key, Failure.unexpected(error), answered=_batch_usage(body, article, live))
        else:
            ledger.finished(article, key, identity, analysis, answers, latency_ms=0)
        if ledger.result.fatal:
            return
    for key, item in items.items():
        if not store.has_result(key):
            ref = ArticleRef(item["article_id"], item["source_path"], item["record_id"])
            ledger.failed(ref, key, Failure(reasons.get(key, f"no answer in batch {job['batch_id']} ({job['status']})")))
        if ledger.result.fatal:
            return
    jobs.mark_collected(job["batch_id"])


def _batch_usage(body: Any, article: Article, live: LLMEngine) -> Usage:
    """What a batch answer reports it cost, counts it does not honestly give at its request's estimate."""
    return answer_usage(body, live.estimate(live.prompt.messages(article, live.settings.max_input_chars)))


async def _collect(settings: Settings, store: Store, client: openai.AsyncOpenAI, live: LLMEngine) -> RunResult | None:
    await _refresh_jobs(client, store)
    jobs = BatchJobs(store)
    to_collect = jobs.to_collect()
    if not to_collect:
        return None
    with recorded_run(store, BATCH_ENGINE, live.identity.model, settings.night_clock) as ledger:
        try:
            for job in to_collect:
                await _collect_job(job, jobs, client, live, ledger)
                if ledger.result.fatal:
                    break
        except openai.OpenAIError as error:  # reading a batch's files
            ledger.result.fatal = str(classify_error(error, settings.api_key))
    return ledger.result


def collect(settings: Settings, store: Store, *, client: openai.AsyncOpenAI | None = None) -> RunResult | None:
    """Store the answers of every finished batch as a run; what failed is left for the live path.

    None, and no run recorded, when no batch has finished since the last collect: an empty
    run would become the run ``report`` shows.
    """
    live = _llm_engine(settings)
    client = client or make_openai_client(settings)
    try:
        return asyncio.run(_collect(settings, store, client, live))
    except openai.OpenAIError as error:  # asking about the batches, before any run starts
        raise classify_error(error, settings.api_key) from None
