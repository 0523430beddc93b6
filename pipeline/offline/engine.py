"""analyse_offline: the offline engine's whole answer for one article."""

from __future__ import annotations

from pipeline.checks.verdict import DEFAULT_PRIOR, decide_label, probability_text
from pipeline.models import (
    Article,
    ArticleVerdict,
    Label,
    QuoteDraft,
    ReasonCode,
    Signals,
    SpeakerKind,
)
from pipeline.offline.claims import find_claims
from pipeline.offline.label import calibration_digest
from pipeline.offline.model import weights_digest
from pipeline.offline.signals import SignalCounts, compute_signals, measure_signals
from pipeline.parsed import ParsedArticle, parsed

__all__ = ["analyse_offline", "OFFLINE_VERSION", "RULES_VERSION"]

RULES_VERSION = "8"
"""Bump whenever a rule changes; the weights and calibration files' digests cover the fitted numbers."""
OFFLINE_VERSION = f"offline-{RULES_VERSION}-{weights_digest()}-{calibration_digest()}"

_SUPERLATIVES_FOR_REASON = 1.5
_CROWD_QUOTES_FOR_REASON = 2
_NAMED_SHARE_FOR_REASON = 0.8


def _style_reasons(counts: SignalCounts) -> list[ReasonCode]:
    """Marks of style and of unchecked reactions: shown as reasons, never enough for the label."""
    reasons = []
    if sum(q.speaker_kind == SpeakerKind.crowd for q in counts.quotes) >= _CROWD_QUOTES_FOR_REASON:
        reasons.append(ReasonCode.invented_reactions)
    if counts.viral_metrics:
        reasons.append(ReasonCode.viral_metrics)
    if not counts.has_dateline:
        reasons.append(ReasonCode.no_dateline)
    # Stock phrases of the viral template are wording; template_language is kept for a template
    # cluster, which is evidence.
    if counts.superlative_density >= _SUPERLATIVES_FOR_REASON or counts.emoji_headings or counts.template_phrases:
        reasons.append(ReasonCode.emotional_language)
    return reasons


def _plain(codes: list[ReasonCode]) -> str:
    return ", ".join(code.value.replace("_", " ") for code in codes)


def _decide(text: str, counts: SignalCounts, signals: Signals) -> tuple[Label, float, list[ReasonCode], str]:
    probabilities = signals.scores
    fabrication = probabilities[Label.likely_fabrication.value]
    label = decide_label(probabilities, signals.evidence)
    style = _style_reasons(counts)
    if label is Label.likely_fabrication:
        rationale = f"Probability of fabrication {probability_text(fabrication)}; evidence: {_plain(signals.evidence)}" + (
            f"; style marks: {_plain(style)}." if style else "."
        )
        return label, probabilities[label.value], signals.evidence + style, rationale
    reasons = [ReasonCode.honours_person] if label is Label.tribute else []
    if counts.quote_count and 1 - counts.unnamed_quote_share >= _NAMED_SHARE_FOR_REASON:
        reasons.append(ReasonCode.named_sourcing)
    what = "honours a person and its events look ordinary" if label is Label.tribute else "reads as ordinary reporting"
    unbacked = (
        " (no evidence of fabrication, so style alone does not flag it)" if fabrication > probabilities[label.value] else ""
    )
    rationale = f"Probability of fabrication {probability_text(fabrication)}: the piece {what}{unbacked}."
    return label, probabilities[label.value], reasons, rationale


def analyse_offline(article: Article, prior: float = DEFAULT_PRIOR, parse: ParsedArticle | None = None) -> ArticleVerdict:
    """Label, quotes and claims for one article, by rule and the fitted, calibrated models,
    for a feed with ``prior`` fabrications (``parse``: the article's parse, where the caller
    has made it)."""
    read = parse or parsed(article.text)
    counts = measure_signals(read)
    signals = compute_signals(read, prior)
    label, confidence, reasons, rationale = _decide(article.text, counts, signals)
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
        claims=find_claims(read),
    )
