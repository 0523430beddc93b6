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
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .errors import AnswerError, ConfigError, FatalProviderError, ProviderError
from .insight import update_batch_insight
from .engines import AnalysisEngine, make_engine
from .models import (
    Analysis,
    Article,
    CacheIdentity,
    EngineAnswer,
    QuoteDraft,
    ReasonCode,
    SkippedInput,
    SpeakerKind,
    Usage,
    VerifiedQuote,
)
from .offline import compute_signals
from .offline.engine import settle_label
from .offline.label import DEFAULT_PRIOR
from .pricing import run_cost
from .settings import Settings
from .sources import iter_articles
from .store import Store, cache_key
from .verify import verify_quotes

__all__ = ["RunResult", "Budget", "analyse_article", "save_analysis", "finish_run", "run_batch", "run"]

_CACHED_BLOCK = 500


def _dedupe(quotes: list[VerifiedQuote]) -> list[VerifiedQuote]:
    seen: set[tuple[tuple[int, int], ...]] = set()
    unique = []
    for quote in quotes:
        spans = tuple((span.start, span.end) for span in quote.spans)
        if spans not in seen:
            seen.add(spans)
            unique.append(quote)
    return unique


def _backed_reasons(reasons: Iterable[ReasonCode], quotes: Sequence[VerifiedQuote]) -> list[ReasonCode]:
    """The verdict's reasons, once each; "named sourcing" only where a verified quote by a
    named speaker has that speaker confirmed by the text (an engine's say-so is not enough)."""
    named = any(quote.speaker_kind == SpeakerKind.named and quote.speaker_verified for quote in quotes)
    return [reason for reason in dict.fromkeys(reasons) if reason != ReasonCode.named_sourcing or named]


async def analyse_article(
    article: Article, engine: AnalysisEngine, prior: float = DEFAULT_PRIOR
) -> tuple[Analysis, list[EngineAnswer]]:
    """Analyse one article and verify every quote against its text.

    A quote the text lacks earns one re-ask naming it; whatever still fails to
    verify, on either attempt, goes to ``rejected_quotes`` and never to ``quotes``.
    Whatever the engine, the label ends calibrated (``settle_label``): probabilities that sum
    to 1 for a feed with ``prior`` fabrications, and likely_fabrication only with evidence.
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
    signals = compute_signals(article.text, prior)
    reasons = _backed_reasons(verdict.reasons, verified)
    label, probabilities = settle_label(verdict.label, verdict.confidence, reasons, signals)
    analysis = Analysis(
        article_id=article.article_id,
        label=label,
        confidence=probabilities[label.value],
        probabilities=probabilities,
        reasons=reasons,
        rationale=verdict.rationale,
        quotes=verified,
        rejected_quotes=rejected,
        claims=verdict.claims,
        signals=signals,
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


async def run_batch(
    paths: Sequence[str],
    settings: Settings,
    store: Store,
    *,
    refresh: bool = False,
    engine: AnalysisEngine | None = None,
    budget: Budget = Budget(),
    on_outcome: Callable[[str, str, str | None], None] | None = None,
) -> RunResult:
    """Analyse every article under ``paths`` that has no result under the current key."""
    engine = engine or make_engine(settings)
    budget.check(engine.name, engine.identity.model)
    run_id = store.start_run(engine.name, engine.identity.model)
    result = RunResult(run_id=run_id, engine=engine.name, model=engine.identity.model)
    slots = asyncio.Semaphore(settings.concurrency)
    in_flight: dict[str, asyncio.Task] = {}
    waiting_duplicates: set[asyncio.Task] = set()
    fatal_seen = asyncio.Event()
    sent = 0

    def note(status: str, source: str, reason: str | None = None) -> None:
        result.counts[status] += 1
        if on_outcome:
            on_outcome(status, source, reason)

    def record_failure(article: Article, key: str, reason: str, usage: Usage | None) -> None:
        result.spend([usage] if usage else [])
        store.record_outcome(run_id, source_path=article.source_path, record_id=article.record_id,
                             article_id=article.article_id, status="failed", reason=reason, key=key, usage=usage)
        note("failed", article.source_path, reason)

    async def analyse_and_store(article: Article, key: str) -> None:
        try:
            started = time.perf_counter()
            try:
                analysis, answers = await analyse_article(article, engine, settings.fabrication_prior)
            except FatalProviderError as error:
                result.fatal = result.fatal or str(error)
                fatal_seen.set()
                record_failure(article, key, str(error), error.usage)
                raise
            except ProviderError as error:
                record_failure(article, key, str(error), error.usage)
                return
            except asyncio.CancelledError:
                if result.fatal:
                    record_failure(article, key, f"not finished: the run stopped ({result.fatal})", None)
                raise
            latency_ms = int((time.perf_counter() - started) * 1000)
            save_analysis(store, result, article, key, engine.identity, analysis, answers, latency_ms)
            if on_outcome:
                on_outcome("ok", article.source_path, None)
        finally:
            slots.release()
            in_flight.pop(key, None)

    async def after_first_copy(first: asyncio.Task, article: Article, key: str) -> None:
        await asyncio.wait([first])
        if store.has_result(key):
            store.record_cached(run_id, [(article, key)])
            note("cached", article.source_path)

    cached: list[tuple[Article, str]] = []

    def flush_cached() -> None:
        store.record_cached(run_id, cached)
        cached.clear()

    def pending() -> list[asyncio.Task]:
        return [*in_flight.values(), *waiting_duplicates]

    status = "finished"
    try:
        for item in iter_articles(paths):
            if result.fatal:
                break
            if isinstance(item, SkippedInput):
                store.record_outcome(run_id, source_path=item.source_path, record_id=item.record_id,
                                     status="skipped", reason=item.reason)
                note("skipped", item.source_path, item.reason)
                continue
            key = cache_key(item.article_id, engine.identity)
            if key in in_flight:
                waiter = asyncio.create_task(after_first_copy(in_flight[key], item, key))
                waiting_duplicates.add(waiter)
                waiter.add_done_callback(waiting_duplicates.discard)
                continue
            if not refresh and store.has_result(key):
                cached.append((item, key))
                note("cached", item.source_path)
                if len(cached) >= _CACHED_BLOCK:
                    flush_cached()
                continue
            await slots.acquire()
            result.stopped = budget.stop_reason(sent, len(in_flight), result)
            if result.fatal or result.stopped:
                slots.release()
                break
            sent += 1
            in_flight[key] = asyncio.create_task(analyse_and_store(item, key))
        await _finish_or_abort(pending(), fatal_seen)
    except BaseException:
        status = "interrupted"
        raise
    finally:
        flush_cached()
        for task in pending():
            task.cancel()
        if result.fatal:
            status = "aborted"
        elif result.stopped and status == "finished":
            status = "stopped"
        finish_run(store, result, status)
    return result


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


def run(paths: Sequence[str], settings: Settings, *, refresh: bool = False, **kwargs) -> RunResult:
    """Synchronous entry point: open the store, run the batch, close the store."""
    with Store(settings.db) as store:
        return asyncio.run(run_batch(paths, settings, store, refresh=refresh, **kwargs))
