"""analyse_offline: the offline engine's whole answer for one article."""

from __future__ import annotations

from pipeline.models import (
    Article,
    ArticleVerdict,
    Label,
    QuoteDraft,
    ReasonCode,
    SpeakerKind,
)
from pipeline.offline.claims import find_claims
from pipeline.offline.label import tribute_strength
from pipeline.offline.model import weights_digest
from pipeline.offline.signals import SignalCounts, measure_signals, signals_from_counts

__all__ = ["analyse_offline", "OFFLINE_VERSION", "RULES_VERSION"]

RULES_VERSION = "4"
"""Bump whenever a rule changes; the weights file's digest covers the fitted numbers."""
OFFLINE_VERSION = f"offline-{RULES_VERSION}-{weights_digest()}"

_UNNAMED_SHARE_FOR_REASON = 0.3
_SUPERLATIVES_FOR_REASON = 1.5
_CROWD_QUOTES_FOR_REASON = 2
_NAMED_SHARE_FOR_REASON = 0.8
_TRIBUTE_STRENGTH = 1.0


def _fabrication_reasons(counts: SignalCounts) -> list[ReasonCode]:
    reasons = []
    if counts.quote_count and counts.unnamed_quote_share >= _UNNAMED_SHARE_FOR_REASON:
        reasons.append(ReasonCode.anonymous_sourcing)
    if counts.unverifiable_media:
        reasons.append(ReasonCode.unverifiable_media)
    if sum(q.speaker_kind == SpeakerKind.crowd for q in counts.quotes) >= _CROWD_QUOTES_FOR_REASON:
        reasons.append(ReasonCode.invented_reactions)
    if counts.posthumous_attributions:
        reasons.append(ReasonCode.posthumous_attribution)
    if counts.viral_metrics:
        reasons.append(ReasonCode.viral_metrics)
    if counts.template_phrases:
        reasons.append(ReasonCode.template_language)
    if not counts.has_dateline:
        reasons.append(ReasonCode.no_dateline)
    if counts.superlative_density >= _SUPERLATIVES_FOR_REASON or counts.emoji_headings:
        reasons.append(ReasonCode.emotional_language)
    return reasons


def _decide(text: str, counts: SignalCounts, scores: dict[str, float]) -> tuple[Label, float, list[ReasonCode], str]:
    fabrication = scores[Label.likely_fabrication.value]
    flags = _fabrication_reasons(counts)
    if fabrication >= 0.5:
        named = ", ".join(code.value.replace("_", " ") for code in flags[:4]) or "its wording"
        rationale = f"Fabrication score {fabrication:.2f}: the text resembles invented stories ({named})."
        return Label.likely_fabrication, fabrication, flags, rationale
    honours = tribute_strength(text) >= _TRIBUTE_STRENGTH
    label = Label.tribute if honours else Label.news
    reasons = [ReasonCode.honours_person] if honours else []
    if counts.quote_count and 1 - counts.unnamed_quote_share >= _NAMED_SHARE_FOR_REASON:
        reasons.append(ReasonCode.named_sourcing)
    what = "honours a person and its events look ordinary" if honours else "reads as ordinary reporting"
    rationale = f"Fabrication score {fabrication:.2f}: the piece {what}."
    return label, 1 - fabrication, reasons, rationale


def analyse_offline(article: Article) -> ArticleVerdict:
    """Label, quotes and claims for one article, by rule and the fitted linear models."""
    counts = measure_signals(article.text)
    signals = signals_from_counts(article.text, counts)
    label, confidence, reasons, rationale = _decide(article.text, counts, signals.scores)
    quotes = [
        QuoteDraft(speaker=q.speaker, speaker_kind=q.speaker_kind, text=q.text, cue=q.cue, channel=q.channel)
        for q in counts.quotes
    ]
    return ArticleVerdict(
        label=label,
        confidence=round(confidence, 4),
        reasons=reasons,
        rationale=rationale,
        quotes=quotes,
        claims=find_claims(article.text),
    )
