"""Stored articles with a chosen label, for the tests of the desk's memory."""

from __future__ import annotations

from pipeline.models import Analysis, Article, ClaimDraft, Label, Signals
from pipeline.store import CacheIdentity, Store

from . import SEEDS

__all__ = ["CLAIM_REVIEW", "SEED_TEXTS", "SIGNALS", "store_article"]

SEED_TEXTS = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
# A published check that debunks the first seed.
CLAIM_REVIEW = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://checks.example.org/hough-goodman-video",
    "claimReviewed": "Derek Hough released a never-before-seen dance video with the late Len Goodman.",
    "author": {"@type": "Organization", "name": "Example Checks"},
    "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5, "alternateName": "False"},
    "datePublished": "2026-11-20",
    "itemReviewed": {
        "@type": "Claim",
        "author": {"@type": "Person", "name": "viral posts"},
        "appearance": [{"@type": "CreativeWork", "url": "https://viral.example.net/a-dance"}],
    },
}

SIGNALS = Signals(
    quote_count=0,
    unnamed_quote_share=0,
    unverifiable_media=0,
    viral_metrics=0,
    superlative_density=0,
    emoji_headings=0,
    has_dateline=False,
    posthumous_attributions=0,
    template_phrases=0,
    scores={},
)


def store_article(
    store: Store,
    article_id: str,
    text: str,
    label: Label,
    *,
    url: str | None = None,
    claims: list[ClaimDraft] | None = None,
    title: str | None = None,
    confidence: float = 0.8,
) -> int:
    """Save one analysed article in its own run; returns the run id."""
    article = Article(
        article_id=article_id, text=text, title=title, url=url, published=None, source_path=f"{article_id}.txt", record_id=None
    )
    analysis = Analysis(
        article_id=article_id,
        label=label,
        confidence=confidence,
        reasons=[],
        rationale="",
        quotes=[],
        rejected_quotes=[],
        claims=claims or [],
        signals=SIGNALS,
    )
    identity = CacheIdentity("offline", "offline", "offline", "v1", "p", "s", {})
    run_id = store.start_run("offline", "offline")
    store.save_result(run_id, article, f"key-{article_id}", identity, analysis, [], 0)
    store.finish_run(run_id, "finished")
    return run_id
