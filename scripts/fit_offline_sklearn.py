"""The offline label scorer refitted with scikit-learn, beside the shipped one, by source.

    pip install scikit-learn   # a script dependency, not the package's
    .venv/bin/python scripts/fit_offline_sklearn.py [--data ../shared/eval/dev]

The same data, split and features as ``scripts/fit_offline.py`` (word unigrams and bigrams of
the first 600 tokens, the style vocabulary left out, FakeNewsAMT + GossipCop + PolNeAR's genuine
news, the validation fifth never fitted on): an L2 logistic regression whose strength is chosen
by 5-fold cross-validation over whole story groups (``LogisticRegressionCV`` with
``GroupKFold``, balanced classes), then the calibration, a logistic regression of the class on
the out-of-fold word score and the text's evidence features. Printed: the AUC of the calibrated
probability on the validation fifth, per source, for this fit and for the shipped weights the
package reads (``pipeline/data``), which this script leaves as they are.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, cross_val_predict

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fit_offline import _group, _label_examples, _read, _split, style_vocabulary  # noqa: E402

from pipeline.offline.label import EVIDENCE_FEATURES, fabrication_logit, load_calibration, word_logit  # noqa: E402
from pipeline.offline.signals import evidence_features, measure_signals  # noqa: E402

FOLDS = 5
MIN_DF = 2


def _matrix(token_lists: list[list[str]], vocabulary: dict[str, int]) -> csr_matrix:
    rows, columns = [], []
    for row, tokens in enumerate(token_lists):
        for token in tokens:
            if token in vocabulary:
                rows.append(row)
                columns.append(vocabulary[token])
    return csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(token_lists), len(vocabulary)))


def _evidence(records: list[dict]) -> np.ndarray:
    return np.array([[evidence_features(measure_signals(r["text"]))[name] for name in EVIDENCE_FEATURES] for r in records])


def _source(record: dict) -> str:
    if record["id"].startswith("amt-"):
        return "fakenewsamt"
    if record["id"].startswith("llmfake-"):
        return "llmfake_gossipcop"
    return "polnear"


def _by_source(records: list[dict], probabilities: np.ndarray) -> dict[str, float | None]:
    """AUC per source; PolNeAR holds only genuine news, so it is ranked against every
    fabricated article of the split; GossipCop's fakes also by who wrote them."""
    labels = np.array([int(r["label"] == "likely_fabrication") for r in records])
    sources = np.array([_source(r) for r in records])
    generators = np.array([r.get("generator", "human") if r["label"] == "likely_fabrication" else "" for r in records])
    groups = {
        "fakenewsamt": sources == "fakenewsamt",
        "llmfake_gossipcop": sources == "llmfake_gossipcop",
        "llmfake_gossipcop, human-written fakes": (sources == "llmfake_gossipcop") & ((labels == 0) | (generators == "human")),
        "llmfake_gossipcop, LLM-written fakes": (sources == "llmfake_gossipcop") & ((labels == 0) | (generators != "human")),
        "polnear news vs every fabrication": (sources == "polnear") | (labels == 1),
        "all": np.ones(len(records), dtype=bool),
    }
    figures: dict[str, float | None] = {}
    for name, mask in groups.items():
        chosen = labels[mask]
        figures[name] = round(float(roc_auc_score(chosen, probabilities[mask])), 4) if 0 < chosen.sum() < len(chosen) else None
        figures[f"{name} (n)"] = int(mask.sum())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev")
    args = parser.parse_args()
    records = _read(args.data / "fakenewsamt.jsonl") + _read(args.data / "llmfake_gossipcop.jsonl")
    polnear = args.data / "polnear.jsonl"
    if polnear.exists():
        records += [{"id": r["id"], "text": r["text"], "label": "news"} for r in _read(polnear)]
    train, validation = _split(records)
    style = style_vocabulary(train)
    train_tokens = [tokens for tokens, _, _, _ in _label_examples(train, style)]
    counts: dict[str, int] = {}
    for tokens in train_tokens:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    vocabulary = {token: index for index, token in enumerate(sorted(t for t, n in counts.items() if n >= MIN_DF))}
    x_train = _matrix(train_tokens, vocabulary)
    x_validation = _matrix([tokens for tokens, _, _, _ in _label_examples(validation, style)], vocabulary)
    y_train = np.array([int(r["label"] == "likely_fabrication") for r in train])
    groups = np.array([_group(r) for r in train])
    folds = list(GroupKFold(n_splits=FOLDS).split(x_train, y_train, groups))
    words = LogisticRegressionCV(
        Cs=np.logspace(-2, 2, 9), cv=folds, scoring="neg_log_loss", class_weight="balanced", solver="liblinear", max_iter=5000
    )
    words.fit(x_train, y_train)
    single = LogisticRegression(C=float(words.C_[0]), class_weight="balanced", solver="liblinear", max_iter=5000)
    out_of_fold = cross_val_predict(single, x_train, y_train, cv=folds, method="decision_function")
    calibration = LogisticRegression(C=1e3, max_iter=5000)
    calibration.fit(np.column_stack([out_of_fold, _evidence(train)]), y_train)
    refit = calibration.predict_proba(np.column_stack([words.decision_function(x_validation), _evidence(validation)]))[:, 1]
    shipped_calibration = load_calibration()
    shipped = np.array(
        [
            fabrication_logit(word_logit(r["text"]), evidence_features(measure_signals(r["text"])), shipped_calibration)
            for r in validation
        ]
    )
    report = {
        "chosen C (inverse L2 strength)": float(words.C_[0]),
        "words kept (document frequency >= 2, style left out)": len(vocabulary),
        "validation AUC, scikit-learn refit": _by_source(validation, refit),
        "validation AUC, shipped weights": _by_source(validation, shipped),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
