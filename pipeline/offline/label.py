"""The offline label: a fitted linear score for fabrication plus hand-set rule weights on the
strong fabrication signals that the public data rarely shows, and a tribute cue score that
splits the rest between news and tribute."""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline.models import Label
from pipeline.offline.model import load_models, sigmoid

_TOKEN = re.compile(r"[a-z]+")

__all__ = ["label_scores", "tribute_strength", "fabrication_logit"]

_TRIBUTE_WORDS = frozenset(
    """tribute tributes honor honors honored honoring honour honours honoured honouring legacy late
    remember remembered remembering remembers memory memories farewell mentor beloved remembrance
    mourn mourns mourned mourning goodbye""".split()
)
_TRIBUTE_PHRASES = frozenset({"passed away", "rest in", "in memoriam", "be missed", "his life", "her life"})
# Tributes run at 2.5 to 4 cues per 100 words; news that mentions a death or a legacy in passing
# stays under 2.
_TRIBUTE_CUES_PER_100_WORDS = 2.0


@lru_cache(maxsize=64)
def tribute_strength(text: str) -> float:
    """How much the piece reads as honouring a person, 0 to 1, from tribute cues per 100 words."""
    tokens = _TOKEN.findall(text.lower())
    cues = sum(map(_TRIBUTE_WORDS.__contains__, tokens))
    spaced = f" {' '.join(tokens)} "
    cues += sum(spaced.count(f" {phrase} ") for phrase in _TRIBUTE_PHRASES)
    per_100 = 100 * cues / max(len(tokens), 1)
    return min(per_100 / _TRIBUTE_CUES_PER_100_WORDS, 1.0)


def fabrication_logit(text: str, dense: dict[str, float]) -> float:
    models = load_models()
    rules = models["rules"]["fabrication"]
    expert = sum(weight * dense.get(name, 0.0) for name, weight in rules.items())
    return models["label"].logit(text, dense) + expert


def label_scores(text: str, dense: dict[str, float]) -> dict[str, float]:
    """Probability of each label: fabrication from the linear score, the rest shared between
    news and tribute by the tribute cues."""
    fabrication = sigmoid(fabrication_logit(text, dense))
    tribute = tribute_strength(text)
    return {
        Label.likely_fabrication.value: round(fabrication, 4),
        Label.news.value: round((1 - fabrication) * (1 - tribute), 4),
        Label.tribute.value: round((1 - fabrication) * tribute, 4),
    }
