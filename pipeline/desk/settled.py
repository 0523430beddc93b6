"""The settled article: what every door (``show``, the worklist, the report, every export, the
``verdicts`` table) says about one article.

An article's settled verdict is its engine's answer as stored (cached byte for byte) moved by
the batch's and the desk's evidence (``pipeline.checks.verdict``): a template cluster, a
posthumous flag, a debunking fact-check, an unreliable source, through the calibration in
force (the shipped one, or the desk's fit: ``pipeline.desk.learning``). It is computed at read time, so a
later night's cluster or fact-check reaches an earlier article without a re-run, and written to
the ``verdicts`` table by ``refresh_verdicts`` whenever a run, an import, a review, a source list
or the death register changes it, so SQL tools (Datasette, sqlite-utils) show the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import islice

from pipeline.checks.verdict import BatchEvidence, Calibration, settle_with_evidence
from pipeline.desk.insight import BatchFindings, InsightSummary, batch_findings, merged_reasons
from pipeline.desk.learning import LearnOutcome, calibration_in_force, has_new_verdicts, learn, rollback
from pipeline.models import Label, ReasonCode
from pipeline.settings import NightClock, Settings
from pipeline.store import Store, StoredResult, utc_now

__all__ = [
    "SettledArticle",
    "settle_results",
    "refresh_verdicts",
    "refresh_run_verdicts",
    "learn_and_settle",
    "rollback_and_settle",
]

_BLOCK = 500


@dataclass(frozen=True)
class SettledArticle:
    """One article as the desk sees it: the stored result (the engine's answer), the batch's and
    the desk's findings, and ``result``, the same result with the settled verdict in its
    analysis (label, probabilities, confidence, rationale)."""

    stored: StoredResult
    findings: BatchFindings
    evidence: BatchEvidence
    result: StoredResult
    reasons: list[ReasonCode]
    night: str

    @property
    def article_id(self) -> str:
        return self.stored.article.article_id

    @property
    def label(self) -> Label:
        return self.result.analysis.label

    @property
    def confidence(self) -> float:
        return self.result.analysis.confidence

    @property
    def probabilities(self) -> dict[str, float]:
        return self.result.analysis.probabilities

    @property
    def p_fabrication(self) -> float:
        return self.probabilities.get(Label.likely_fabrication.value, 0.0)

    @property
    def unbacked_score(self) -> float | None:
        """The engine's probability of fabrication where the settled verdict held it back for
        want of evidence ("score 0.98, no evidence"); None where it stands."""
        stored = self.stored.analysis.probabilities.get(Label.likely_fabrication.value, 0.0)
        return stored if self.p_fabrication < stored else None

    @property
    def review_status(self) -> str:
        return self.findings.review.describe() if self.findings.review else "not reviewed"

    @property
    def run_id(self) -> int | None:
        return self.stored.run_id

    def verdict_row(self, settled_at: str) -> tuple:
        """The article's row of the ``verdicts`` table."""
        p = self.probabilities
        return (
            self.article_id,
            self.label.value,
            self.confidence,
            p.get(Label.news.value, 0.0),
            p.get(Label.tribute.value, 0.0),
            self.p_fabrication,
            json.dumps([reason.value for reason in self.reasons]),
            self.review_status,
            self.night,
            self.run_id,
            settled_at,
        )


def settle_results(store: Store, results: Iterable[StoredResult], clock: NightClock) -> list[SettledArticle]:
    """These stored results settled, in their order: one read of the findings for all of them."""
    results = list(results)
    ids = [result.article.article_id for result in results]
    findings = batch_findings(store, ids)
    first_seen = store.first_seen_of(ids)
    calibration = calibration_in_force(store)
    settled = []
    for stored in results:
        found = findings.get(stored.article.article_id, BatchFindings())
        evidence = found.batch_evidence(stored.analysis)
        analysis = settle_with_evidence(stored.analysis, evidence, calibration)
        settled.append(
            SettledArticle(
                stored=stored,
                findings=found,
                evidence=evidence,
                result=stored if analysis is stored.analysis else replace(stored, analysis=analysis),
                reasons=merged_reasons(stored.analysis, found),
                night=clock.night_of(first_seen.get(stored.article.article_id, stored.created_at)),
            )
        )
    return settled


def _verdict_article_ids(store: Store, *, missing_only: bool = False) -> list[str]:
    """Every article with a result, or (``missing_only``) those without a ``verdicts`` row yet."""
    missing = " WHERE article_id NOT IN (SELECT article_id FROM verdicts)" if missing_only else ""
    return [row[0] for row in store.db.execute(f"SELECT DISTINCT article_id FROM result{missing} ORDER BY article_id")]


def _stale_cached_article_ids(store: Store, run_id: int) -> list[str]:
    """The run's cached articles whose ``verdicts`` row is missing or settles an earlier result."""
    rows = store.db.execute(
        """SELECT DISTINCT o.article_id FROM outcome o JOIN latest_result r ON r.article_id = o.article_id
           LEFT JOIN verdicts v ON v.article_id = o.article_id
           WHERE o.run_id = ? AND o.status = 'cached' AND (v.article_id IS NULL OR v.run_id IS NOT r.run_id)""",
        (run_id,),
    )
    return [row[0] for row in rows]


def _save_verdicts(store: Store, rows: list[tuple]) -> None:
    with store.transaction():
        store.db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def refresh_verdicts(store: Store, clock: NightClock, article_ids: Iterable[str] | None = None) -> int:
    """Write the ``verdicts`` rows of these articles (None: every article), in blocks, and of
    any article without a row yet (a store upgraded from before the table); returns how many."""
    wanted = _verdict_article_ids(store) if article_ids is None else list(dict.fromkeys(article_ids))
    remaining = iter(dict.fromkeys([*wanted, *_verdict_article_ids(store, missing_only=True)]))
    written = 0
    while block := list(islice(remaining, _BLOCK)):
        now = utc_now()
        rows = [article.verdict_row(now) for article in settle_results(store, store.latest_results(block), clock)]
        _save_verdicts(store, rows)
        written += len(rows)
    return written


def refresh_run_verdicts(store: Store, clock: NightClock, run_id: int, insight: InsightSummary) -> int:
    """Refresh the verdicts a run changed: the articles it analysed, every member of the clusters
    it touched (history included) and every article its deaths flagged. A cached article's result
    did not change, so its row stands unless a cluster or death names it or the row is stale (an
    interrupted run stored the result and never settled it): a cached re-run rewrites nothing."""
    ids = [o["article_id"] for o in store.outcomes(run_id) if o["status"] == "ok" and o["article_id"]]
    ids += _stale_cached_article_ids(store, run_id)
    ids += [article_id for members in insight.clusters.values() for article_id in members]
    ids += [flag.article_id for flag in insight.posthumous]
    return refresh_verdicts(store, clock, ids)


def learn_and_settle(store: Store, settings: Settings, *, only_when_new: bool = False) -> LearnOutcome | None:
    """``learn`` (``only_when_new``: only when the desk gave a verdict since the last fit was
    tried, else None), then every verdict settled again when a new fit came into force."""
    if only_when_new and not has_new_verdicts(store):
        return None
    outcome = learn(store, settings)
    if outcome.changed:
        refresh_verdicts(store, settings.night_clock)
    return outcome


def rollback_and_settle(store: Store, clock: NightClock) -> Calibration:
    """``rollback``, then every verdict settled again."""
    calibration = rollback(store)
    refresh_verdicts(store, clock)
    return calibration
