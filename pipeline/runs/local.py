"""The in-process executor: a run's articles analysed concurrently on this process's asyncio loop.

Each finished article is committed the moment it completes, so a run killed at
any point loses nothing finished and a re-run pays only for the rest. One
article's failure is recorded and the batch goes on; a fatal provider error
(bad key, exhausted quota, unknown model) stops the run at once, cancelling the
requests in flight. ``limit`` (articles sent to the engine) and ``max_cost``
(estimated USD) stop a run cleanly: no new article starts, those in flight finish.

The offline engine is bound by this process's CPU, not by a provider: with
``settings.workers`` above 1 its articles are analysed in that many worker processes
(one core each) while this process reads, stores and runs the batch insight.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from pipeline import engines
from pipeline.desk.insight import PhaseProgress
from pipeline.engines import AnalysisEngine, OfflineEngine, make_engine
from pipeline.engines.answers import completion_problem
from pipeline.errors import ProviderError, StoreError
from pipeline.models import Analysis, Article, EngineAnswer
from pipeline.runs.article import analyse_article, analyse_completion
from pipeline.runs.budget import Budget, CostReservations
from pipeline.runs.inputs import RunInputs
from pipeline.runs.journal import AnswerJournal
from pipeline.runs.ledger import Failure, RunResult, recorded_run
from pipeline.settings import Settings
from pipeline.store import Store, cache_key

__all__ = ["run_batch"]


def _prompt_chars(engine: AnalysisEngine, article: Article, settings: Settings) -> int:
    prompt = getattr(engine, "prompt", None)
    if prompt is None:
        return len(article.text)
    return sum(len(message["content"]) for message in prompt.messages(article, settings.max_input_chars))


async def run_batch(
    paths: Sequence[str],
    settings: Settings,
    store: Store,
    *,
    refresh: bool = False,
    rescan: bool = False,
    engine: AnalysisEngine | None = None,
    budget: Budget | None = None,
    on_outcome: Callable[[str, str, str | None], None] | None = None,
    allow_empty: bool = False,
    retry_failed: bool = False,
    on_phase: PhaseProgress | None = None,
) -> RunResult:
    """Analyse every article under ``paths`` that has no result under the current key (see ``RunInputs``).

    SIGINT or SIGTERM (how cron, systemd and containers stop a job) stops the run
    cleanly: no article starts, those in flight are recorded as not finished, the run
    closes as interrupted; a second signal acts at once. Finding no article at all is
    an error (``empty``) unless ``allow_empty``: a nightly run pointed at a missing
    inbox must not pass unseen.

    An article that failed for a deterministic reason (``AnswerError``: schema after its
    re-ask, truncation, context, refusal, content filter) is tried again in at most
    ``settings.failed_retries`` later runs, then stays failed with its reason, unpaid,
    until ``retry_failed``; transient failures are always tried again. ``on_phase`` hears the
    phases of the batch insight that closes the run.
    """
    engine = engine or make_engine(settings)
    budget = budget or Budget()
    budget.check(engine.name, engine.identity.model)
    reservations = CostReservations(engine.name, engine.identity.model, settings.max_tokens)
    with recorded_run(
        store, engine.name, engine.identity.model, settings.night_clock, on_outcome, reservations, on_phase
    ) as ledger:
        result = ledger.result
        inputs = RunInputs(paths, ledger, engine.identity, refresh=refresh, rescan=rescan, min_file_age=settings.min_file_age)
        slots = asyncio.Semaphore(settings.concurrency)
        in_flight: dict[str, asyncio.Task] = {}
        waiting_duplicates: set[asyncio.Task] = set()
        abort = asyncio.Event()
        ledger.on_stop = abort.set
        loop = asyncio.get_running_loop()
        sent = 0

        def interrupt(signal_name: str) -> None:
            # A signal handler: the loop itself cancels the articles in flight, soon.
            result.interrupted = signal_name
            loop.call_soon_threadsafe(stop_in_flight)

        def stop_in_flight() -> None:
            abort.set()
            for task in pending():
                task.cancel()

        async def analyse_and_store(article: Article, key: str, recovered: dict[str, Any] | None) -> None:
            try:
                started = time.perf_counter()
                try:
                    if recovered is not None and isinstance(engine, engines.LLMEngine):
                        # An answer an earlier run paid for but could not store is stored now, without paying.
                        analysis, answers = await analyse_completion(
                            article, recovered, engine, engine.identity, engine.name, paid=False
                        )
                    elif workers is not None:
                        analysis, answers = await loop.run_in_executor(
                            workers, _analyse_offline, article, settings.fabrication_prior
                        )
                    else:
                        analysis, answers = await analyse_article(article, engine, settings.fabrication_prior)
                    latency_ms = int((time.perf_counter() - started) * 1000)
                    ledger.finished(article, key, engine.identity, analysis, answers, latency_ms)
                except ProviderError as error:
                    ledger.failed(article, key, Failure.of(error))
                except asyncio.CancelledError:
                    if result.fatal or result.interrupted:
                        why = result.fatal or f"interrupted by {result.interrupted}"
                        ledger.failed(article, key, Failure(f"not finished: the run stopped ({why})"))
                    raise
                except Exception as error:  # no task ends without its article's outcome
                    ledger.failed(article, key, Failure.unexpected(error))
            finally:
                slots.release()
                in_flight.pop(key, None)
                reservations.held.pop(key, None)

        async def after_first_copy(first: asyncio.Task, article: Article, key: str) -> None:
            await asyncio.wait([first])
            ledger.cached_if_stored(article, key)

        def pending() -> list[asyncio.Task]:
            return [*in_flight.values(), *waiting_duplicates]

        async def feed() -> None:
            """Start each article the cache lacks, while no stop is called."""
            nonlocal sent
            for article, key in inputs:
                if result.fatal or result.interrupted:
                    break
                if key in in_flight:
                    waiter = asyncio.create_task(after_first_copy(in_flight[key], article, key))
                    waiting_duplicates.add(waiter)
                    waiter.add_done_callback(waiting_duplicates.discard)
                    continue
                if ledger.given_up(article, key, settings.failed_retries, retry_failed):
                    continue
                await slots.acquire()
                next_cost = (
                    reservations.estimate(_prompt_chars(engine, article, settings)) if budget.max_cost is not None else 0.0
                )
                result.stopped = budget.stop_reason(sent, reservations.total + next_cost, result.cost)
                if result.fatal or result.stopped or result.interrupted:
                    slots.release()
                    break
                sent += 1
                reservations.hold(key, next_cost)
                recovered = journal.recovered_completion(key, usable) if key in journal.pending else None
                in_flight[key] = asyncio.create_task(analyse_and_store(article, key, recovered))

        journal = AnswerJournal(store.path, settings.journal_max_bytes, settings.journal_max_age_days)

        def usable(body: dict[str, Any]) -> bool:
            return completion_problem(body, settings.model, settings.model_aliases) is None

        if hasattr(engine, "on_raw"):  # only paid answers are journalled: an offline run never reads it
            journal.open(lambda key: store.has_result(key) or store.remembered_failure(key) is not None)
        ledger.journal = journal
        if hasattr(engine, "on_raw"):
            identity = engine.identity
            engine.on_raw = lambda article, phase, raw: journal.append(cache_key(article.article_id, identity), phase, raw)
        with _stop_on_signals(interrupt), _offline_workers(engine, settings.workers) as workers:
            try:
                try:
                    await feed()
                except StoreError as error:
                    ledger.store_broken(error)
                await _finish_or_abort(pending(), abort)
                if not result.store_refused:
                    inputs.index_read_files()
            finally:
                for task in pending():
                    task.cancel()
                journal.close()
    if not allow_empty:
        result.empty = inputs.empty_reason()
    return result


@contextmanager
def _offline_workers(engine: AnalysisEngine, workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """``workers`` processes for the offline engine's analysis, or None (one process, or an
    LLM engine, whose client is not the bound). Forked where the platform allows: the
    workers start with this process's imports and weights already loaded."""
    if workers <= 1 or not isinstance(engine, OfflineEngine):
        yield None
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_leave_signals_to_the_run)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_WORKER_LOOP: asyncio.AbstractEventLoop | None = None


