"""Refit the offline engine's linear models and write ``pipeline/data/offline_weights.json``.

Run from the repository root, with the evaluation data beside the repository:

    .venv/bin/python scripts/fit_offline.py [--data ../shared/eval/dev] [--validation-out DIR]

Two linear models, fitted here in plain Python (no numpy, no scikit-learn):

- ``claims``: check-worthy sentences, from ``claimbuster.jsonl``;
- ``label``: likely_fabrication vs news, from ``fakenewsamt.jsonl`` + ``llmfake_gossipcop.jsonl``,
  classes weighted to balance.

Each is logistic regression plus a share of the naive-Bayes log-count ratios of the same word
features (the NBSVM recipe: the counts' evidence steadies the discriminative fit on a few
thousand examples), stored as one set of weights. The label is fitted with the hand-set rule
weights as a fixed offset, as the engine adds them to the fitted score.

Every record falls in a fixed split by a hash of its group (a FakeNewsAMT story pair, a GossipCop
story and the fakes derived from it, a ClaimBuster sentence): one fifth is validation and is never
fitted on. The script prints validation figures (the honest ones) beside training figures, and
with ``--validation-out`` writes the validation records as JSONL to DIR (keep DIR outside the
repository) so that ``pipeline eval DIR/<file>.jsonl`` reproduces them: one file per source,
``labels.jsonl`` with both label sources together (the figure the targets name), and the
PolNeAR articles of the same one-in-five split, which the quote rules were not developed on.
The hand-set rule weights (``rules``) are kept from the existing file: they are not fitted, as the public data barely shows
the signals they weigh.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.offline.claims import sentence_features  # noqa: E402
from pipeline.offline.model import WEIGHTS_FILE, sigmoid, word_features  # noqa: E402
from pipeline.offline.signals import measure_signals  # noqa: E402

WEIGHTS_PATH = Path(__file__).resolve().parents[1] / "pipeline" / "data" / WEIGHTS_FILE
VALIDATION_SHARE = 5  # one in five groups
INNER_SHARE = 4  # of the training groups, one in four picks the decision threshold
SEED = 20240601
LABEL_MAX_TOKENS = 600
# Chosen on an inner split of the training part (few epochs act as regularisation);
# `keep` and `*_KEEP` bound the weights file.
CLAIM_PARAMS = {"min_df": 2, "l2": 3e-3, "epochs": 3, "keep": 4000, "balance": True}
CLAIM_KEEP = 8000
LABEL_KEEP = 2500
# Share of the naive-Bayes evidence: on whole articles it sums over hundreds of words and would
# swamp the dense signals and the rule weights, so the label takes less of it.
CLAIM_NB_WEIGHT = 0.5
LABEL_NB_WEIGHT = 0.1
NB_SMOOTHING = 1.0
# Decision thresholds tried, as probabilities from logits -5 to 10: the summed naive-Bayes
# evidence puts the best cut far from 0.5.
THRESHOLDS = [sigmoid(i / 4) for i in range(-20, 41)]
LABEL_PARAMS = {"min_df": 3, "l2": 1e-3, "epochs": 3, "keep": 2500, "balance": True}

Example = tuple[list[str], dict[str, float], int, float]
"""Word features, dense features, the class (0/1) and a fixed logit the fit adds to every score
(the hand-set rule weights, which the engine adds to the fitted score)."""


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _group_hash(group: str) -> int:
    return int(hashlib.sha256(group.encode()).hexdigest(), 16)


def _is_validation(group: str) -> bool:
    return _group_hash(group) % VALIDATION_SHARE == 0


def _group(record: dict) -> str:
    return record.get("pair_id") or record.get("derived_from") or record["id"]


def fit_logistic(
    examples: list[Example], min_df: int, l2: float, epochs: int, keep: int, balance: bool
) -> dict:
    """Logistic regression by Adagrad SGD; words kept are the `keep` largest by |weight|,
    then the model is refitted on them alone so the stored weights are the ones scored."""
    df = Counter(w for words, _, _, _ in examples for w in set(words))
    vocabulary = {w for w, n in df.items() if n >= min_df}
    weights = _sgd(examples, vocabulary, l2, epochs, balance)
    strongest = sorted(weights["words"].items(), key=lambda kv: -abs(kv[1]))[:keep]
    return _sgd(examples, {w for w, _ in strongest}, l2, epochs, balance)


def _sgd(examples: list[Example], vocabulary: set[str], l2: float, epochs: int, balance: bool) -> dict:
    positives = sum(y for _, _, y, _ in examples)
    negatives = len(examples) - positives
    class_weight = {1: len(examples) / (2 * positives), 0: len(examples) / (2 * negatives)} if balance else {1: 1.0, 0: 1.0}
    words: dict[str, float] = {}
    dense: dict[str, float] = {}
    squares: dict[str, float] = {}
    bias = 0.0
    bias_square = 1e-8
    rate = 0.3
    rng = random.Random(SEED)
    order = list(range(len(examples)))
    for _ in range(epochs):
        rng.shuffle(order)
        for index in order:
            tokens, features, y, offset = examples[index]
            active = [w for w in tokens if w in vocabulary]
            z = offset + bias + sum(words.get(w, 0.0) for w in active) + sum(dense.get(k, 0.0) * v for k, v in features.items())
            gradient = (sigmoid(z) - y) * class_weight[y]
            for w in active:
                g = gradient + l2 * words.get(w, 0.0)
                squares[w] = squares.get(w, 1e-8) + g * g
                words[w] = words.get(w, 0.0) - rate * g / math.sqrt(squares[w])
            for k, v in features.items():
                if v:
                    key = "#" + k
                    g = gradient * v + l2 * dense.get(k, 0.0)
                    squares[key] = squares.get(key, 1e-8) + g * g
                    dense[k] = dense.get(k, 0.0) - rate * g / math.sqrt(squares[key])
            bias_square += gradient * gradient
            bias -= rate * gradient / math.sqrt(bias_square)
    return {"bias": bias, "words": words, "dense": dense}


def _score(model: dict, tokens: list[str], features: dict[str, float], offset: float) -> float:
    z = offset + model["bias"] + sum(model["words"].get(w, 0.0) for w in tokens)
    return sigmoid(z + sum(model["dense"].get(k, 0.0) * v for k, v in features.items()))


def _figures(model: dict, examples: list[Example], threshold: float) -> dict[str, float]:
    tp = fp = fn = tn = 0
    for tokens, features, y, offset in examples:
        predicted = _score(model, tokens, features, offset) >= threshold
        tp += predicted and y == 1
        fp += predicted and y == 0
        fn += not predicted and y == 1
        tn += not predicted and y == 0
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall) if precision + recall else 0.0, 4),
        "balanced_accuracy": round((recall + (tn / (tn + fp) if tn + fp else 0.0)) / 2, 4),
        "n": len(examples),
    }


def _log_count_ratios(examples: list[Example], smoothing: float, min_df: int) -> tuple[dict[str, float], float]:
    """Naive-Bayes evidence of each word for the positive class, and the prior log-odds."""
    positive: Counter[str] = Counter()
    negative: Counter[str] = Counter()
    for words, _, y, _ in examples:
        (positive if y else negative).update(words)
    n_positive = sum(y for _, _, y, _ in examples)
    n_negative = len(examples) - n_positive
    ratios = {
        w: math.log((positive[w] + smoothing) / (n_positive + 2 * smoothing))
        - math.log((negative[w] + smoothing) / (n_negative + 2 * smoothing))
        for w in positive.keys() | negative.keys()
        if positive[w] + negative[w] >= min_df
    }
    return ratios, math.log(n_positive / n_negative)


def fit_nbsvm(examples: list[Example], params: dict, keep: int, nb_weight: float) -> dict:
    """Logistic weights plus `nb_weight` times the log-count ratios, the strongest `keep` words kept."""
    model = fit_logistic(examples, **params)
    ratios, prior = _log_count_ratios(examples, NB_SMOOTHING, params["min_df"])
    words = {w: model["words"].get(w, 0.0) + nb_weight * ratios.get(w, 0.0) for w in model["words"].keys() | ratios.keys()}
    # Ties (words seen equally often) are common among the ratios: break them by the word, so
    # that the kept set does not depend on hash order.
    strongest = sorted(words.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:keep]
    return {"bias": model["bias"] + nb_weight * prior, "words": dict(strongest), "dense": model["dense"]}


def fit_claims(examples: list[Example]) -> dict:
    return fit_nbsvm(examples, CLAIM_PARAMS, CLAIM_KEEP, CLAIM_NB_WEIGHT)


def fit_label(examples: list[Example]) -> dict:
    return fit_nbsvm(examples, LABEL_PARAMS, LABEL_KEEP, LABEL_NB_WEIGHT)


def _held_out_threshold(
    examples: list[Example], groups: list[str], fit: Callable[[list[Example]], dict], candidates: list[float], metric: str
) -> float:
    """The decision threshold that does best on a quarter of the training groups held out from
    a fit on the rest: on its own training data a model is too sure of itself. Whole groups are
    held out, as a story's fake and real versions share most of their words."""
    held = [_group_hash(g) % INNER_SHARE == 0 for g in groups]
    inner_train = [e for e, h in zip(examples, held, strict=True) if not h]
    inner_held = [e for e, h in zip(examples, held, strict=True) if h]
    model = fit(inner_train)
    return max(candidates, key=lambda t: (_figures(model, inner_held, t)[metric], -abs(t - 0.5)))


