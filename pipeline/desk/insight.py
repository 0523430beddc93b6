"""Batch-level insight, computed after a run: template clusters and posthumous attribution.

The runner calls ``update_batch_insight(store, run_id)`` once the run's results are
stored. Findings live in their own tables, never in the cached answer: a cached
LLM analysis stays byte-for-byte what the model said (and re-parsable), while the
settled article (``pipeline.desk.settled``) merges the batch reasons in through ``BatchFindings``
(``template_language`` for a cluster member, ``posthumous_attribution`` for a
flagged article). A later run can change clusters without touching the cache.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pipeline.checks.verdict import BatchEvidence, batch_evidence
from pipeline.desk.clusters import ClusterMember, cluster_members, update_clusters
from pipeline.desk.factchecks import FactCheckMatch, factcheck_evidence, factcheck_matches, is_debunk, match_results
from pipeline.models import Analysis, Label, ReasonCode, VerifiedQuote
from pipeline.desk.posthumous import PosthumousFlag, posthumous_flags, update_posthumous
from pipeline.desk.reviews import ReviewStatus, review_statuses
from pipeline.desk.source_lists import ListedSource, SourceStanding, article_urls, source_standings
from pipeline.store import Store
from pipeline.text import person_names

__all__ = [
    "BatchFindings",
    "PhaseProgress",
    "InsightSummary",
    "update_batch_insight",
    "batch_findings",
    "merged_reasons",
    "names_swapped",
]

_LOG = logging.getLogger(__name__)

_NAMES_PER_VARIANT = 2

PhaseProgress = Callable[[str, int, int], None]
"""Hears (phase, articles done, articles in all) during a run's batch insight."""


@dataclass(frozen=True)
class BatchFindings:
    """What the batch says about one article beyond its own analysis."""

    cluster: ClusterMember | None = None
    posthumous: list[PosthumousFlag] = field(default_factory=list)
    factchecks: list[FactCheckMatch] = field(default_factory=list)
    review: ReviewStatus | None = None
    source: ListedSource | None = None
    template: bool = False
    """The cluster is a template reused with other people (``names_swapped``), not one story retold."""
    unconfirmed_deaths: list[PosthumousFlag] = field(default_factory=list)
    """Quotes and acts of people one source alone says died: notes for the desk, not evidence."""

    @property
    def settled(self) -> bool:
        """The desk has reviewed it and nothing new joined its story: off the worklist."""
        return self.review is not None and self.review.settled

    @property
    def desk_notes(self) -> list[str]:
        """What the desk already knows, one line each: fact-checks, review, source standing."""
        notes = factcheck_evidence(self.factchecks)
        notes += list(dict.fromkeys(flag.describe() for flag in self.unconfirmed_deaths))
        if self.review is not None:
            notes.append(self.review.describe())
        if self.source is not None:
            notes.append(self.source.describe())
        return notes

    def evidence(self) -> list[str]:
        """The desk's memory that speaks for a fabrication: debunking checks, an unreliable source."""
        found = factcheck_evidence(m for m in self.factchecks if is_debunk(m.rating))
        if self.source is not None and self.source.standing is SourceStanding.unreliable:
            found.append(f"source listed unreliable: {self.source.domain}")
        return found

    def batch_evidence(self, analysis: Analysis) -> BatchEvidence:
        """The article's evidence of fabrication with what the batch and the desk add."""
        return batch_evidence(analysis, template=self.template, posthumous=bool(self.posthumous), desk=self.evidence())

    @property
    def reasons(self) -> list[ReasonCode]:
        reasons = []
        if self.cluster is not None:
            reasons.append(ReasonCode.template_language)
        if self.posthumous:
            reasons.append(ReasonCode.posthumous_attribution)
        return reasons

    def to_record(self) -> dict[str, Any]:
        """The ``batch`` object of the JSONL export (documented in README)."""
        return {
            "reasons": [reason.value for reason in self.reasons],
            "cluster": None
            if self.cluster is None
            else {
                "cluster_id": self.cluster.cluster_id,
                "size": self.cluster.size,
                "best_jaccard": self.cluster.best_jaccard,
            },
            "posthumous": [
                {
                    "person": flag.person,
                    "kind": flag.kind,
                    "start": flag.start,
                    "end": flag.end,
                    "evidence_article_id": flag.evidence_article_id,
                }
                for flag in self.posthumous
            ],
            "unconfirmed_deaths": [
                {
                    "person": flag.person,
                    "kind": flag.kind,
                    "start": flag.start,
                    "end": flag.end,
                    "evidence_article_id": flag.evidence_article_id,
                }
                for flag in self.unconfirmed_deaths
            ],
            "review": None if self.review is None else self.review.to_record(),
            "source": None if self.source is None else self.source.to_record(),
        }


@dataclass(frozen=True)
class InsightSummary:
    """What ``update_batch_insight`` found: the run's clusters (id -> article ids, history
    included) and every posthumous flag on the run's articles."""

    articles: int
    clusters: dict[str, list[str]]
    posthumous: list[PosthumousFlag]


