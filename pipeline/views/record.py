"""The record of one settled article: what ``show --json``, the JSONL export and the CSV read.

The label, confidence, probabilities and rationale are the settled verdict's, the reasons the
engine's merged with the batch's (``pipeline.desk.settled``), so every view of an article says
the same thing.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pipeline.desk.settled import SettledArticle

__all__ = ["article_record"]


def article_record(article: SettledArticle) -> dict[str, Any]:
    """The stable JSON shape of one analysis with its provenance and batch findings (documented in
    README); every offset in it indexes its ``text``, the normalised text, not the file as written."""
    result, found = article.result, article.findings
    return {
        "article_id": result.article.article_id,
        "title": result.article.title,
        "url": result.article.url,
        "published": result.article.published,
        "sources": result.sources,
        **result.analysis.model_dump(mode="json", exclude={"article_id"}),
        "reasons": [reason.value for reason in article.reasons],
        **asdict(result.identity),
        "usage": {
            "requests": result.requests,
            "input_tokens": result.input_tokens,
            "output_tokens": result.output_tokens,
        },
        "latency_ms": result.latency_ms,
        "run_id": result.run_id,
        "created_at": result.created_at,
        "cache_key": result.cache_key,
        "review_status": article.review_status,
        "review_verdict": article.findings.review.review.verdict.value if article.findings.review else None,
        "fabrication_score": article.unbacked_score,
        "night": article.night,
        "text": result.article.text,
        "offsets_index": "text",
        "batch": found.to_record(),
        "factcheck_matches": [match.to_record() for match in found.factchecks],
    }
