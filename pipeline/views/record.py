"""The record of one stored analysis: what ``show --json``, every export and the report read.

The engine's reasons are merged with the batch's (``pipeline.desk.insight``) and its verdict is
settled after the batch's evidence (``batch_verdict``) here, so every view of an article
says the same thing.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pipeline.desk.insight import BatchFindings, batch_verdict, merged_reasons
from pipeline.store import StoredResult

__all__ = ["article_record"]


def article_record(result: StoredResult, findings: BatchFindings | None = None) -> dict[str, Any]:
    """The stable JSON shape of one analysis with its provenance and batch findings (documented in README)."""
    found = findings or BatchFindings()
    result = batch_verdict(result, found)
    return {
        "article_id": result.article.article_id,
        "title": result.article.title,
        "url": result.article.url,
        "published": result.article.published,
        "sources": result.sources,
        **result.analysis.model_dump(mode="json", exclude={"article_id"}),
        "reasons": [reason.value for reason in merged_reasons(result.analysis, found)],
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
        "batch": found.to_record(),
        "factcheck_matches": [match.to_record() for match in found.factchecks],
    }
