"""The desk teaches the calibration: ``learn`` refits the settled probability of fabrication
from the desk's verdicts, and every door then reads the fit in force.

- The examples (``verdict_examples``): each article's latest verdict, confirmed_fabrication
  as 1, false_positive and accurate as 0 (needs_work is no verdict), with the article's
  ``CALIBRATION_FEATURES`` and the probability it was put before the desk: 1 for the
  worklist, K/N for an article drawn at random from the N the ranker did not flag (an
  audit: ``pipeline.desk.audits``), which then weighs N/K, so that the verdicts stand for the
  whole feed and not only for what the ranker liked.
- The fit (``fit_calibration``): a weighted logistic regression by Newton's method, its
  weights pulled towards the shipped calibration (``learn_shrinkage`` times the squared
  difference), the intercept free, so the fitted probabilities average to the desk's observed
  (weighted) share of fabrications.
- The judge: one verdict in five (by a hash of its article id, so the same ones every time)
  is held back and never fitted on; a fit whose weighted log-loss on them is worse than the
  fit in force's is refused. Fewer than ``learn_min_verdicts`` verdicts: no fit.

Every fit is kept (``calibration_fits``), with the review ids it used and its scores before
and after; ``rollback`` puts the one it replaced back in force. This module makes every query
on that table.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.checks.verdict import (
    CALIBRATION_FEATURES,
    PROBABILITY_BOUNDS,
    SHIPPED_CALIBRATION,
    Calibration,
    calibration_features,
    sigmoid,
)
from pipeline.desk.audits import audit_verdicts
from pipeline.desk.insight import BatchFindings, batch_findings
from pipeline.desk.reviews import Review, Verdict, reviews
from pipeline.errors import UsageError
from pipeline.settings import Settings
from pipeline.store import Store, utc_now

__all__ = [
    "FitScores",
    "LearnOutcome",
    "VerdictExample",
    "audit_propensities",
    "calibration_fits",
    "calibration_in_force",
    "describe_calibration",
    "fit_calibration",
    "has_new_verdicts",
    "learn",
    "rollback",
    "score_calibration",
    "verdict_examples",
]

HELD_BACK_EVERY = 5
_NEWTON_STEPS = 50
_RIDGE = 1e-6  # keeps Newton's step defined when shrinkage is 0 and a feature never varies


@dataclass(frozen=True)
class VerdictExample:
    """One desk verdict as a labelled example."""

    article_id: str
    review_id: int
    fabricated: bool
    propensity: float
    features: dict[str, float]

    @property
    def held_back(self) -> bool:
        """Whether it only ever judges fits (the same verdicts every time)."""
        return int(hashlib.sha256(self.article_id.encode()).hexdigest()[:8], 16) % HELD_BACK_EVERY == 0


def audit_propensities(store: Store, latest: Mapping[str, Review]) -> dict[str, float]:
    """The inclusion probability of each article whose latest verdict (``latest``: article id
    -> review) was given on it as an audit (``audit_verdicts``)."""
    return {
        verdict.article_id: verdict.propensity
        for verdict in audit_verdicts(store, latest)
        if latest[verdict.article_id].review_id == verdict.review_id
    }


def verdict_examples(store: Store) -> list[VerdictExample]:
    """Every article's latest verdict with its features, needs_work left out."""
    latest: dict[str, Review] = {}
    for review in reviews(store):
        latest.update(dict.fromkeys(review.article_ids, review))
    decided = {article_id: review for article_id, review in latest.items() if review.verdict is not Verdict.needs_work}
    propensity = audit_propensities(store, decided)
    findings = batch_findings(store, decided)
    examples = []
    for stored in store.latest_results(decided):
        article_id = stored.article.article_id
        evidence = findings.get(article_id, BatchFindings()).batch_evidence(stored.analysis)
        examples.append(
            VerdictExample(
                article_id=article_id,
                review_id=decided[article_id].review_id,
                fabricated=decided[article_id].verdict is Verdict.confirmed_fabrication,
                propensity=propensity.get(article_id, 1.0),
                features=calibration_features(stored.analysis, evidence),
            )
        )
    return sorted(examples, key=lambda example: example.article_id)


def _weights(examples: Sequence[VerdictExample]) -> list[float]:
    """Inverse inclusion probabilities, scaled to average 1 (the shrinkage's scale)."""
    raw = [1 / example.propensity for example in examples]
    return [len(raw) * value / sum(raw) for value in raw]


