"""The Ray executor: a run's analysis and verification as Ray Data ``map_batches`` (``pipeline[ray]``).

The driver (this process) reads the inputs and looks every article up in the cache
first (``RunInputs``), so only uncached articles travel. Workers run the pipeline's own
engine and ``analyse_article`` (retries, Retry-After, re-asks, verification) and send each
result back as JSON; the driver alone writes to the store, one finished article per
transaction, as batches come back. Requests to one endpoint share one limiter actor, so
the provider sees one client's concurrency and one client's back-off however many
workers there are.

A killed worker's batch is retried by Ray; only articles whose results reached the
driver are stored, and those are never sent again, so nothing finished is lost or paid
twice (answers the dead worker had received are, like a killed run's, paid again).

Use it for self-hosted fleets (vLLM replicas) and millions of articles a night, where
one process's client CPU is the limit. For hosted models the Batch API (``pipeline
batch``) is cheaper and needs no cluster.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter

from pipeline.errors import ConfigError, ProviderError
from pipeline.models import Analysis, Article, EngineAnswer, Usage
from pipeline.engines.ratelimit import AdaptiveLimiter
from pipeline.desk.insight import PhaseProgress
from pipeline.engines import make_engine
from pipeline.runs.article import analyse_article
from pipeline.runs.budget import Budget
from pipeline.runs.inputs import RunInputs
from pipeline.runs.ledger import Failure, RunLedger, RunResult, recorded_run
from pipeline.settings import Engine, Settings
from pipeline.store import CacheIdentity, Store

__all__ = ["EndpointLimiter", "analyse_batch", "run_with_ray"]

_WINDOW = 20_000
_LEASE_MARGIN_SECONDS = 10.0
_ANSWERS = TypeAdapter(list[EngineAnswer])
_RATE_LIMIT_HEADERS = ("x-ratelimit-remaining-", "x-ratelimit-reset-", "x-ratelimit-limit-")


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray: pip install 'pipeline[ray]'") from None
    return ray


class EndpointLimiter:
    """One ``AdaptiveLimiter`` for one endpoint, held in a Ray actor that every worker asks.

    Each slot is a lease: a worker killed while holding slots never releases them, so a
    slot held longer than ``lease_seconds`` (longer than any request may take) is taken back.
    """

    def __init__(self, maximum: int, lease_seconds: float):
        self.limiter = AdaptiveLimiter(maximum)
        self.lease_seconds = lease_seconds
        self.leases: dict[int, float] = {}
        self._reclaiming: asyncio.Task | None = None

    async def acquire(self) -> int:
        if self._reclaiming is None:
            self._reclaiming = asyncio.create_task(self._reclaim_forever())
        ticket = await self.limiter.acquire()
        self.leases[ticket] = time.monotonic()
        return ticket

    async def release(self, ticket: int) -> None:
        if self.leases.pop(ticket, None) is not None:
            self.limiter.release()

    async def succeeded(self) -> None:
        self.limiter.succeeded()

    async def rate_limited(self, ticket: int, retry_after: float | None) -> None:
        self.limiter.rate_limited(ticket, retry_after)

    async def observe_headers(self, headers: dict[str, str]) -> None:
        self.limiter.observe_headers(headers)

    async def _reclaim_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 4)
            expired = time.monotonic() - self.lease_seconds
            for ticket in [ticket for ticket, since in self.leases.items() if since < expired]:
                await self.release(ticket)


class _SharedLimiter:
    """The limiter interface the engine uses, forwarded to an ``EndpointLimiter`` actor.

    Only ``acquire`` waits; the rest are sent without waiting, in order (Ray runs one
    caller's calls to an actor in the order they were made). ``limit`` and ``in_flight``
    are this worker's view, for choosing among a fleet's endpoints.
    """

    def __init__(self, actor: Any, maximum: int):
        self.actor = actor
        self.limit = float(maximum)
        self.in_flight = 0
        self._tickets: deque[int] = deque()

    async def acquire(self) -> int:
        self.in_flight += 1
        try:
            ticket = await self.actor.acquire.remote()
        except BaseException:
            self.in_flight -= 1
            raise
        self._tickets.append(ticket)
        return ticket

    def release(self) -> None:
        # The oldest of this worker's leases: the one held longest by whichever request.
        self.in_flight -= 1
        self.actor.release.remote(self._tickets.popleft())

    def succeeded(self) -> None:
        self.actor.succeeded.remote()

    def rate_limited(self, ticket: int, retry_after: float | None) -> None:
        self.actor.rate_limited.remote(ticket, retry_after)

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        quota = {name: value for name, value in headers.items() if name.lower().startswith(_RATE_LIMIT_HEADERS)}
        if quota:
            self.actor.observe_headers.remote(quota)


# Per endpoint URL: the name of its limiter actor for this run, and the actor.
Limiters = dict[str | None, tuple[str, Any]]

# In each worker process: one event loop and one engine for the current run, reused across
# its batches (the HTTP client's connections belong to the loop they were opened on).
_WORKER_STATE: dict[tuple[Settings, tuple[str, ...]], tuple[asyncio.AbstractEventLoop, Any]] = {}


def _worker_engine(settings: Settings, limiters: Limiters) -> tuple[asyncio.AbstractEventLoop, Any]:
    state = (settings, tuple(name for name, _actor in limiters.values()))
    if state not in _WORKER_STATE:
        for loop, _engine in _WORKER_STATE.values():
            loop.close()
        _WORKER_STATE.clear()
        engine = make_engine(settings, limiter_for=lambda url: _SharedLimiter(limiters[url][1], settings.concurrency))
        _WORKER_STATE[state] = (asyncio.new_event_loop(), engine)
    return _WORKER_STATE[state]


async def _analyse_one(article: Article, engine: Any, prior: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        analysis, answers = await analyse_article(article, engine, prior)
    except Exception as error:  # a worker never dies of one answer: the driver records its failure
        # The ledger's failure, sent to the driver, which records (and remembers) it as a local run does.
        failure = Failure.of(error) if isinstance(error, ProviderError) else Failure.unexpected(error)
        return {
            "status": "fatal" if failure.fatal else "failed",
            "reason": failure.reason,
            "kind": failure.kind,
            "usage": failure.usage.model_dump_json() if failure.usage else None,
            "analysis": None,
            "answers": None,
            "latency_ms": 0,
        }
    return {
        "status": "ok",
        "reason": None,
        "kind": None,
        "usage": None,
        "analysis": analysis.model_dump_json(),
        "answers": _ANSWERS.dump_json(answers).decode(),
        "latency_ms": int((time.perf_counter() - started) * 1000),
    }


def analyse_batch(batch: dict[str, Any], settings: Settings, limiters: Limiters) -> dict[str, list[Any]]:
    """The ``map_batches`` function: analyse and verify a batch of articles concurrently.

    ``limiters``: each endpoint's ``EndpointLimiter`` actor (none for the offline engine)."""
    loop, engine = _worker_engine(settings, limiters)
    articles = [Article.model_validate_json(text) for text in batch["article"]]

    async def analyse_all() -> list[dict[str, Any]]:
        return await asyncio.gather(*(_analyse_one(article, engine, settings.fabrication_prior) for article in articles))

    outcomes = loop.run_until_complete(analyse_all())
    columns: dict[str, list[Any]] = {"key": list(batch["key"])}
    for name in ("status", "reason", "kind", "usage", "analysis", "answers", "latency_ms"):
        columns[name] = [outcome[name] for outcome in outcomes]
    return columns


def _analyse_window(
    ray: Any,
    first: dict[str, Article],
    settings: Settings,
    limiters: Limiters,
    batch_size: int,
    ledger: RunLedger,
    identity: CacheIdentity,
) -> None:
    """Send one window of uncached articles through the workers; store each result as it returns.

    On a fatal provider error the window's unreturned articles fail as not finished."""
    items = [{"key": key, "article": article.model_dump_json()} for key, article in first.items()]
    blocks = -(-len(items) // batch_size)
    dataset = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
        analyse_batch, batch_size=batch_size, fn_kwargs={"settings": settings, "limiters": limiters}
    )
    unreturned = dict(first)
    result = ledger.result
    try:
        for row in dataset.iter_rows():
            _record_row(row, unreturned.pop(row["key"]), ledger, identity)
            if result.fatal:
                break
    except Exception as error:  # the job itself failed: what came back is stored, the rest fails with why
        result.crashed = result.crashed or f"the Ray job failed ({type(error).__name__}: {str(error)[:300]})"
    if result.fatal or result.crashed:
        for key, article in unreturned.items():
            ledger.failed(article, key, Failure(f"not finished: the run stopped ({result.fatal or result.crashed})"))


def _record_row(row: dict[str, Any], article: Article, ledger: RunLedger, identity: CacheIdentity) -> None:
    key = row["key"]
    if row["status"] == "ok":
        ledger.finished(
            article,
            key,
            identity,
            Analysis.model_validate_json(row["analysis"]),
            _ANSWERS.validate_json(row["answers"]),
            int(row["latency_ms"]),
        )
    else:
        usage = Usage.model_validate_json(row["usage"]) if row["usage"] else None
        ledger.failed(article, key, Failure(row["reason"], usage, row["kind"], fatal=row["status"] == "fatal"))


_NAMESPACE = "pipeline"


def _limiter_actors(ray: Any, settings: Settings, run_id: int) -> Limiters:
    """Start one limiter actor per endpoint for this run (none for the offline engine)."""
    if settings.resolved_engine is not Engine.llm:
        return {}
    actor = ray.remote(EndpointLimiter)
    limiters: Limiters = {}
    for url in settings.endpoints:
        name = f"limiter:{run_id}:{url or 'default'}"
        limiters[url] = (
            name,
            actor.options(name=name, namespace=_NAMESPACE, max_concurrency=10_000).remote(
                settings.concurrency, settings.timeout + _LEASE_MARGIN_SECONDS
            ),
        )
    return limiters


def run_with_ray(
    paths: Sequence[str],
    settings: Settings,
    store: Store,
    *,
    address: str | None = None,
    refresh: bool = False,
    rescan: bool = False,
    budget: Budget | None = None,
    on_outcome: Callable[[str, str, str | None], None] | None = None,
    batch_size: int | None = None,
    allow_empty: bool = False,
    retry_failed: bool = False,
    on_phase: PhaseProgress | None = None,
) -> RunResult:
    """Analyse every article under ``paths`` without a stored result, in Ray Data workers.

    ``address``: a running cluster (``auto`` or ``ray://host:port``); None starts a local
    Ray (or uses the one this process already started). ``batch_size`` articles go to a
    worker at a time (default: ``settings.concurrency``, enough to keep the shared limiter busy).
    The ledger, failure memory, ``allow_empty`` and the store's lock are the local run's (``run_batch``).
    """
    budget = budget or Budget()
    if budget.max_cost is not None:
        raise ConfigError(
            "--max-cost needs the in-process executor: the Ray executor cannot stop batches already sent to workers"
        )
    ray = _ray()
    engine = make_engine(settings)
    budget.check(engine.name, engine.identity.model)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    started_ray = not ray.is_initialized()
    if started_ray:
        ray.init(address=address, namespace=_NAMESPACE, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        with recorded_run(
            store, engine.name, engine.identity.model, settings.night_clock, on_outcome, on_phase=on_phase
        ) as ledger:
            result = ledger.result
            limiters = _limiter_actors(ray, settings, result.run_id)
            run_inputs = RunInputs(
                paths, ledger, engine.identity, refresh=refresh, rescan=rescan, min_file_age=settings.min_file_age
            )
            inputs = iter(run_inputs)
            sent = 0
            while not (result.fatal or result.crashed):
                room = _WINDOW if budget.limit is None else min(_WINDOW, budget.limit - sent)
                window = list(itertools.islice(inputs, room))
                if not window:
                    if room == 0 and next(inputs, None) is not None:
                        result.stopped = budget.stop_reason(sent, 0, result.cost)
                    break
                first: dict[str, Article] = {}
                copies = []
                for article, key in window:
                    if ledger.given_up(article, key, settings.failed_retries, retry_failed):
                        continue
                    if key in first:
                        copies.append((article, key))
                    else:
                        first[key] = article
                sent += len(first)
                _analyse_window(ray, first, settings, limiters, batch_size or settings.concurrency, ledger, engine.identity)
                for article, key in copies:
                    ledger.cached_if_stored(article, key)
            if not result.store_refused:
                run_inputs.index_read_files()
    finally:
        if started_ray:
            ray.shutdown()
    if not allow_empty:
        result.empty = run_inputs.empty_reason()
    return result
