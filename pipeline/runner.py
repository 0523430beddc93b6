"""The batch: read inputs as a stream, analyse what the cache lacks, verify, store.

Each finished article is committed the moment it completes, so a run killed at
any point loses nothing finished and a re-run pays only for the rest. One
article's failure is recorded and the batch goes on; a fatal provider error
(bad key, exhausted quota, unknown model) stops the run at once, cancelling the
requests in flight. ``limit`` (articles sent to the engine) and ``max_cost``
(estimated USD) stop a run cleanly: no new article starts, those in flight finish.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import contextmanager
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import AnswerError, ConfigError, FatalProviderError, ProviderError
from .insight import update_batch_insight
from .engines import AnalysisEngine, make_engine
from .models import Analysis, Article, CacheIdentity, EngineAnswer, QuoteDraft, SkippedInput, Usage, VerifiedQuote
from .offline import compute_signals
from .pricing import run_cost
from .settings import Settings
from .sources import FileRead, FileStamp, UnchangedFile, iter_articles
from .store import ArticleRef, Store, cache_key
from .verify import verify_quotes

__all__ = ["RunResult", "Budget", "RunLedger", "RunInputs", "Executor", "analyse_article", "save_analysis",
           "finish_run", "run_batch", "recorded_run", "run"]

_CACHED_BLOCK = 500
_SETTLE_NS = 2_000_000_000


def _dedupe(quotes: list[VerifiedQuote]) -> list[VerifiedQuote]:
    seen: set[tuple[tuple[int, int], ...]] = set()
    unique = []
    for quote in quotes:
        spans = tuple((span.start, span.end) for span in quote.spans)
        if spans not in seen:
            seen.add(spans)
            unique.append(quote)
    return unique


async def analyse_article(article: Article, engine: AnalysisEngine) -> tuple[Analysis, list[EngineAnswer]]:
    """Analyse one article and verify every quote against its text.

    A quote the text lacks earns one re-ask naming it; whatever still fails to
    verify, on either attempt, goes to ``rejected_quotes`` and never to ``quotes``.
    """
    answers = [await engine.analyse(article)]
    verified, rejected = verify_quotes(article.text, answers[0].verdict.quotes)
    if rejected and engine.reasks:
        missing: list[QuoteDraft] = [*rejected]
        try:
            answers.append(await engine.reask_quotes(article, answers[0], missing))
        except AnswerError as error:
            # The first answer stands; the failed re-ask is kept as an attempt that
            # repeats it, so its tokens and raw responses stay in the ledger.
            answers.append(EngineAnswer(verdict=answers[0].verdict, raw_responses=list(error.raw_responses),
                                        usage=error.usage or Usage(requests=0, input_tokens=0, output_tokens=0)))
        else:
            verified_again, rejected_again = verify_quotes(article.text, answers[1].verdict.quotes)
            verified = _dedupe(verified + verified_again)
            rejected = rejected + rejected_again
    verdict = answers[-1].verdict
    analysis = Analysis(
        article_id=article.article_id,
        label=verdict.label,
        confidence=verdict.confidence,
        reasons=list(dict.fromkeys(verdict.reasons)),
        rationale=verdict.rationale,
        quotes=verified,
        rejected_quotes=rejected,
        claims=verdict.claims,
        signals=compute_signals(article.text),
    )
    return analysis, answers


@dataclass
class RunResult:
    run_id: int
    engine: str
    model: str
    counts: dict[str, int] = field(default_factory=lambda: {"ok": 0, "cached": 0, "failed": 0, "skipped": 0})
    fatal: str | None = None
    stopped: str | None = None
    usage: Usage = field(default_factory=lambda: Usage(requests=0, input_tokens=0, output_tokens=0))
    cost: float | None = None

    def __post_init__(self) -> None:
        self.spend([])

    @property
    def input_tokens(self) -> int:
        return self.usage.input_tokens

    @property
    def output_tokens(self) -> int:
        return self.usage.output_tokens

    def spend(self, usages: Iterable[Usage]) -> None:
        """Add the tokens of one article's attempts and update the estimated cost."""
        for usage in usages:
            self.usage = self.usage + usage
        self.cost = run_cost(self.engine, self.model, self.usage)

    @property
    def exit_code(self) -> int:
        """0: every article analysed or cached (or a budget reached); 1: some failed; 2: the run was stopped."""
        if self.fatal:
            return 2
        return 1 if self.counts["failed"] else 0


