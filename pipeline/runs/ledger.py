"""A run in the ledger, whichever executor analyses it (this process, Ray workers, or
``batch collect`` reading a Batch API's answers): the run's counts and cost, every outcome
written as it happens, and one failure path, which the failure memory learns from."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pipeline.desk.insight import PhaseProgress, update_batch_insight
from pipeline.desk.settled import refresh_run_verdicts
from pipeline.errors import AnswerError, FatalProviderError, ProviderError, StoreError
from pipeline.models import Analysis, Article, CacheIdentity, EngineAnswer, Usage
from pipeline.pricing import run_cost
from pipeline.runs.budget import CostReservations
from pipeline.runs.journal import AnswerJournal
from pipeline.settings import NightClock
from pipeline.store import ArticleRef, Store

__all__ = ["RunResult", "Failure", "RunLedger", "recorded_run", "retries_used_up"]

_LOG = logging.getLogger(__name__)

_CACHED_BLOCK = 500
_LIVE_ENGINE = "llm"  # how a re-ask made while collecting a batch is priced: it went out live
_NO_USAGE = Usage(requests=0, input_tokens=0, output_tokens=0)


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
    crashed: str | None = None  # why the executor itself failed (a Ray job): the run stopped
    usage: Usage = field(default_factory=lambda: _NO_USAGE)
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

    def spend_attempts(self, usages: list[Usage]) -> float | None:
        """Spend one article's attempts: the first answer priced under the run's engine (a
        batch's at the batch rate), every re-ask after it as the live request it was."""
        first = self.spend(usages[:1])
        reasks = self.spend(usages[1:], live=True)
        return None if first is None or reasks is None else first + reasks

    @property
    def exit_code(self) -> int:
        """0: every article analysed or cached (or a budget reached); 1: some failed, or none was found;
        2: the run was stopped; 128 + the signal's number (130, 143): a signal interrupted it."""
        if self.interrupted:
            return 128 + signal.Signals[self.interrupted].value
        if self.fatal or self.crashed:
            return 2
        return 1 if self.counts["failed"] or self.empty else 0


@dataclass(frozen=True)
class Failure:
    """Why one article failed, as every executor hands it to the ledger.

    ``kind``: a deterministic failure (``AnswerError``: schema after its re-ask, truncation,
    refusal...), remembered under the article's key so later runs stop paying for it;
    ``fatal``: the provider refuses every request (bad key, quota, unknown model): the run stops.
    """

    reason: str
    usage: Usage | None = None
    kind: str | None = None
    fatal: bool = False

    @classmethod
    def of(cls, error: ProviderError) -> Failure:
        kind = error.kind if isinstance(error, AnswerError) else None
        return cls(str(error), error.usage, kind, isinstance(error, FatalProviderError))

    @classmethod
    def unexpected(cls, error: BaseException) -> Failure:
        """An article whose analysis raised what no check foresaw: failed with the error, not
        remembered (a fixed pipeline tries it again), so it never vanishes from the run."""
        return cls(f"the analysis failed unexpectedly ({type(error).__name__}: {error})"[:500])


class RunLedger:
    """Every outcome of one run, written to the store as it happens and counted in ``result``.

    A write the database refuses stops the run (``store_broken``): every further write would
    fail too (disk full, another writer holding the database), so nothing more is paid for;
    paid answers wait in the ``journal``. ``on_stop`` is called when the run must stop at
    once: the database refused a write, or a fatal provider error.
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
        self.on_stop: Callable[[], None] = lambda: None
        self._cached: list[tuple[Article | ArticleRef, str]] = []

    def note(self, status: str, source: str, reason: str | None = None) -> None:
        self.result.counts[status] += 1
        if self.on_outcome:
            self.on_outcome(status, source, reason)

    def store_broken(self, error: StoreError) -> None:
        self.result.fatal = self.result.fatal or f"the database cannot be written: {error}"
        self.result.store_refused = True
        self.on_stop()

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
        remembered = None if retry_failed else retries_used_up(self.store, key, failed_retries)
        if remembered is None:
            return False
        runs = remembered["runs"]
        self.failed(
            article,
            key,
            Failure(f"{remembered['reason']} [failed for this reason in {runs} runs; not tried again until --retry-failed]"),
        )
        return True

    def failed(self, article: Article | ArticleRef, key: str, failure: Failure, *, answered: Usage | None = None) -> None:
        """Record one article's failure with what it cost (``answered``: the usage of an answer
        that arrived another way, a batch's, priced under the run's engine; the failure's own
        usage then went out live), remember a deterministic one, stop the run on a fatal one."""
        usages = [usage for usage in (answered, failure.usage) if usage is not None]
        cost = self.result.spend_attempts(usages)
        if self.reservations is not None:
            self.reservations.settle(key, usages)
        try:
            self.store.record_outcome(
                self.result.run_id,
                source_path=article.source_path,
                record_id=article.record_id,
                article_id=article.article_id,
                status="failed",
                reason=failure.reason,
                key=key,
                usage=sum(usages, _NO_USAGE) if usages else None,
                cost=cost,
            )
            if failure.kind is not None:
                self.store.remember_failure(self.result.run_id, key, article.article_id, failure.kind, failure.reason)
        except StoreError as error:
            self.store_broken(error)
        self.note("failed", article.source_path, failure.reason)
        if failure.fatal:
            self.result.fatal = self.result.fatal or failure.reason
            self.on_stop()

    def finished(
        self,
        article: Article,
        key: str,
        identity: CacheIdentity,
        analysis: Analysis,
        answers: list[EngineAnswer],
        latency_ms: int,
    ) -> None:
        """Store one finished article, whichever way its answer arrived, and count it in the run."""
        usages = [answer.usage for answer in answers]
        spent_before = self.result.usage, self.result.cost
        try:
            cost = self.result.spend_attempts(usages)
            self.store.save_result(self.result.run_id, article, key, identity, analysis, answers, latency_ms, cost)
        except StoreError as error:
            self.result.usage, self.result.cost = spent_before  # the failure below counts the attempts once
            self.store_broken(error)
            journal = self.journal
            kept = (
                "and not journalled"
                if journal is None
                else f"journalled in {journal.path}: a re-run stores it without paying"
                if not journal.error
                else f"and not journalled ({journal.error})"
            )
            reasks = sum(usages[1:], _NO_USAGE)
            self.failed(article, key, Failure(f"answer paid but not stored ({error}); {kept}", reasks), answered=usages[0])
            return
        if self.reservations is not None:
            self.reservations.settle(key, usages)
        self.note("ok", article.source_path)


def retries_used_up(store: Store, key: str, failed_retries: int) -> dict[str, Any] | None:
    """The deterministic failure remembered under ``key`` once it has failed in more than
    ``failed_retries`` runs (it is not paid for again until --retry-failed), or None."""
    remembered = store.remembered_failure(key)
    return remembered if remembered is not None and remembered["runs"] > failed_retries else None


@contextmanager
def recorded_run(
    store: Store,
    engine: str,
    model: str,
    clock: NightClock,
    on_outcome: Callable[[str, str, str | None], None] | None = None,
    reservations: CostReservations | None = None,
    on_phase: PhaseProgress | None = None,
) -> Iterator[RunLedger]:
    """One run in the ledger, of ``engine`` and ``model`` (``batch collect``'s engine is the
    Batch API's, for its price): started (taking the store's lock), then finished with its
    status (finished, stopped, aborted or interrupted) however the block ends; ``on_phase``
    hears the closing batch insight's phases. A ledger line
    the database refuses to close is reported in ``unclosed``: the next run closes it."""
    run_id = store.start_run(engine, model)
    result = RunResult(run_id=run_id, engine=engine, model=model)
    ledger = RunLedger(store, result, on_outcome, reservations)
    status = "finished"
    try:
        yield ledger
    except BaseException:
        status = "interrupted"
        raise
    finally:
        ledger.flush()
        if result.fatal or result.crashed:
            status = "aborted"
        elif result.interrupted:
            status = "interrupted"
        elif result.stopped and status == "finished":
            status = "stopped"
        try:
            _finish_run(store, result, status, clock, on_phase)
        except StoreError as error:
            result.unclosed = f"run {run_id} could not be closed in the ledger ({error}): the next run closes it"


def _finish_run(store: Store, result: RunResult, status: str, clock: NightClock, on_phase: PhaseProgress | None) -> None:
    """Close a run: the batch insight (template clusters, posthumous flags) over what it
    analysed and the settled verdicts it changed (``verdicts``), then its ledger line. An interrupted run skips the insight: it may stop mid-way,
    and the ledger must close. So does a run whose database refused a write (the insight would
    be refused too); StoreError from here means the ledger line could not be written."""
    if status != "interrupted" and not result.store_refused:
        try:
            insight = update_batch_insight(store, result.run_id, on_phase)
            _LOG.info("verdicts: settling the run's articles and the stories it touched")
            if on_phase is not None:
                on_phase("settled verdicts", 0, insight.articles)
            refreshed = refresh_run_verdicts(store, clock, result.run_id, insight)
            if on_phase is not None:
                on_phase("settled verdicts", refreshed, refreshed)
        except StoreError as error:
            result.fatal = result.fatal or f"the database cannot be written: {error}"
            status = "aborted"
    store.finish_run(result.run_id, status)