def update_batch_insight(store: Store, run_id: int, on_phase: PhaseProgress | None = None) -> InsightSummary:
    """Cluster the articles the run analysed with each other and with history, and flag
    posthumous quotes and acts against every death the store knows of. ``on_phase`` hears
    (phase, done, total) as each phase starts, moves and ends: the insight over a night's
    articles takes long enough to need showing.

    Cached articles were clustered and flagged in the run that analysed them, if its insight
    completed: the articles of earlier runs whose insight failed or was interrupted are taken
    up here too, so no death they state goes unrecorded once they come back cached."""
    runs = store.insight_pending(run_id)
    ids = list(dict.fromkeys(article_id for run in runs for article_id in store.analysed_article_ids(run)))
    tell = on_phase or (lambda _phase, _done, _total: None)

    def analysed() -> Iterator[tuple[str, str, list[VerifiedQuote]]]:
        for run in runs:
            for result in store.iter_results(run, analysed_only=True):
                yield result.article.article_id, result.article.text, result.analysis.quotes

    _LOG.info("clusters: grouping %d analysed article(s) with each other and with history", len(ids))
    tell("clusters", 0, len(ids))
    members = update_clusters(store, ids).members
    tell("clusters", len(ids), len(ids))
    _LOG.info("register: checking %d article(s) against the death register", len(ids))
    tell("death register", 0, len(ids))
    flags = update_posthumous(store, analysed, lambda done: tell("death register", done, len(ids)))
    tell("death register", len(ids), len(ids))
    _LOG.info("matching: the run's articles against the known fact-checks")
    tell("fact-check matching", 0, len(ids))
    match_results(store, (result for run in runs for result in store.iter_results(run)))
    tell("fact-check matching", len(ids), len(ids))
    store.insight_done(runs)
    wanted = set(ids)
    touched = {member.cluster_id for member in members if member.article_id in wanted}
    clusters: dict[str, list[str]] = {}
    for member in members:
        if member.cluster_id in touched:
            clusters.setdefault(member.cluster_id, []).append(member.article_id)
    return InsightSummary(articles=len(ids), clusters=clusters, posthumous=flags)


def batch_findings(store: Store, article_ids: Iterable[str] | None = None) -> dict[str, BatchFindings]:
    """Stored findings per article id (articles without any are absent)."""
    wanted = None if article_ids is None else set(article_ids)
    clusters = {m.article_id: m for m in cluster_members(store, wanted)}
    flags: dict[str, list[PosthumousFlag]] = {}
    unconfirmed: dict[str, list[PosthumousFlag]] = {}
    for flag in posthumous_flags(store, wanted):
        (flags if flag.confirmed else unconfirmed).setdefault(flag.article_id, []).append(flag)
    checks = factcheck_matches(store, wanted)
    statuses = review_statuses(store, wanted)
    sources = source_standings(store, article_urls(store, wanted))
    templates = _template_clusters(store, {member.cluster_id for member in clusters.values()})
    return {
        article_id: BatchFindings(
            cluster=clusters.get(article_id),
            posthumous=flags.get(article_id, []),
            factchecks=checks.get(article_id, []),
            review=statuses.get(article_id),
            source=sources.get(article_id),
            template=article_id in clusters and clusters[article_id].cluster_id in templates,
            unconfirmed_deaths=unconfirmed.get(article_id, []),
        )
        for article_id in clusters.keys() | flags.keys() | unconfirmed.keys() | checks.keys() | statuses.keys() | sources.keys()
    }


def merged_reasons(analysis: Analysis, findings: BatchFindings | None) -> list[ReasonCode]:
    """The analysis's reasons followed by the batch's, without duplicates."""
    reasons = list(analysis.reasons)
    for reason in findings.reasons if findings else []:
        if reason not in reasons:
            reasons.append(reason)
    return reasons


def _main_people(text: str) -> frozenset[str]:
    counts = Counter(name for _, _, name in person_names(text) if " " in name)
    return frozenset(name for name, _ in counts.most_common(_NAMES_PER_VARIANT))


def names_swapped(texts: Iterable[str]) -> bool:
    """A template reused with other people, not one story told twice: some variant's main
    person is named nowhere in another variant. A rewrite of the same news names the same
    people, though which two it names most may change with the rewording."""
    variants = [(text.casefold(), _main_people(text)) for text in texts]
    if len(variants) < 2 or not all(people for _, people in variants):
        return False
    return any(
        any(name.casefold() not in other for name in people)
        for index, (_, people) in enumerate(variants)
        for other_index, (other, _) in enumerate(variants)
        if other_index != index
    )


def _template_clusters(store: Store, cluster_ids: set[str]) -> set[str]:
    """Of these clusters, the templates of a fabrication: variants that name different people
    (history included), at least one of them flagged by its own evidence. Shared wording alone
    is no template: on a dev night (train split) 73 genuine articles, restyled or on one
    political topic, clustered with other names and none beside a flagged variant."""
    variants: dict[str, list[str]] = {}
    for member in cluster_members(store, cluster_ids=cluster_ids):
        variants.setdefault(member.cluster_id, []).append(member.article_id)
    templates = set()
    for cluster_id, article_ids in variants.items():
        if not names_swapped(store.article_text(article_id) or "" for article_id in article_ids):
            continue
        if any(
            result.article.article_id == article_id and result.analysis.label is Label.likely_fabrication
            for article_id in article_ids
            for result in store.find_results(article_id)
        ):
            templates.add(cluster_id)
    return templates