def save_analysis(store: Store, result: RunResult, article: Article, key: str, identity: CacheIdentity,
                  analysis: Analysis, answers: list[EngineAnswer], latency_ms: int) -> None:
    """Store one finished article and count it in its run, whichever way its answer arrived."""
    store.save_result(result.run_id, article, key, identity, analysis, answers, latency_ms)
    result.spend(answer.usage for answer in answers)
    result.counts["ok"] += 1


def finish_run(store: Store, result: RunResult, status: str) -> None:
    """Close a run, whichever way its results arrived (``run``, ``batch collect``): the batch
    insight (template clusters, posthumous flags) over what it analysed, then its ledger line.
    An interrupted run skips the insight: it may stop mid-way, and the ledger must close."""
    try:
        if status != "interrupted":
            update_batch_insight(store, result.run_id)
    finally:
        store.finish_run(result.run_id, status)


@dataclass(frozen=True)
class Budget:
    """Where a run stops cleanly: after ``limit`` articles sent to the engine, or at ``max_cost`` USD."""

    limit: int | None = None
    max_cost: float | None = None

    def check(self, engine: str, model: str) -> Budget:
        """Raise ConfigError when the budget cannot be enforced for this engine and model."""
        if self.limit is not None and self.limit < 0:
            raise ConfigError("--limit must be 0 or more")
        if self.max_cost is not None and run_cost(engine, model, Usage(requests=0, input_tokens=0, output_tokens=0)) is None:
            raise ConfigError(f"--max-cost needs a known price for model {model!r}: add it to pipeline/pricing.py")
        return self

    def stop_reason(self, sent: int, in_flight: int, result: RunResult) -> str | None:
        """Why no further article may start, or None.

        The cost check projects the articles in flight at the average cost so far,
        so a run stops before, not after, it overshoots by a whole round.
        """
        if self.limit is not None and sent >= self.limit:
            return f"limit of {self.limit} articles reached"
        if self.max_cost is not None and result.cost is not None:
            finished = result.counts["ok"] + result.counts["failed"]
            average = result.cost / finished if finished else 0.0
            if result.cost + average * (in_flight + 1) > self.max_cost:
                return f"budget of ${self.max_cost:.2f} reached (spent ~${result.cost:.4f})"
        return None


class RunLedger:
    """Every outcome of one run, written to the store as it happens and counted in ``result``."""

    def __init__(self, store: Store, result: RunResult,
                 on_outcome: Callable[[str, str, str | None], None] | None = None):
        self.store = store
        self.result = result
        self.on_outcome = on_outcome
        self._cached: list[tuple[Article | ArticleRef, str]] = []

    def note(self, status: str, source: str, reason: str | None = None) -> None:
        self.result.counts[status] += 1
        if self.on_outcome:
            self.on_outcome(status, source, reason)

    def skipped(self, source_path: str, record_id: str | None, reason: str) -> None:
        self.store.record_outcome(self.result.run_id, source_path=source_path, record_id=record_id,
                                  status="skipped", reason=reason)
        self.note("skipped", source_path, reason)

    def cached(self, article: Article | ArticleRef, key: str) -> None:
        """An article whose result is stored; recorded in blocks (a lost block costs nothing to redo)."""
        self._cached.append((article, key))
        self.note("cached", article.source_path)
        if len(self._cached) >= _CACHED_BLOCK:
            self.flush()

    def flush(self) -> None:
        self.store.record_cached(self.result.run_id, self._cached)
        self._cached.clear()

    def cached_if_stored(self, article: Article, key: str) -> None:
        """A later copy of an article analysed in this run: cached once its first copy is stored."""
        if self.store.has_result(key):
            self.store.record_cached(self.result.run_id, [(article, key)])
            self.note("cached", article.source_path)

    def failed(self, article: Article, key: str, reason: str, usage: Usage | None) -> None:
        self.result.spend([usage] if usage else [])
        self.store.record_outcome(self.result.run_id, source_path=article.source_path, record_id=article.record_id,
                                  article_id=article.article_id, status="failed", reason=reason, key=key, usage=usage)
        self.note("failed", article.source_path, reason)

    def finished(self, article: Article, key: str, identity: CacheIdentity, analysis: Analysis,
                 answers: list[EngineAnswer], latency_ms: int) -> None:
        save_analysis(self.store, self.result, article, key, identity, analysis, answers, latency_ms)
        if self.on_outcome:
            self.on_outcome("ok", article.source_path, None)