def _leave_signals_to_the_run() -> None:
    """A worker ignores SIGINT and SIGTERM: the run hears them, stops, and shuts its workers down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _analyse_offline(article: Article, prior: float) -> tuple[Analysis, list[EngineAnswer]]:
    """One article through the offline engine, in a worker process (its own event loop, made once)."""
    global _WORKER_LOOP
    if _WORKER_LOOP is None:
        _WORKER_LOOP = asyncio.new_event_loop()
    return _WORKER_LOOP.run_until_complete(analyse_article(article, OfflineEngine(prior), prior))


async def _finish_or_abort(tasks: list[asyncio.Task], abort: asyncio.Event) -> None:
    """Wait for the tasks in flight, unless a fatal error or a signal comes first: then cancel them."""
    abort_waiter = asyncio.create_task(abort.wait())
    remaining = set(tasks)
    while remaining and not abort.is_set():
        _done, remaining = await asyncio.wait(remaining | {abort_waiter}, return_when=asyncio.FIRST_COMPLETED)
        remaining.discard(abort_waiter)
    abort_waiter.cancel()
    for task in remaining:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@contextmanager
def _stop_on_signals(stop: Callable[[str], None]) -> Iterator[None]:
    """Call ``stop`` with the signal's name on the first SIGINT or SIGTERM; the second gets the
    handler that was there before (KeyboardInterrupt, or the default: terminate)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def handler(number: int, _frame: object) -> None:
        for restored, old in previous.items():
            signal.signal(restored, old)
        stop(signal.Signals(number).name)

    for number in (signal.SIGINT, signal.SIGTERM):
        previous[number] = signal.signal(number, handler)
    try:
        yield
    finally:
        for restored, old in previous.items():
            signal.signal(restored, old)
