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
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pipeline.errors import AnswerError, ConfigError, FatalProviderError, ProviderError, StoreError
from pipeline.desk.insight import update_batch_insight
from pipeline import engines
from pipeline.engines import AnalysisEngine, CannedEngine, make_engine
from pipeline.runs.journal import AnswerJournal
from pipeline.models import (
    Analysis,
    Article,
    CacheIdentity,
    EngineAnswer,
    ReasonCode,
    SkippedInput,
    SpeakerKind,
    Usage,
    VerifiedQuote,
)
from pipeline.offline import compute_signals
from pipeline.offline.engine import settle_label
from pipeline.offline.label import DEFAULT_PRIOR
from pipeline.parsed import ParsedArticle
from pipeline.pricing import run_cost
from pipeline.settings import Settings
from pipeline.inputs import FileRead, FileStamp, UnchangedFile, iter_articles
from pipeline.store import ArticleRef, Store, cache_key
from pipeline.checks.quotes import verify_quotes

if TYPE_CHECKING:
    from pipeline.engines.openai_client import LLMEngine

__all__ = [
    "RunResult",
    "Budget",
    "CostReservations",
    "RunLedger",
    "RunInputs",
    "Executor",
    "analyse_article",
    "analyse_completion",
    "save_analysis",
    "finish_run",
    "run_batch",
    "recorded_run",
    "run",
]

_CACHED_BLOCK = 500
_SETTLE_NS = 2_000_000_000
_LIVE_ENGINE = "llm"  # how a re-ask made while collecting a batch is priced: it went out live


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

    The article is parsed once here and handed to the engine, the verifier and the signals.
    The engine makes its own re-asks (a verdict-first one re-asks once for quotes the text
    lacks); whatever fails to verify, in any of its answers, goes to ``rejected_quotes`` and
    never to ``quotes``.
    Whatever the engine, the label ends calibrated (``settle_label``): probabilities that sum
    to 1 for a feed with ``prior`` fabrications, and likely_fabrication only with evidence.
    """
    parse = ParsedArticle(article.text)
    answers = await engine.analyse(article, parse)
    checked = [verify_quotes(parse, answer.verdict.quotes) for answer in answers]
    verified = _dedupe([quote for found, _ in checked for quote in found])
    rejected = [quote for _, refused in checked for quote in refused]
    verdict = answers[-1].verdict
    signals = compute_signals(parse, prior)
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
    interrupted: str | None = None  # the signal that stopped the run: SIGINT or SIGTERM
    empty: str | None = None  # why a run that found no article is an error (without allow_empty)
    unclosed: str | None = None  # why the ledger still shows the run as running
    store_refused: bool = False  # the database refused a write: the run stopped
    usage: Usage = field(default_factory=lambda: Usage(requests=0, input_tokens=0, output_tokens=0))
    cost: float | None = None

    def __post_init__(self) -> None:
        self.cost = run_cost(self.engine, self.model, self.usage)

    @property
    def input_tokens(self) -> int:
        return self.usage.input_tokens

    @property
    def cached_input_tokens(self) -> int:
        return self.usage.cached_input_tokens

    @property
    def output_tokens(self) -> int:
        return self.usage.output_tokens

    def spend(self, usages: Iterable[Usage], *, live: bool = False) -> float | None:
        """Add the tokens of some attempts to the run and its estimated cost, priced under the
        run's engine (``live``: as a live request, for a re-ask made while collecting a batch);
        what they cost, None when the model's price is unknown."""
        spent: float | None = 0.0
        for usage in usages:
            self.usage = self.usage + usage
            cost = run_cost(_LIVE_ENGINE if live else self.engine, self.model, usage)
            spent = None if cost is None or spent is None else spent + cost
        self.cost = None if spent is None or self.cost is None else self.cost + spent
        return spent

    @property
    def exit_code(self) -> int:
        """0: every article analysed or cached (or a budget reached); 1: some failed, or none was found;
        2: the run was stopped; 128 + the signal's number (130, 143): a signal interrupted it."""
        if self.interrupted:
            return 128 + signal.Signals[self.interrupted].value
        if self.fatal:
            return 2
        return 1 if self.counts["failed"] or self.empty else 0