def _rounded(model: dict, threshold: float, max_tokens: int | None) -> dict:
    return {
        "bias": round(model["bias"], 4),
        "threshold": threshold,
        "max_tokens": max_tokens,
        "dense": {k: round(v, 4) for k, v in sorted(model["dense"].items())},
        "words": {k: round(v, 4) for k, v in sorted(model["words"].items()) if round(v, 4)},
    }


def _claim_examples(records: list[dict]) -> list[Example]:
    return [
        (sorted(words), sentence_features(r["text"], words), int(r["label"] == "check_worthy"), 0.0)
        for r in records
        for words in [word_features(r["text"])]
    ]


def _label_examples(records: list[dict], rules: dict[str, float]) -> list[Example]:
    return [
        (
            sorted(word_features(r["text"], LABEL_MAX_TOKENS)),
            dense,
            int(r["label"] == "likely_fabrication"),
            sum(weight * dense.get(name, 0.0) for name, weight in rules.items()),
        )
        for r in records
        for dense in [measure_signals(r["text"]).dense()]
    ]


def _split(records: list[dict]) -> tuple[list[dict], list[dict]]:
    train = [r for r in records if not _is_validation(_group(r))]
    validation = [r for r in records if _is_validation(_group(r))]
    return train, validation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev")
    parser.add_argument("--validation-out", type=Path, default=None)
    args = parser.parse_args()

    existing = json.loads(WEIGHTS_PATH.read_text()) if WEIGHTS_PATH.exists() else {}
    rules = existing.get("rules") or {"fabrication": {}}

    claim_train, claim_validation = _split(_read(args.data / "claimbuster.jsonl"))
    label_records = _read(args.data / "fakenewsamt.jsonl") + _read(args.data / "llmfake_gossipcop.jsonl")
    label_train, label_validation = _split(label_records)

    claims_train_x, claims_validation_x = _claim_examples(claim_train), _claim_examples(claim_validation)
    claims = fit_claims(claims_train_x)
    claims_threshold = _held_out_threshold(claims_train_x, [_group(r) for r in claim_train], fit_claims, THRESHOLDS, "f1")

    label_train_x = _label_examples(label_train, rules["fabrication"])
    label_validation_x = _label_examples(label_validation, rules["fabrication"])
    label = fit_label(label_train_x)
    label_threshold = _held_out_threshold(
        label_train_x, [_group(r) for r in label_train], fit_label, THRESHOLDS, "balanced_accuracy"
    )
    # The scorer decides at probability 0.5: move the fitted threshold into the bias.
    label["bias"] -= math.log(label_threshold / (1 - label_threshold))

    report = {
        "claims (check_worthy)": {
            "train": _figures(claims, claims_train_x, claims_threshold),
            "validation": _figures(claims, claims_validation_x, claims_threshold),
        },
        "label (likely_fabrication vs news)": {
            "train": _figures(label, label_train_x, 0.5),
            "validation": _figures(label, label_validation_x, 0.5),
        },
    }
    weights = {
        "claims": _rounded(claims, claims_threshold, None),
        "label": _rounded(label, 0.5, LABEL_MAX_TOKENS),
        "rules": rules,
        "fit_report": report,
    }
    WEIGHTS_PATH.write_text(json.dumps(weights, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n")
    print(json.dumps(report, indent=2))
    print(f"wrote {WEIGHTS_PATH} ({WEIGHTS_PATH.stat().st_size // 1024} KB)")

    if args.validation_out:
        args.validation_out.mkdir(parents=True, exist_ok=True)
        quote_validation = _split(_read(args.data / "polnear.jsonl"))[1] if (args.data / "polnear.jsonl").exists() else []
        for name, rows in (
            ("claimbuster", claim_validation),
            ("fakenewsamt", [r for r in label_validation if r["id"].startswith("amt-")]),
            ("llmfake_gossipcop", [r for r in label_validation if not r["id"].startswith("amt-")]),
            ("labels", label_validation),
            ("polnear", quote_validation),
        ):
            with (args.validation_out / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        print(f"validation records written under {args.validation_out}")


if __name__ == "__main__":
    main()
