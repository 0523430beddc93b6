"""One article's analysis, however its answer arrives: asked live, answered in a Batch API
file, or journalled by an earlier run. Every quote is verified against the text and the
label settled the same way on every path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pipeline.checks.quotes import verify_quotes
from pipeline.checks.verdict import DEFAULT_PRIOR, settle_label
from pipeline.engines import AnalysisEngine, CannedEngine, OfflineEngine
from pipeline.models import (
    Analysis,
    Article,
    CacheIdentity,
    EngineAnswer,
    ReasonCode,
    SpeakerKind,
    Usage,
    VerifiedQuote,
)
from pipeline.offline import compute_signals
from pipeline.parsed import ParsedArticle

if TYPE_CHECKING:
    from pipeline.engines.openai_client import LLMEngine

__all__ = ["analyse_article", "analyse_completion"]


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
    stated = engine.identity.engine != OfflineEngine.name  # an LLM's confidence is a score, not a probability
    label, probabilities = settle_label(verdict.label, verdict.confidence, reasons, signals, stated=stated)
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
