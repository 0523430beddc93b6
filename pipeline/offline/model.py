"""The fitted linear scorers: transparent features, weights read from ``data/offline_weights.json``.

Two models share one feature scheme: word unigrams and bigrams (lower-cased, present or not)
plus a few named dense features. ``scripts/fit_offline.py`` fits them with logistic regression
and keeps only the strongest word weights so the file stays small.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache, lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

from pipeline.checks.verdict import sigmoid

__all__ = ["WEIGHTS_FILE", "word_features", "LinearModel", "load_models", "weights_digest"]

WEIGHTS_FILE = "offline_weights.json"
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*%?|[$£€%!?]")
_DIGITS = frozenset("0123456789")


@lru_cache(maxsize=4096)
def word_features(text: str, max_tokens: int | None = None) -> frozenset[str]:
    """Unigrams and bigrams of the lower-cased text; numbers fold to one token so that
    "$3 million" and "$40 million" read alike."""
    lowered = text.lower().replace("’", "'")
    if max_tokens is None:
        found = _TOKEN.findall(lowered)
    else:
        found = [m.group() for m in islice(_TOKEN.finditer(lowered), max_tokens)]
    tokens = ["<num>" if t[0] in _DIGITS else t for t in found]
    return frozenset(tokens).union(map("{} {}".format, tokens, tokens[1:]))


class LinearModel:
    """A logistic scorer over word features and named dense features."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.bias: float = spec["bias"]
        self.words: dict[str, float] = spec["words"]
        self.dense: dict[str, float] = spec["dense"]
        self.threshold: float = spec["threshold"]
        self.max_tokens: int | None = spec.get("max_tokens")

    def logit(self, text: str, dense: dict[str, float]) -> float:
        return self.logit_of(word_features(text, self.max_tokens), dense)

    def logit_of(self, features: frozenset[str], dense: dict[str, float]) -> float:
        """The score of features already extracted (with this model's `max_tokens`)."""
        weights = self.words
        total = self.bias + sum(map(weights.__getitem__, features & weights.keys()))
        return total + sum(weight * dense.get(name, 0.0) for name, weight in self.dense.items())

    def probability_of(self, features: frozenset[str], dense: dict[str, float]) -> float:
        return sigmoid(self.logit_of(features, dense))


@cache
def _raw_weights() -> bytes:
    return (Path(__file__).resolve().parents[1] / "data" / WEIGHTS_FILE).read_bytes()


@cache
def load_models() -> dict[str, Any]:
    """The fitted models by name ("claims", "label")."""
    spec = json.loads(_raw_weights())
    return {"claims": LinearModel(spec["claims"]), "label": LinearModel(spec["label"])}


def weights_digest() -> str:
    return hashlib.sha256(_raw_weights()).hexdigest()[:12]