def fit_calibration(
    examples: Sequence[VerdictExample], shrinkage: float, towards: Calibration = SHIPPED_CALIBRATION
) -> Calibration:
    """The weighted logistic fit of the verdicts on ``CALIBRATION_FEATURES``, its weights
    pulled towards ``towards`` by ``shrinkage`` times their squared difference, the intercept
    free (so the fit's mean probability is the desk's weighted share of fabrications)."""
    import numpy as np

    x = np.array([[1.0, *(example.features[name] for name in CALIBRATION_FEATURES)] for example in examples])
    y = np.array([float(example.fabricated) for example in examples])
    w = np.array(_weights(examples))
    prior = np.array(towards.vector())
    penalty = np.full(len(prior), 2 * shrinkage + _RIDGE)
    penalty[0] = _RIDGE

    def objective(beta: np.ndarray) -> float:
        z = x @ beta
        return float(np.sum(w * (y * z - np.logaddexp(0, z))) - 0.5 * np.sum(penalty * (beta - prior) ** 2))

    beta = prior.copy()
    for _ in range(_NEWTON_STEPS):
        p = 1 / (1 + np.exp(-np.clip(x @ beta, -35, 35)))
        gradient = x.T @ (w * (y - p)) - penalty * (beta - prior)
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        # A full Newton step can overshoot on nearly separable verdicts: halve it until it helps.
        current = objective(beta)
        while objective(beta + step) < current and float(np.max(np.abs(step))) > 1e-10:
            step = step / 2
        beta = beta + step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return Calibration.from_vector([round(float(value), 6) for value in beta])


@dataclass(frozen=True)
class FitScores:
    """A calibration on held-back verdicts (weighted as in the fit): log-loss, Brier score, AUC."""

    verdicts: int
    log_loss: float
    brier: float
    auc: float | None

    def to_record(self) -> dict[str, Any]:
        return {"verdicts": self.verdicts, "log_loss": self.log_loss, "brier": self.brier, "auc": self.auc}


def score_calibration(calibration: Calibration, examples: Sequence[VerdictExample]) -> FitScores:
    low, high = PROBABILITY_BOUNDS
    weights = _weights(examples)
    scored = [
        (min(max(sigmoid(calibration.logit(example.features)), low), high), example.fabricated, weight)
        for example, weight in zip(examples, weights, strict=True)
    ]
    total = sum(weights)
    log_loss = -sum(w * math.log(p if y else 1 - p) for p, y, w in scored) / total
    brier = sum(w * (p - y) ** 2 for p, y, w in scored) / total
    positives = [(p, w) for p, y, w in scored if y]
    negatives = [(p, w) for p, y, w in scored if not y]
    pairs = sum(wp * wn for _, wp in positives for _, wn in negatives)
    wins = sum(wp * wn * ((pp > pn) + 0.5 * (pp == pn)) for pp, wp in positives for pn, wn in negatives)
    return FitScores(len(scored), round(log_loss, 6), round(brier, 6), round(wins / pairs, 6) if pairs else None)


def calibration_in_force(store: Store) -> Calibration:
    """The desk's fit in force, or the shipped calibration (also on a store opened read-only
    from before the fits' table, which only a write upgrades)."""
    if store.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'calibration_fits'").fetchone() is None:
        return SHIPPED_CALIBRATION
    row = store.db.execute("SELECT fit_id, coefficients FROM calibration_fits WHERE status = 'in_force'").fetchone()
    if row is None:
        return SHIPPED_CALIBRATION
    coefficients = json.loads(row["coefficients"])
    return Calibration(coefficients["intercept"], coefficients["weights"], row["fit_id"])


def calibration_fits(store: Store) -> list[dict[str, Any]]:
    """Every fit, newest first, as stored (JSON columns read)."""
    rows = store.db.execute("SELECT * FROM calibration_fits ORDER BY fit_id DESC").fetchall()
    json_columns = ("coefficients", "review_ids", "held_back_ids", "scores_before", "scores_after")
    return [{key: json.loads(row[key]) if key in json_columns else row[key] for key in row.keys()} for row in rows]


def describe_calibration(store: Store) -> str:
    """One line: the calibration every settled verdict uses."""
    calibration = calibration_in_force(store)
    if calibration.fit_id is None:
        return "calibration: shipped (no desk fit in force)"
    row = store.db.execute(
        "SELECT created_at, json_array_length(review_ids) AS used, scores_after FROM calibration_fits WHERE fit_id = ?",
        (calibration.fit_id,),
    ).fetchone()
    after = json.loads(row["scores_after"])
    return (
        f"calibration: desk fit {calibration.fit_id} of {row['created_at'][:16]} from {row['used']} verdicts "
        f"(held-back log-loss {after['log_loss']:.3f})"
    )


