"""The offline label: calibrated probabilities of news, tribute and likely_fabrication.

Three steps, each fitted or set in one place:

1. a linear word score (``data/offline_weights.json``, ``label``), fitted on human-written
   articles only and without style words, so that wording an LLM or a tabloid adds is no evidence;
2. a calibration (``data/offline_calibration.json``): logistic regression of the fabrication
   class on that score and the evidence the text shows, fitted on out-of-fold scores of the dev
   training split (Platt scaling with the evidence as further inputs), plus hand-set weights
   for the signals the public data barely shows (a dead person acting);
3. the base-rate correction: the fit's data had ``base_rate`` fabrications, a feed has
   ``prior`` (``--prior``, ``PIPELINE_FABRICATION_PRIOR``), so the log-odds move by the
   difference of the two priors' log-odds.

What is not fabrication is shared between news and tribute by the tribute cues.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pipeline.models import Label
from pipeline.checks.verdict import DEFAULT_PRIOR, logit, sigmoid
from pipeline.offline.model import load_models

__all__ = [
    "CALIBRATION_FILE",
    "EVIDENCE_FEATURES",
    "load_calibration",
    "calibration_digest",
    "label_probabilities",
    "tribute_strength",
    "word_logit",
    "fabrication_logit",
]

CALIBRATION_FILE = "offline_calibration.json"
EVIDENCE_FEATURES = ("anonymous_only", "unsourced", "hearsay", "unverifiable_media", "posthumous")
"""The calibration's inputs besides the word score: each 0 or 1 (see ``signals.evidence_features``)."""

_TOKEN = re.compile(r"[a-z]+")

_TRIBUTE_WORDS = frozenset(
    """tribute tributes honor honors honored honoring honour honours honoured honouring legacy late
    remember remembered remembering remembers memory memories farewell mentor beloved remembrance
    mourn mourns mourned mourning goodbye obituary survived survivors funeral memorial celebrate
    celebrated retire retires retired retiring retirement anniversary career widow widower mentored""".split()
)
_TRIBUTE_PHRASES = frozenset(
    {
        "passed away",
        "rest in",
        "in memoriam",
        "be missed",
        "his life",
        "her life",
        "is survived",
        "years of service",
        "final day",
        "last day",
    }
)
# Tributes run at 2.5 to 5 cues per 100 words; news that mentions a death, a career or a legacy
# in passing stays under 1. Near half-way is the even odds of the curve below.
_TRIBUTE_EVEN_CUES_PER_100_WORDS = 1.6


@lru_cache(maxsize=64)
def tribute_strength(text: str) -> float:
    """Probability, 0 to 1, that a piece that is not invented is written to honour a person,
    from tribute cues per 100 words: a smooth curve with even odds at the half-way density."""
    tokens = _TOKEN.findall(text.lower())
    cues = sum(map(_TRIBUTE_WORDS.__contains__, tokens))
    spaced = f" {' '.join(tokens)} "
    cues += sum(spaced.count(f" {phrase} ") for phrase in _TRIBUTE_PHRASES)
    ratio = (100 * cues / max(len(tokens), 1)) / _TRIBUTE_EVEN_CUES_PER_100_WORDS
    return ratio**3 / (1 + ratio**3)


@cache
def _raw_calibration() -> bytes:
    return (Path(__file__).resolve().parents[1] / "data" / CALIBRATION_FILE).read_bytes()


@cache
def load_calibration() -> dict[str, Any]:
    """``intercept``, ``word_score`` and one weight per evidence feature (fitted), ``rules``
    (hand-set), and ``base_rate``, the fabrication share of the data the fit saw."""
    return json.loads(_raw_calibration())


def calibration_digest() -> str:
    return hashlib.sha256(_raw_calibration()).hexdigest()[:12]


def word_logit(text: str) -> float:
    return load_models()["label"].logit(text, {})


def fabrication_logit(score: float, evidence: dict[str, float], calibration: dict[str, Any]) -> float:
    """The calibrated log-odds at the fit's base rate: the one formula the fit and the engine share."""
    weights = calibration["weights"]
    fitted = calibration["intercept"] + weights["word_score"] * score
    fitted += sum(weights.get(name, 0.0) * evidence.get(name, 0.0) for name in EVIDENCE_FEATURES)
    return fitted + sum(weight * evidence.get(name, 0.0) for name, weight in calibration["rules"].items())


def label_probabilities(text: str, evidence: dict[str, float], prior: float = DEFAULT_PRIOR) -> dict[str, float]:
    """Probability of each label for a feed with ``prior`` fabrications; they sum to 1."""
    calibration = load_calibration()
    z = fabrication_logit(word_logit(text), evidence, calibration)
    fabrication = sigmoid(z - logit(calibration["base_rate"]) + logit(prior))
    tribute = tribute_strength(text)
    probabilities = {
        Label.news.value: (1 - fabrication) * (1 - tribute),
        Label.tribute.value: (1 - fabrication) * tribute,
        Label.likely_fabrication.value: fabrication,
    }
    return {label: round(value, 6) for label, value in probabilities.items()}
