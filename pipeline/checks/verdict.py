"""The label policy, in one place: how a label is settled from calibrated probabilities and
evidence, how the batch's and the desk's evidence move the probability of fabrication
(log-odds), and how a probability prints. Engines, the runner, desk and views import it; it
imports nothing but the data models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.models import EVIDENCE_REASONS, Analysis, Label, ReasonCode, Signals

__all__ = [
    "DEFAULT_PRIOR",
    "BATCH_EVIDENCE_WEIGHT",
    "BatchEvidence",
    "batch_evidence",
    "decide_label",
    "settle_label",
    "settle_with_evidence",
    "consistent_label",
    "logit",
    "sigmoid",
    "probability_text",
]

DEFAULT_PRIOR = 0.05
"""The share of fabrications a feed is expected to hold when nobody says (``--prior``)."""

BATCH_EVIDENCE_WEIGHT = 3.5
"""Log-odds one piece of batch evidence (the template of a flagged story with names swapped, a
death the store knows of, a debunking fact-check, an unreliable source) adds to the article's
calibrated probability of fabrication: a likelihood ratio of e^3.5 = 33, hand-set like the
calibration's rules, as no labelled night holds template clusters of fabrications. Chosen so
that one piece alone flags an article the text puts at or a little under the feed's prior
(0.05 -> 0.64, 0.03 -> 0.53; the flag needs logit(0.5) - logit(0.05) = 2.9 at least), and
no more: one piece never nears certainty; two independent pieces on a suspect text can."""


def sigmoid(logit: float) -> float:
    if logit >= 0:
        return 1 / (1 + math.exp(-logit))
    z = math.exp(logit)
    return z / (1 + z)


def logit(probability: float) -> float:
    probability = min(max(probability, 1e-6), 1 - 1e-6)
    return math.log(probability / (1 - probability))


def probability_text(probability: float) -> str:
    """A probability as the editor reads it, two decimals, never 1.00 or 0.00: a calibrated
    model is never certain, so the ends read ">0.99" and "<0.01" (JSON keeps the float)."""
    if probability > 0.99:
        return ">0.99"
    if probability < 0.01:
        return "<0.01"
    return f"{probability:.2f}"


def decide_label(probabilities: dict[str, float], evidence: list[ReasonCode]) -> Label:
    """The likeliest label, except that likely_fabrication needs at least one piece of
    evidence: without any, the likelier of news and tribute."""
    fabrication = probabilities[Label.likely_fabrication.value]
    if evidence and fabrication >= max(probabilities[Label.news.value], probabilities[Label.tribute.value]):
        return Label.likely_fabrication
    return Label.tribute if probabilities[Label.tribute.value] > probabilities[Label.news.value] else Label.news


def settle_label(label: Label, confidence: float, reasons: list[ReasonCode], signals: Signals) -> tuple[Label, dict[str, float]]:
    """The final label and its probabilities, whatever engine answered. The engine's label
    keeps its confidence and the other labels share the rest as the offline scorer's calibrated
    probabilities do; a likely_fabrication without evidence (in the text's signals or among
    the engine's reasons) becomes the likelier of news and tribute, at the scorer's probabilities."""
    scores = signals.scores
    evidence = [*signals.evidence, *(reason for reason in reasons if reason in EVIDENCE_REASONS)]
    if label is Label.likely_fabrication and not evidence:
        label = decide_label(scores, [])
        return label, dict(scores)
    rest = sum(value for name, value in scores.items() if name != label.value)
    others = {name: (1 - confidence) * (value / rest if rest else 0.5) for name, value in scores.items() if name != label.value}
    return label, {name: round(value, 6) for name, value in {label.value: confidence, **others}.items()}


@dataclass(frozen=True)
class BatchEvidence:
    """An article's evidence: its own, what only the batch could see, and the desk memory's."""

    own: list[ReasonCode]
    added: list[ReasonCode]
    desk: list[str]

    @property
    def reasons(self) -> list[ReasonCode]:
        return self.own + self.added

    @property
    def count(self) -> int:
        return len(self.own) + len(self.added) + len(self.desk)


def batch_evidence(analysis: Analysis, *, template: bool, posthumous: bool, desk: list[str]) -> BatchEvidence:
    """The article's evidence of fabrication after the batch: its text's and engine's, then a
    template cluster, a posthumous contradiction and the desk's memory (one line a piece),
    each counted once."""
    own = list(dict.fromkeys([*analysis.signals.evidence, *(r for r in analysis.reasons if r in EVIDENCE_REASONS)]))
    # An engine's template_language on an article it did not flag is wording, not a cluster.
    if analysis.label is not Label.likely_fabrication and ReasonCode.template_language in own:
        own.remove(ReasonCode.template_language)
    batch = []
    if template:
        batch.append(ReasonCode.template_language)
    if posthumous:
        batch.append(ReasonCode.posthumous_attribution)
    added = [reason for reason in dict.fromkeys(batch) if reason not in own]
    return BatchEvidence(own=own, added=added, desk=list(desk))


def settle_with_evidence(analysis: Analysis, evidence: BatchEvidence) -> Analysis:
    """The analysis after the batch's evidence: the probability of fabrication moves
    ``BATCH_EVIDENCE_WEIGHT`` in log-odds per piece the article's own analysis could not see,
    the other labels keep their ratio, and the label is settled again by ``decide_label``
    (likely_fabrication needs evidence). Without such a piece, the analysis whose label its
    probabilities do not contradict (``consistent_label``)."""
    pieces = len(evidence.added) + len(evidence.desk)
    if not pieces:
        return consistent_label(analysis, evidence.own)
    before = analysis.probabilities.get(Label.likely_fabrication.value, 0.0)
    after = sigmoid(logit(before) + BATCH_EVIDENCE_WEIGHT * pieces)
    share = (1 - after) / (1 - before) if before < 1 else 0.0
    probabilities = {
        name: round(after if name == Label.likely_fabrication.value else value * share, 6)
        for name, value in analysis.probabilities.items()
    }
    label = decide_label(probabilities, [*evidence.reasons, *(ReasonCode.uncorroborated_event for _ in evidence.desk)])
    found = [reason.value.replace("_", " ") for reason in evidence.added] + evidence.desk
    rationale = f"{analysis.rationale} The batch adds evidence ({'; '.join(found)}): probability of fabrication {probability_text(before)} -> {probability_text(after)}."
    return analysis.model_copy(
        update={
            "label": label,
            "confidence": round(probabilities[label.value], 4),
            "probabilities": probabilities,
            "rationale": rationale,
        }
    )


def consistent_label(analysis: Analysis, evidence: list[ReasonCode]) -> Analysis:
    """The analysis with a label its probabilities never contradict. A probability of
    fabrication above the label's becomes the label when the article shows evidence; without
    evidence (likely_fabrication needs some) the label's probabilities are those of news and
    tribute alone, fabrication at 0, and the rationale keeps the unbacked score as such (the
    settled article's ``unbacked_score``). The same analysis when nothing contradicts."""
    p = analysis.probabilities
    fabrication = p.get(Label.likely_fabrication.value, 0.0)
    if analysis.label is Label.likely_fabrication or fabrication <= p.get(analysis.label.value, 0.0):
        return analysis
    if decide_label(p, evidence) is Label.likely_fabrication:
        return analysis.model_copy(update={"label": Label.likely_fabrication, "confidence": round(fabrication, 4)})
    rest = p.get(Label.news.value, 0.0) + p.get(Label.tribute.value, 0.0)
    held = {
        name: 0.0 if name == Label.likely_fabrication.value else round(value / rest if rest else 0.5, 6)
        for name, value in p.items()
    }
    label = decide_label(held, [])
    rationale = (
        f"{analysis.rationale} Score {probability_text(fabrication)} of fabrication, no evidence: "
        f"held at {label.value}, with the probabilities of news and tribute alone."
    )
    return analysis.model_copy(
        update={"label": label, "confidence": round(held[label.value], 4), "probabilities": held, "rationale": rationale}
    )