async def analyse_completion(
    article: Article, body: dict[str, Any], live: LLMEngine, identity: CacheIdentity, name: str, *, paid: bool = True
) -> tuple[Analysis, list[EngineAnswer]]:
    """Verify a chat completion that arrived another way (a Batch API answer, or an answer an
    earlier run paid for and journalled) exactly as a live answer is; a needed re-ask goes
    out live, as its own answer. ``paid=False``: the completion's tokens were counted before."""
    answer, live_fix = await live.answer_from_completion(article, body)
    if not paid:
        answer = answer.model_copy(update={"usage": Usage(requests=0, input_tokens=0, output_tokens=0)})
    canned = CannedEngine(name, identity, {article.article_id: answer}, live=live)
    analysis, answers = await analyse_article(article, canned, live.settings.fabrication_prior)
    if live_fix is not None:
        answers = [answers[0], live_fix, *answers[1:]]
    return analysis, answers


def save_analysis(
    store: Store,
    result: RunResult,
    article: Article,
    key: str,
    identity: CacheIdentity,
    analysis: Analysis,
    answers: list[EngineAnswer],
    latency_ms: int,
) -> None:
    """Store one finished article and count it in its run, whichever way its answer arrived:
    the first answer priced under the run's engine (a batch's at the batch rate), every
    re-ask after it as the live request it was."""
    first = result.spend([answers[0].usage])
    reasks = result.spend((answer.usage for answer in answers[1:]), live=True)
    cost = None if first is None or reasks is None else first + reasks
    store.save_result(result.run_id, article, key, identity, analysis, answers, latency_ms, cost)
    result.counts["ok"] += 1


def finish_run(store: Store, result: RunResult, status: str) -> None:
    """Close a run, whichever way its results arrived (``run``, ``batch collect``): the batch
    insight (template clusters, posthumous flags) over what it analysed, then its ledger line.
    An interrupted run skips the insight: it may stop mid-way, and the ledger must close. So
    does a run whose database refused a write (the insight would be refused too); StoreError
    from here means the ledger line could not be written."""
    if status != "interrupted" and not result.store_refused:
        try:
            update_batch_insight(store, result.run_id)
        except StoreError as error:
            result.fatal = result.fatal or f"the database cannot be written: {error}"
            status = "aborted"
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
        if self.max_cost is not None and self.max_cost < 0:
            raise ConfigError("--max-cost must be 0 or more")
        if self.max_cost is not None and run_cost(engine, model, Usage(requests=0, input_tokens=0, output_tokens=0)) is None:
            raise ConfigError(f"--max-cost needs a known price for model {model!r}: add it to pipeline/pricing.py")
        return self

    def stop_reason(self, sent: int, reserved: float, result: RunResult) -> str | None:
        """Why no further article may start, or None.

        ``reserved`` is what the articles in flight and the next one may cost
        (``CostReservations``), so a run stops before, not after, it overshoots.
        """
        if self.limit is not None and sent >= self.limit:
            return f"limit of {self.limit} articles reached"
        if self.max_cost is not None and result.cost is not None and result.cost + reserved > self.max_cost:
            return (
                f"budget of ${self.max_cost:.4f} reached (spent ~${result.cost:.4f}, "
                f"~${reserved:.4f} held for articles in flight and the next one)"
            )
        return None


