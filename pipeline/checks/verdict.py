"""The label policy, in one place: how a label is settled from calibrated probabilities and
evidence, how the batch's and the desk's evidence move the probability of fabrication
(log-odds), and how a probability prints. Engines, the runner, desk and views import it; it
imports nothing but the data models.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from pipeline.models import EVIDENCE_REASONS, Analysis, Label, ReasonCode, Signals

__all__ = [
    "DEFAULT_PRIOR",
    "BATCH_EVIDENCE_WEIGHT",
    "STATED_CONFIDENCE_BOUNDS",
    "STATED_CONFIDENCE_MAP",
    "PROBABILITY_BOUNDS",
    "CALIBRATION_FEATURES",
    "SHIPPED_CALIBRATION",
    "BatchEvidence",
    "Calibration",
    "batch_evidence",
    "bounded_confidence",
    "calibration_features",
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


STATED_CONFIDENCE_BOUNDS = (0.02, 0.98)
"""An LLM engine's stated confidence is a score: clipped to these before it means anything."""

STATED_CONFIDENCE_MAP = (0.5, 0.0)
"""The shipped Platt map (slope, intercept on the log-odds) from a clipped stated confidence to
a probability: hand-set, halving the log-odds (0.98 -> 0.88, 0.9 -> 0.75, 0.5 -> 0.5), as no
labelled LLM answers exist to fit it on; ``pipeline learn`` refits on the desk's verdicts."""

PROBABILITY_BOUNDS = (1e-4, 1 - 1e-4)
"""No settled probability of fabrication leaves these: evidence can always move it."""


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


def bounded_confidence(confidence: float) -> float:
    """An LLM engine's stated confidence as a probability strictly inside (0, 1): clipped to
    ``STATED_CONFIDENCE_BOUNDS``, then mapped by ``STATED_CONFIDENCE_MAP``."""
    low, high = STATED_CONFIDENCE_BOUNDS
    slope, intercept = STATED_CONFIDENCE_MAP
    return sigmoid(slope * logit(min(max(confidence, low), high)) + intercept)


def decide_label(probabilities: dict[str, float], evidence: list[ReasonCode]) -> Label:
    """The likeliest label, except that likely_fabrication needs at least one piece of
    evidence: without any, the likelier of news and tribute."""
    fabrication = probabilities[Label.likely_fabrication.value]
    if evidence and fabrication >= max(probabilities[Label.news.value], probabilities[Label.tribute.value]):
        return Label.likely_fabrication
    return Label.tribute if probabilities[Label.tribute.value] > probabilities[Label.news.value] else Label.news


def settle_label(
    label: Label, confidence: float, reasons: list[ReasonCode], signals: Signals, *, stated: bool = False
) -> tuple[Label, dict[str, float]]:
    """The final label and its probabilities, whatever engine answered. The engine's label
    keeps its confidence (``stated``: an LLM's stated confidence, first made a bounded
    probability by ``bounded_confidence``) and the other labels share the rest as the offline
    scorer's calibrated probabilities do; the label is then settled from those probabilities
    (``decide_label``), so it never contradicts them. A likely_fabrication without evidence (in
    the text's signals or among the engine's reasons) takes the scorer's probabilities."""
    scores = signals.scores
    evidence = [*signals.evidence, *(reason for reason in reasons if reason in EVIDENCE_REASONS)]
    if label is Label.likely_fabrication and not evidence:
        return decide_label(scores, []), dict(scores)
    if stated:
        confidence = bounded_confidence(confidence)
    rest = sum(value for name, value in scores.items() if name != label.value)
    others = {name: (1 - confidence) * (value / rest if rest else 0.5) for name, value in scores.items() if name != label.value}
    probabilities = {name: round(value, 6) for name, value in {label.value: confidence, **others}.items()}
    return decide_label(probabilities, evidence), probabilities


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


CALIBRATION_FEATURES = (
    "score",
    *sorted(reason.value for reason in EVIDENCE_REASONS),
    "batch_evidence",
    "style_risk",
)
"""What the settled probability of fabrication is computed from: the engine's score (the
log-odds of its own probability: the offline calibrated word score, or an LLM's mapped
confidence), each piece of evidence the article's own analysis shows (0 or 1), the pieces the
batch and the desk add, and the style risk (0 to 1)."""


@dataclass(frozen=True)
class Calibration:
    """The settled log-odds of fabrication: ``intercept`` plus a weight per feature of
    ``CALIBRATION_FEATURES`` (absent: 0). ``fit_id``: the desk's fit it came from (None: shipped)."""

    intercept: float
    weights: Mapping[str, float] = field(default_factory=dict)
    fit_id: int | None = None

    def logit(self, features: Mapping[str, float]) -> float:
        return self.intercept + sum(self.weights.get(name, 0.0) * value for name, value in features.items())

    def vector(self) -> list[float]:
        """The intercept, then the weights in ``CALIBRATION_FEATURES`` order."""
        return [self.intercept, *(self.weights.get(name, 0.0) for name in CALIBRATION_FEATURES)]

    @classmethod
    def from_vector(cls, vector: list[float], fit_id: int | None = None) -> Calibration:
        return cls(vector[0], dict(zip(CALIBRATION_FEATURES, vector[1:], strict=True)), fit_id)


