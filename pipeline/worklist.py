"""The desk's worklist: likely fabrications and high-priority claims, most urgent first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .models import ClaimDraft, Label, Priority
from .store import StoredResult

__all__ = ["WorkItem", "fabrications_first", "claims_worklist"]

_PRIORITY_RANK = {Priority.high: 0, Priority.medium: 1, Priority.low: 2}


@dataclass(frozen=True)
class WorkItem:
    result: StoredResult
    claim: ClaimDraft


def fabrications_first(results: Iterable[StoredResult]) -> list[StoredResult]:
    """Likely fabrications, most confident first."""
    flagged = [r for r in results if r.analysis.label is Label.likely_fabrication]
    return sorted(flagged, key=lambda r: (-r.analysis.confidence, r.article.source_path))


def claims_worklist(results: Iterable[StoredResult], priorities: frozenset[Priority] = frozenset({Priority.high})) -> list[WorkItem]:
    """Claims of these priorities: by priority, fabrications before the rest, then taking
    turns across articles (each article's first claim before anyone's second, so one long
    article doesn't fill the top of the list), then by the article's confidence."""
    ranked = [
        (_PRIORITY_RANK[claim.priority], r.analysis.label is not Label.likely_fabrication, turn, -r.analysis.confidence, order, r, claim)
        for order, r in enumerate(results)
        for turn, claim in enumerate(c for c in r.analysis.claims if c.priority in priorities)
    ]
    return [WorkItem(result, claim) for *_, result, claim in sorted(ranked, key=lambda row: row[:5])]