class CostReservations:
    """What the articles in flight may still cost: each reserves an estimate before it starts.

    Until an article has finished, the estimate is the worst case of one request (its
    prompt, about three characters a token, and ``max_tokens`` out); after, the
    largest article cost seen, or the same prompt estimate with the largest answer
    seen, whichever is more. A finished article's actual cost replaces its reservation.
    """

    def __init__(self, engine: str, model: str, max_tokens: int):
        self.engine = engine
        self.model = model
        self.max_tokens = max_tokens
        self.held: dict[str, float] = {}
        self.largest_cost = 0.0
        self.largest_output: int | None = None

    def estimate(self, prompt_chars: int) -> float:
        output = self.max_tokens if self.largest_output is None else self.largest_output
        worst = Usage(requests=1, input_tokens=prompt_chars // 3 + 1, output_tokens=output)
        return max(run_cost(self.engine, self.model, worst) or 0.0, self.largest_cost)

    def hold(self, key: str, amount: float) -> None:
        self.held[key] = amount

    def settle(self, key: str, usages: Iterable[Usage]) -> None:
        """Release the article's reservation; learn from what it actually cost."""
        self.held.pop(key, None)
        spent = sum(usages, Usage(requests=0, input_tokens=0, output_tokens=0))
        if spent.requests:
            self.largest_cost = max(self.largest_cost, run_cost(self.engine, self.model, spent) or 0.0)
            self.largest_output = max(self.largest_output or 0, spent.output_tokens)

    @property
    def total(self) -> float:
        return sum(self.held.values())


def _prompt_chars(engine: AnalysisEngine, article: Article, settings: Settings) -> int:
    prompt = getattr(engine, "prompt", None)
    if prompt is None:
        return len(article.text)
    return sum(len(message["content"]) for message in prompt.messages(article, settings.max_input_chars))


class RunLedger:
    """Every outcome of one run, written to the store as it happens and counted in ``result``.

    A write the database refuses stops the run (``store_broken``): every further write would
    fail too (disk full, another writer holding the database), so nothing more is paid for;
    paid answers wait in the ``journal``.
    """

    def __init__(
        self,
        store: Store,
        result: RunResult,
        on_outcome: Callable[[str, str, str | None], None] | None = None,
        reservations: CostReservations | None = None,
    ):
        self.store = store
        self.result = result
        self.on_outcome = on_outcome
        self.reservations = reservations
        self.journal: AnswerJournal | None = None
        self.on_store_broken: Callable[[], None] = lambda: None
        self._cached: list[tuple[Article | ArticleRef, str]] = []

    def note(self, status: str, source: str, reason: str | None = None) -> None:
        self.result.counts[status] += 1
        if self.on_outcome:
            self.on_outcome(status, source, reason)

    def store_broken(self, error: StoreError) -> None:
        self.result.fatal = self.result.fatal or f"the database cannot be written: {error}"
        self.result.store_refused = True
        self.on_store_broken()

    def skipped(self, source_path: str, record_id: str | None, reason: str) -> None:
        try:
            self.store.record_outcome(
                self.result.run_id, source_path=source_path, record_id=record_id, status="skipped", reason=reason
            )
        except StoreError as error:
            self.store_broken(error)
        self.note("skipped", source_path, reason)

    def cached(self, article: Article | ArticleRef, key: str) -> None:
        """An article whose result is stored; recorded in blocks (a lost block costs nothing to redo)."""
        self._cached.append((article, key))
        self.note("cached", article.source_path)
        if len(self._cached) >= _CACHED_BLOCK:
            self.flush()

    def flush(self) -> None:
        try:
            self.store.record_cached(self.result.run_id, self._cached)
        except StoreError as error:
            self.store_broken(error)
        self._cached.clear()

    def cached_if_stored(self, article: Article, key: str) -> None:
        """A later copy of an article analysed in this run: cached once its first copy is stored."""
        try:
            if self.store.has_result(key):
                self.store.record_cached(self.result.run_id, [(article, key)])
                self.note("cached", article.source_path)
        except StoreError as error:
            self.store_broken(error)

    def given_up(self, article: Article, key: str, failed_retries: int, retry_failed: bool) -> bool:
        """Whether the article's remembered failure has used up its retries (and is recorded so)."""
        remembered = None if retry_failed else self.store.remembered_failure(key)
        if remembered is None or remembered["runs"] <= failed_retries:
            return False
        self.failed(
            article,
            key,
            f"{remembered['reason']} [failed for this reason in {remembered['runs']} runs; not tried again until --retry-failed]",
            None,
        )
        return True

    def failed(self, article: Article, key: str, reason: str, usage: Usage | None) -> None:
        cost = self.result.spend([usage] if usage else [])
        if self.reservations is not None:
            self.reservations.settle(key, [usage] if usage else [])
        try:
            self.store.record_outcome(
                self.result.run_id,
                source_path=article.source_path,
                record_id=article.record_id,
                article_id=article.article_id,
                status="failed",
                reason=reason,
                key=key,
                usage=usage,
                cost=cost,
            )
        except StoreError as error:
            self.store_broken(error)
        self.note("failed", article.source_path, reason)

    def finished(
        self,
        article: Article,
        key: str,
        identity: CacheIdentity,
        analysis: Analysis,
        answers: list[EngineAnswer],
        latency_ms: int,
    ) -> None:
        try:
            save_analysis(self.store, self.result, article, key, identity, analysis, answers, latency_ms)
        except StoreError as error:
            self.store_broken(error)
            journal = self.journal
            kept = (
                "and not journalled"
                if journal is None
                else f"journalled in {journal.path}: a re-run stores it without paying"
                if not journal.error
                else f"and not journalled ({journal.error})"
            )
            usage = sum((answer.usage for answer in answers), Usage(requests=0, input_tokens=0, output_tokens=0))
            self.failed(article, key, f"answer paid but not stored ({error}); {kept}", usage)
            return
        if self.reservations is not None:
            self.reservations.settle(key, (answer.usage for answer in answers))
        if self.on_outcome:
            self.on_outcome("ok", article.source_path, None)


class RunInputs:
    """The articles under ``paths`` that need the engine, each with its cache key, read lazily.

    Skipped inputs and articles with a stored result are recorded in the ledger on the
    way and not yielded (``refresh`` yields every article). Files whose stamp (size,
    mtime, inode) matches the store's inbox index are not opened: their articles come
    from the store (``rescan`` reads every file again). ``index_read_files`` indexes the
    files read whole, once their articles are stored. ``found`` counts the articles seen.
    """

    def __init__(
        self,
        paths: Sequence[str],
        ledger: RunLedger,
        identity: CacheIdentity,
        *,
        refresh: bool = False,
        rescan: bool = False,
        min_file_age: float = 0.0,
    ):
        self.paths = paths
        self.ledger = ledger
        self.store = ledger.store
        self.identity = identity
        self.refresh = refresh
        self.min_file_age = min_file_age
        self.found = 0
        self._indexed = {} if rescan else self.store.source_index()
        self._being_read: dict[str, list[tuple[str, str | None]]] = {}
        self._read_whole: list[tuple[str, FileStamp, list[tuple[str, str | None]]]] = []

    def __iter__(self) -> Iterator[tuple[Article, str]]:
        for item in iter_articles(self.paths, min_file_age=self.min_file_age, unchanged=self._unchanged):
            if isinstance(item, SkippedInput):
                self.ledger.skipped(item.source_path, item.record_id, item.reason)
            elif isinstance(item, FileRead):
                articles = self._being_read.pop(item.source_path, [])
                if item.complete and _settled(item.stamp):
                    self._read_whole.append((item.source_path, item.stamp, articles))
            elif isinstance(item, UnchangedFile):
                yield from self._from_index(item)
            else:
                self.found += 1
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
        refs = [
            ArticleRef(article_id, file.source_path, record_id)
            for article_id, record_id in json.loads(self._indexed[file.source_path][1])
        ]
        self.found += len(refs)
        keys = [cache_key(ref.article_id, self.identity) for ref in refs]
        stored = set() if self.refresh else self.store.results_among(keys)
        for ref, key in zip(refs, keys, strict=True):
            if key in stored:
                self.ledger.cached(ref, key)
                continue
            article = self.store.article(ref)
            if article is None:
                self.ledger.skipped(
                    ref.source_path,
                    ref.record_id,
                    f"indexed article {ref.article_id[:16]} is no longer in the store: run again with --rescan",
                )
            else:
                yield article, key

    def index_read_files(self) -> None:
        try:
            self.store.index_files(self._read_whole)
        except StoreError as error:
            self.ledger.store_broken(error)

    def empty_reason(self) -> str | None:
        """Why finding no article is an error (a nightly run pointed at a missing inbox must
        not pass unseen), or None when some article was found."""
        if self.found:
            return None
        return (
            f"found no article in {', '.join(self.paths) or 'no input'} "
            "(pass --allow-empty when a night without articles is normal)"
        )


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
    allow_empty: bool = False,
    retry_failed: bool = False,
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
    until ``retry_failed``; transient failures are always tried again.
    """
    engine = engine or make_engine(settings)
    budget.check(engine.name, engine.identity.model)
    reservations = CostReservations(engine.name, engine.identity.model, settings.max_tokens)
    with recorded_run(store, engine, on_outcome, reservations) as ledger:
        result = ledger.result
        inputs = RunInputs(paths, ledger, engine.identity, refresh=refresh, rescan=rescan, min_file_age=settings.min_file_age)
        slots = asyncio.Semaphore(settings.concurrency)
        in_flight: dict[str, asyncio.Task] = {}
        waiting_duplicates: set[asyncio.Task] = set()
        abort = asyncio.Event()
        ledger.on_store_broken = abort.set
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
                    else:
                        analysis, answers = await analyse_article(article, engine, settings.fabrication_prior)
                except FatalProviderError as error:
                    result.fatal = result.fatal or str(error)
                    abort.set()
                    ledger.failed(article, key, str(error), error.usage)
                    raise
                except AnswerError as error:
                    ledger.failed(article, key, str(error), error.usage)
                    store.remember_failure(result.run_id, key, article.article_id, error.kind, str(error))
                    return
                except ProviderError as error:
                    ledger.failed(article, key, str(error), error.usage)
                    return
                except asyncio.CancelledError:
                    if result.fatal or result.interrupted:
                        why = result.fatal or f"interrupted by {result.interrupted}"
                        ledger.failed(article, key, f"not finished: the run stopped ({why})", None)
                    raise
                ledger.finished(article, key, engine.identity, analysis, answers, int((time.perf_counter() - started) * 1000))
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
                result.stopped = budget.stop_reason(sent, reservations.total + next_cost, result)
                if result.fatal or result.stopped or result.interrupted:
                    slots.release()
                    break
                sent += 1
                reservations.hold(key, next_cost)
                recovered = journal.recovered_completion(key) if key in journal.pending else None
                in_flight[key] = asyncio.create_task(analyse_and_store(article, key, recovered))

        journal = AnswerJournal(store.path).open(lambda key: store.has_result(key) or store.remembered_failure(key) is not None)
        ledger.journal = journal
        if hasattr(engine, "on_raw"):
            identity = engine.identity
            engine.on_raw = lambda article, phase, raw: journal.append(cache_key(article.article_id, identity), phase, raw)
        with _stop_on_signals(interrupt):
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
def recorded_run(
    store: Store,
    engine: AnalysisEngine,
    on_outcome: Callable[[str, str, str | None], None] | None = None,
    reservations: CostReservations | None = None,
) -> Iterator[RunLedger]:
    """One run in the ledger: started (taking the store's lock), then finished with its status
    (finished, stopped, aborted or interrupted) however the block ends. A ledger line the
    database refuses to close is reported in ``unclosed``: the next run closes it."""
    run_id = store.start_run(engine.name, engine.identity.model)
    result = RunResult(run_id=run_id, engine=engine.name, model=engine.identity.model)
    ledger = RunLedger(store, result, on_outcome, reservations)
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
        elif result.interrupted:
            status = "interrupted"
        elif result.stopped and status == "finished":
            status = "stopped"
        try:
            finish_run(store, result, status)
        except StoreError as error:
            result.unclosed = f"run {run_id} could not be closed in the ledger ({error}): the next run closes it"


def _settled(stamp: FileStamp) -> bool:
    """Whether a file's mtime is old enough to trust: a write within the same clock tick
    as the read could leave the stamp unchanged (git's "racy" entries), so fresh files wait."""
    return time.time_ns() - stamp.mtime_ns > _SETTLE_NS


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


class Executor(StrEnum):
    """Where the analysis runs: this process's asyncio loop, or Ray Data workers (``pipeline[ray]``)."""

    local = "local"
    ray = "ray"


def run(
    paths: Sequence[str],
    settings: Settings,
    *,
    refresh: bool = False,
    rescan: bool = False,
    executor: Executor = Executor.local,
    ray_address: str | None = None,
    **kwargs,
) -> RunResult:
    """Synchronous entry point: open the store, run the batch on the executor, close the store."""
    with Store(settings.db) as store:
        if executor is Executor.ray:
            from pipeline.runs.ray import run_with_ray

            return run_with_ray(paths, settings, store, address=ray_address, refresh=refresh, rescan=rescan, **kwargs)
        return asyncio.run(run_batch(paths, settings, store, refresh=refresh, rescan=rescan, **kwargs))