SHIPPED_CALIBRATION = Calibration(0.0, {"score": 1.0, "batch_evidence": BATCH_EVIDENCE_WEIGHT})
"""Before the desk's first fit: the engine's probability, moved ``BATCH_EVIDENCE_WEIGHT`` per
piece of evidence the batch or the desk adds; its own evidence is in the engine's score already."""


def calibration_features(analysis: Analysis, evidence: BatchEvidence) -> dict[str, float]:
    """The article's values of ``CALIBRATION_FEATURES``."""
    low, high = PROBABILITY_BOUNDS  # a row stored before bounded confidences may hold 0 or 1
    score = logit(min(max(analysis.probabilities.get(Label.likely_fabrication.value, 0.0), low), high))
    own = {reason.value for reason in evidence.own}
    return {
        "score": score,
        **{reason.value: float(reason.value in own) for reason in EVIDENCE_REASONS},
        "batch_evidence": float(len(evidence.added) + len(evidence.desk)),
        "style_risk": analysis.signals.style_risk,
    }


def settle_with_evidence(analysis: Analysis, evidence: BatchEvidence, calibration: Calibration = SHIPPED_CALIBRATION) -> Analysis:
    """The analysis after the batch's evidence and the desk's calibration: the probability of
    fabrication is ``calibration``'s (shipped: the engine's, moved ``BATCH_EVIDENCE_WEIGHT`` in
    log-odds per piece the article's own analysis could not see), kept inside
    ``PROBABILITY_BOUNDS``; the other labels keep their ratio, and the label is settled again
    by ``decide_label`` (likely_fabrication needs evidence) and kept uncontradicted by its
    probabilities (``consistent_label``)."""
    before = analysis.probabilities.get(Label.likely_fabrication.value, 0.0)
    low, high = PROBABILITY_BOUNDS
    after = round(min(max(sigmoid(calibration.logit(calibration_features(analysis, evidence))), low), high), 6)
    if after == round(before, 6):
        return consistent_label(analysis, evidence.own)
    rest = 1 - before
    probabilities = {
        name: after if name == Label.likely_fabrication.value else round((1 - after) * (value / rest if rest > 0 else 0.5), 6)
        for name, value in analysis.probabilities.items()
    }
    label = decide_label(probabilities, [*evidence.reasons, *(ReasonCode.uncorroborated_event for _ in evidence.desk)])
    moved = []
    if evidence.added or evidence.desk:
        found = [reason.value.replace("_", " ") for reason in evidence.added] + evidence.desk
        moved.append(f"The batch adds evidence ({'; '.join(found)})")
    if calibration.fit_id is not None:
        moved.append(f"the desk's calibration (fit {calibration.fit_id}) applies")
    if not moved:
        moved.append("Kept off certainty")
    rationale = f"{analysis.rationale} {'; '.join(moved)}: probability of fabrication {probability_text(before)} -> {probability_text(after)}."
    settled = analysis.model_copy(
        update={
            "label": label,
            "confidence": round(probabilities[label.value], 4),
            "probabilities": probabilities,
            "rationale": rationale,
        }
    )
    return consistent_label(settled, [*evidence.reasons, *(ReasonCode.uncorroborated_event for _ in evidence.desk)])


def consistent_label(analysis: Analysis, evidence: list[ReasonCode]) -> Analysis:
    """The analysis with a label its probabilities never contradict. A probability of
    fabrication above the label's becomes the label when the article shows evidence; without
    evidence (likely_fabrication needs some) the label's probabilities are those of news and
    tribute alone, fabrication at the floor of ``PROBABILITY_BOUNDS`` (never 0), and the rationale keeps the unbacked score as such (the
    settled article's ``unbacked_score``). The same analysis when nothing contradicts."""
    p = analysis.probabilities
    fabrication = p.get(Label.likely_fabrication.value, 0.0)
    if analysis.label is Label.likely_fabrication or fabrication <= p.get(analysis.label.value, 0.0):
        return analysis
    if decide_label(p, evidence) is Label.likely_fabrication:
        return analysis.model_copy(update={"label": Label.likely_fabrication, "confidence": round(fabrication, 4)})
    rest = p.get(Label.news.value, 0.0) + p.get(Label.tribute.value, 0.0)
    # Held at the floor, never 0: a later piece of evidence must still be able to move it.
    floor = PROBABILITY_BOUNDS[0]
    held = {
        name: floor if name == Label.likely_fabrication.value else round((1 - floor) * (value / rest if rest else 0.5), 6)
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