def has_new_verdicts(store: Store) -> bool:
    """Whether the desk gave a verdict since the last fit was tried."""
    seen = store.db.execute("SELECT MAX(value) FROM calibration_fits, json_each(calibration_fits.review_ids)").fetchone()[0]
    newest = max((review.review_id for review in reviews(store) if review.verdict is not Verdict.needs_work), default=None)
    return newest is not None and (seen is None or newest > seen)


@dataclass(frozen=True)
class LearnOutcome:
    """What ``learn`` did: ``fit_id`` is None when it did not fit (too few verdicts)."""

    fit_id: int | None
    status: str
    reason: str
    before: FitScores | None = None
    after: FitScores | None = None
    calibration: Calibration | None = None

    @property
    def changed(self) -> bool:
        return self.status == "in_force"

    def to_record(self) -> dict[str, Any]:
        return {
            "fit_id": self.fit_id,
            "status": self.status,
            "reason": self.reason,
            "before": None if self.before is None else self.before.to_record(),
            "after": None if self.after is None else self.after.to_record(),
            "coefficients": None
            if self.calibration is None
            else {"intercept": self.calibration.intercept, "weights": dict(self.calibration.weights)},
        }


def learn(store: Store, settings: Settings) -> LearnOutcome:
    """Fit the calibration from the desk's verdicts and put it in force unless it scores worse
    on the held-back verdicts than the calibration in force (kept either way, but for too few
    verdicts or a training part with one class only, which fit nothing)."""
    examples = verdict_examples(store)
    training = [example for example in examples if not example.held_back]
    held_back = [example for example in examples if example.held_back]
    if len(examples) < settings.learn_min_verdicts:
        return LearnOutcome(
            None, "not_fitted", f"{len(examples)} verdicts, fewer than learn_min_verdicts ({settings.learn_min_verdicts})"
        )
    if len({example.fabricated for example in training}) < 2 or not held_back:
        return LearnOutcome(
            None, "not_fitted", "the verdicts fitted on need both fabrications and genuine articles, and some held back"
        )
    current = calibration_in_force(store)
    fitted = fit_calibration(training, settings.learn_shrinkage)
    before, after = score_calibration(current, held_back), score_calibration(fitted, held_back)
    accepted = after.log_loss <= before.log_loss
    reason = f"held-back log-loss {before.log_loss:.4f} -> {after.log_loss:.4f} on {after.verdicts} verdicts" + (
        "" if accepted else ": worse than the calibration in force, refused"
    )
    coefficients = {"intercept": fitted.intercept, "weights": dict(fitted.weights)}
    with store.transaction():
        if accepted:
            store.db.execute("UPDATE calibration_fits SET status = 'replaced' WHERE status = 'in_force'")
        fit_id = store.db.execute(
            """INSERT INTO calibration_fits (created_at, coefficients, review_ids, held_back_ids, scores_before,
               scores_after, status, reason, replaced_fit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                utc_now(),
                json.dumps(coefficients),
                json.dumps(sorted(example.review_id for example in examples)),
                json.dumps(sorted(example.review_id for example in held_back)),
                json.dumps(before.to_record()),
                json.dumps(after.to_record()),
                "in_force" if accepted else "refused",
                reason,
                current.fit_id if accepted else None,
            ),
        ).lastrowid
    return LearnOutcome(
        fit_id,
        "in_force" if accepted else "refused",
        reason,
        before,
        after,
        Calibration(fitted.intercept, fitted.weights, fit_id),
    )


def rollback(store: Store) -> Calibration:
    """Put the fit in force back to the one it replaced (the shipped calibration when it
    replaced none); UsageError when the shipped calibration is in force already."""
    row = store.db.execute("SELECT fit_id, replaced_fit_id FROM calibration_fits WHERE status = 'in_force'").fetchone()
    if row is None:
        raise UsageError("no desk fit is in force: the shipped calibration is in use already")
    with store.transaction():
        store.db.execute("UPDATE calibration_fits SET status = 'rolled_back' WHERE fit_id = ?", (row["fit_id"],))
        if row["replaced_fit_id"] is not None:
            store.db.execute("UPDATE calibration_fits SET status = 'in_force' WHERE fit_id = ?", (row["replaced_fit_id"],))
    return calibration_in_force(store)