class RunInputs:
    """The articles under ``paths`` that need the engine, each with its cache key, read lazily.

    Skipped inputs and articles with a stored result are recorded in the ledger on the
    way and not yielded (``refresh`` yields every article). Files whose stamp (size,
    mtime, inode) matches the store's inbox index are not opened: their articles come
    from the store (``rescan`` reads every file again). ``index_read_files`` indexes the
    files read whole, once their articles are stored.
    """

    def __init__(self, paths: Sequence[str], ledger: RunLedger, identity: CacheIdentity, *,
                 refresh: bool = False, rescan: bool = False):
        self.paths = paths
        self.ledger = ledger
        self.store = ledger.store
        self.identity = identity
        self.refresh = refresh
        self._indexed = {} if rescan else self.store.source_index()
        self._being_read: dict[str, list[tuple[str, str | None]]] = {}
        self._read_whole: list[tuple[str, FileStamp, list[tuple[str, str | None]]]] = []

    def __iter__(self) -> Iterator[tuple[Article, str]]:
        for item in iter_articles(self.paths, unchanged=self._unchanged):
            if isinstance(item, SkippedInput):
                self.ledger.skipped(item.source_path, item.record_id, item.reason)
            elif isinstance(item, FileRead):
                articles = self._being_read.pop(item.source_path, [])
                if item.complete and _settled(item.stamp):
                    self._read_whole.append((item.source_path, item.stamp, articles))
            elif isinstance(item, UnchangedFile):
                yield from self._from_index(item)
            else:
                self._being_read.setdefault(item.source_path, []).append((item.article_id, item.record_id))
                key = cache_key(item.article_id, self.identity)
                if not self.refresh and self.store.has_result(key):
                    self.ledger.cached(item, key)
                else:
                    yield item, key

    def _unchanged(self, path: str, stamp: FileStamp) -> bool:
        entry = self._indexed.get(path)
        return entry is not None and entry[0] == stamp

    def _from_index(self, file: UnchangedFile) -> Iterator[tuple[Article, str]]:
        refs = [ArticleRef(article_id, file.source_path, record_id)
                for article_id, record_id in json.loads(self._indexed[file.source_path][1])]
        keys = [cache_key(ref.article_id, self.identity) for ref in refs]
        stored = set() if self.refresh else self.store.results_among(keys)
        for ref, key in zip(refs, keys, strict=True):
            if key in stored:
                self.ledger.cached(ref, key)
                continue
            article = self.store.article(ref)
            if article is None:
                self.ledger.skipped(ref.source_path, ref.record_id, f"indexed article {ref.article_id[:16]} is no "
                                    "longer in the store: run again with --rescan")
            else:
                yield article, key

    def index_read_files(self) -> None:
        self.store.index_files(self._read_whole)


