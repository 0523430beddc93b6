"""The desk's worklist: likely fabrications and high-priority claims, most urgent first.

``sources`` (article id -> its listed source) lowers a trusted source's articles
(``source_lists.priority_steps``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .models import ClaimDraft, Label, Priority
from .source_lists import ListedSource, priority_steps
from .store import StoredResult

__all__ = ["WorkItem", "fabrications_first", "claims_worklist"]

_PRIORITY_RANK = {Priority.high: 0, Priority.medium: 1, Priority.low: 2}


@dataclass(frozen=True)
class WorkItem:
    result: StoredResult
    claim: ClaimDraft


def fabrications_first(results: Iterable[StoredResult], sources: Mapping[str, ListedSource] | None = None) -> list[StoredResult]:
    """Likely fabrications, a trusted source's last, most confident first."""
    sources = sources or {}
    flagged = [r for r in results if r.analysis.label is Label.likely_fabrication]
    return sorted(flagged, key=lambda r: (priority_steps(sources.get(r.article.article_id)), -r.analysis.confidence,
                                          r.article.source_path))


def claims_worklist(results: Iterable[StoredResult], priorities: frozenset[Priority] = frozenset({Priority.high}),
                    sources: Mapping[str, ListedSource] | None = None) -> list[WorkItem]:
    """Claims of these priorities: by priority (a trusted source's claims some steps lower),
    fabrications before the rest, then taking turns across articles (each article's first
    claim before anyone's second, so one long article doesn't fill the top of the list),
    then by the article's confidence."""
    sources = sources or {}
    ranked = [
        (_PRIORITY_RANK[claim.priority] + priority_steps(sources.get(r.article.article_id)),
         r.analysis.label is not Label.likely_fabrication, turn, -r.analysis.confidence, order, r, claim)
        for order, r in enumerate(results)
        for turn, claim in enumerate(c for c in r.analysis.claims if c.priority in priorities)
    ]
    return [WorkItem(result, claim) for *_, result, claim in sorted(ranked, key=lambda row: row[:5])]
