"""What the review page shows: tonight's worklist, as every door shows it (ranked items, then
the audit sample), and the reviews of the night's articles, newest first, each marked when it
reviewed an audited article."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.desk.audits import audit_draws
from pipeline.desk.reviews import Review, reviews
from pipeline.settings import NightClock
from pipeline.store import Store
from pipeline.views.read import read_scope
from pipeline.views.worklist import Worklist, WorklistItem, article_title, worklist_of

__all__ = ["ReviewedEntry", "ReviewPage", "review_page", "item_target"]


@dataclass(frozen=True)
class ReviewedEntry:
    review: Review
    title: str
    audit: bool


@dataclass(frozen=True)
class ReviewPage:
    worklist: Worklist
    reviewed: list[ReviewedEntry] = field(default_factory=list)


def item_target(item: WorklistItem) -> str:
    """What a verdict on this item names: its story (template cluster) or its article."""
    return item.cluster_id or item.lead.article.article_id


def review_page(store: Store, clock: NightClock, limit: int | None, audit_sample: int) -> ReviewPage:
    """Tonight's worklist and the reviews of its articles."""
    scope = read_scope(store, clock)
    worklist = worklist_of(scope, limit, store, audit_sample, clock)
    titles = {article.article_id: article_title(article.result) for article in scope.articles}
    audited = {draw.article_id for draw in audit_draws(store, article_ids=titles)}
    entries = [
        ReviewedEntry(review, titles.get(review.article_ids[0], review.target), bool(audited & set(review.article_ids)))
        for review in reviews(store, titles)
    ]
    return ReviewPage(worklist, entries[::-1])