async def run_batch(
    paths: Sequence[str],
    settings: Settings,
    store: Store,
    *,
    refresh: bool = False,
    rescan: bool = False,
    engine: AnalysisEngine | None = None,
    budget: Budget = Budget(),
    on_outcome: Callable[[str, str, str | None], None] | None = None,
) -> RunResult:
    """Analyse every article under ``paths`` that has no result under the current key (see ``RunInputs``)."""
    engine = engine or make_engine(settings)
    budget.check(engine.name, engine.identity.model)
    with recorded_run(store, engine, on_outcome) as ledger:
        result = ledger.result
        inputs = RunInputs(paths, ledger, engine.identity, refresh=refresh, rescan=rescan)
        slots = asyncio.Semaphore(settings.concurrency)
        in_flight: dict[str, asyncio.Task] = {}
        waiting_duplicates: set[asyncio.Task] = set()
        fatal_seen = asyncio.Event()
        sent = 0

        async def analyse_and_store(article: Article, key: str) -> None:
            try:
                started = time.perf_counter()
                try:
                    analysis, answers = await analyse_article(article, engine)
                except FatalProviderError as error:
                    result.fatal = result.fatal or str(error)
                    fatal_seen.set()
                    ledger.failed(article, key, str(error), error.usage)
                    raise
                except ProviderError as error:
                    ledger.failed(article, key, str(error), error.usage)
                    return
                except asyncio.CancelledError:
                    if result.fatal:
                        ledger.failed(article, key, f"not finished: the run stopped ({result.fatal})", None)
                    raise
                ledger.finished(article, key, engine.identity, analysis, answers,
                                int((time.perf_counter() - started) * 1000))
            finally:
                slots.release()
                in_flight.pop(key, None)

        async def after_first_copy(first: asyncio.Task, article: Article, key: str) -> None:
            await asyncio.wait([first])
            ledger.cached_if_stored(article, key)

        def pending() -> list[asyncio.Task]:
            return [*in_flight.values(), *waiting_duplicates]

        try:
            for article, key in inputs:
                if result.fatal:
                    break
                if key in in_flight:
                    waiter = asyncio.create_task(after_first_copy(in_flight[key], article, key))
                    waiting_duplicates.add(waiter)
                    waiter.add_done_callback(waiting_duplicates.discard)
                    continue
                await slots.acquire()
                result.stopped = budget.stop_reason(sent, len(in_flight), result)
                if result.fatal or result.stopped:
                    slots.release()
                    break
                sent += 1
                in_flight[key] = asyncio.create_task(analyse_and_store(article, key))
            await _finish_or_abort(pending(), fatal_seen)
            inputs.index_read_files()
        finally:
            for task in pending():
                task.cancel()
    return result


@contextmanager
def recorded_run(store: Store, engine: AnalysisEngine,
                 on_outcome: Callable[[str, str, str | None], None] | None = None) -> Iterator[RunLedger]:
    """One run in the ledger: started (taking the store's lock), then finished with its status
    (finished, stopped, aborted or interrupted) however the block ends."""
    run_id = store.start_run(engine.name, engine.identity.model)
    result = RunResult(run_id=run_id, engine=engine.name, model=engine.identity.model)
    ledger = RunLedger(store, result, on_outcome)
    status = "finished"
    try:
        yield ledger
    except BaseException:
        status = "interrupted"
        raise
    finally:
        ledger.flush()
        if result.fatal:
            status = "aborted"
        elif result.stopped and status == "finished":
            status = "stopped"
        finish_run(store, result, status)


def _settled(stamp: FileStamp) -> bool:
    """Whether a file's mtime is old enough to trust: a write within the same clock tick
    as the read could leave the stamp unchanged (git's "racy" entries), so fresh files wait."""
    return time.time_ns() - stamp.mtime_ns > _SETTLE_NS


async def _finish_or_abort(tasks: list[asyncio.Task], fatal_seen: asyncio.Event) -> None:
    """Wait for the tasks in flight, unless a fatal error comes first: then cancel them."""
    fatal_waiter = asyncio.create_task(fatal_seen.wait())
    remaining = set(tasks)
    while remaining and not fatal_seen.is_set():
        _done, remaining = await asyncio.wait(remaining | {fatal_waiter}, return_when=asyncio.FIRST_COMPLETED)
        remaining.discard(fatal_waiter)
    fatal_waiter.cancel()
    for task in remaining:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class Executor(StrEnum):
    """Where the analysis runs: this process's asyncio loop, or Ray Data workers (``pipeline[ray]``)."""

    local = "local"
    ray = "ray"


def run(paths: Sequence[str], settings: Settings, *, refresh: bool = False, rescan: bool = False,
        executor: Executor = Executor.local, ray_address: str | None = None, **kwargs) -> RunResult:
    """Synchronous entry point: open the store, run the batch on the executor, close the store."""
    with Store(settings.db) as store:
        if executor is Executor.ray:
            from .executors.ray import run_with_ray

            return run_with_ray(paths, settings, store, address=ray_address, refresh=refresh, rescan=rescan, **kwargs)
        return asyncio.run(run_batch(paths, settings, store, refresh=refresh, rescan=rescan, **kwargs))
