"""The audit sample: each run's worklist carries ``audit_sample`` articles drawn at random from
those the ranker did not flag, so the desk's verdicts are not only on what the ranker already
liked.

The draw is seeded by the run (its id and start time) and kept in ``audit_draws`` the first time a
door that may write reads the worklist (``worklist``, ``serve``), so every door shows the same
audits however the list changes later; a read-only door before that (``report``) computes the
same draw without keeping it. Each
draw records ``population`` (how many unflagged articles it was made from) and ``propensity``
(each one's inclusion probability, drawn / population), which a learner weights an audit
verdict by. ``audit_verdicts`` gives every review covering an article drawn before the review
was made (the ``audit_verdicts`` view in SQL). This module makes every query on ``audit_draws``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pipeline.settings import NightClock
from pipeline.store import Store, among, utc_now

__all__ = ["AuditDraw", "AuditVerdict", "audit_draw", "audit_draws", "audit_verdicts"]


@dataclass(frozen=True)
class AuditDraw:
    """One article of a run's audit sample."""

    run_id: int
    article_id: str
    night: str
    drawn_at: str
    population: int
    propensity: float

    def describe(self) -> str:
        return (
            f"Audit: drawn at random from the {self.population} articles of this run the ranker did not flag "
            f"(inclusion probability {self.propensity:.3f}); the desk's verdict measures what the ranker misses."
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "night": self.night,
            "drawn_at": self.drawn_at,
            "population": self.population,
            "propensity": self.propensity,
        }


@dataclass(frozen=True)
class AuditVerdict:
    """A review of an audited article: the verdict with the draw's inclusion probability."""

    review_id: int
    article_id: str
    verdict: str
    note: str | None
    reviewed_by: str | None
    reviewed_at: str
    run_id: int
    night: str
    population: int
    propensity: float


def audit_draws(store: Store, run_id: int | None = None, article_ids: Iterable[str] | None = None) -> list[AuditDraw]:
    """The kept draws of one run (None: of every run), of these articles (None: of any), in the
    order they were drawn."""
    by_run, run_params = among("run_id", None if run_id is None else [run_id])
    by_article, article_params = among("article_id", article_ids)
    rows = store.db.execute(
        f"SELECT * FROM audit_draws WHERE {by_run} AND {by_article} ORDER BY run_id, rowid", (*run_params, *article_params)
    )
    return [
        AuditDraw(row["run_id"], row["article_id"], row["night"], row["drawn_at"], row["population"], row["propensity"])
        for row in rows
    ]


def audit_draw(store: Store, run_id: int, unflagged: Iterable[str], sample: int, clock: NightClock) -> list[AuditDraw]:
    """The audit sample of a run: the kept one, else ``sample`` of the ``unflagged`` articles
    drawn with the run's seed (and kept, unless the store is read-only)."""
    kept = audit_draws(store, run_id)
    if kept or sample <= 0:
        return kept
    population = set(unflagged)
    run = store.db.execute("SELECT started_at FROM run WHERE run_id = ?", (run_id,)).fetchone()
    if not population or run is None:
        return []
    # The articles whose keyed hash comes first: a uniform draw without replacement that the
    # population's order cannot change, and that an article leaving it changes only if drawn.
    seed = f"audit {run_id} {run['started_at']} "
    chosen = sorted(population, key=lambda article_id: hashlib.sha256((seed + article_id).encode()).hexdigest())[:sample]
    night, now = clock.night_of(run["started_at"]), utc_now()
    draws = [AuditDraw(run_id, article_id, night, now, len(population), len(chosen) / len(population)) for article_id in chosen]
    if store.read_only:
        return draws
    with store.transaction("BEGIN IMMEDIATE"):
        if kept := audit_draws(store, run_id):  # another door drew first
            return kept
        store.db.executemany(
            "INSERT INTO audit_draws (run_id, article_id, night, drawn_at, population, propensity) VALUES (?, ?, ?, ?, ?, ?)",
            [(d.run_id, d.article_id, d.night, d.drawn_at, d.population, d.propensity) for d in draws],
        )
    return draws


def audit_verdicts(store: Store, article_ids: Iterable[str] | None = None) -> list[AuditVerdict]:
    """Every review of an audited article (or of these articles), oldest first."""
    condition, params = among("article_id", article_ids)
    rows = store.db.execute(f"SELECT * FROM audit_verdicts WHERE {condition} ORDER BY reviewed_at, review_id, run_id", params)
    return [AuditVerdict(*(row[key] for key in row.keys())) for row in rows]
