"""The desk's verdicts on articles and stories, and the engine measured against them.

A review names an article (id, unique prefix, or source path) or a story (a template
cluster's id) and records the verdict, a note, who and when, and the articles it covered.
A reviewed article leaves the worklist; a reviewed story comes back when an article it did
not cover joins it (``review_statuses``). ``import_reviews`` reads the worklist CSV with a
filled ``verdict`` column, checking every row before writing any. ``review_figures`` gives
the engine's precision and recall against the desk's verdicts, by ISO week of the review.
This module makes every query on the ``review`` table.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from pipeline.desk.clusters import cluster_members
from pipeline.desk.references import find_reference
from pipeline.errors import InputError
from pipeline.models import Label
from pipeline.store import Store, among, utc_now

__all__ = [
    "Review",
    "ReviewStatus",
    "Verdict",
    "add_review",
    "import_reviews",
    "render_review_figures",
    "review_figures",
    "review_statuses",
    "reviews",
]


class Verdict(str, Enum):
    """What the desk decided."""

    confirmed_fabrication = "confirmed_fabrication"  # the story is invented
    false_positive = "false_positive"  # flagged, but not a fabrication
    accurate = "accurate"  # checked and true
    needs_work = "needs_work"  # not settled yet: stays on the worklist


@dataclass(frozen=True)
class Review:
    review_id: int
    target: str
    story_id: str | None
    article_ids: tuple[str, ...]
    verdict: Verdict
    note: str | None
    reviewed_by: str | None
    reviewed_at: str

    def to_record(self) -> dict[str, Any]:
        return {
            "review_id": self.review_id,
            "target": self.target,
            "story_id": self.story_id,
            "article_ids": list(self.article_ids),
            "verdict": self.verdict.value,
            "note": self.note,
            "reviewed_by": self.reviewed_by,
            "reviewed_at": self.reviewed_at,
        }


@dataclass(frozen=True)
class ReviewStatus:
    """An article's latest review, and whether it is settled (off the worklist): a story
    review is unsettled once an article it did not cover has joined the story."""

    review: Review
    settled: bool
    new_articles: tuple[str, ...] = ()

    def describe(self) -> str:
        by = f" by {self.review.reviewed_by}" if self.review.reviewed_by else ""
        text = f"reviewed {self.review.verdict.value}{by} on {self.review.reviewed_at[:10]}"
        if self.new_articles:
            text += f"; {len(self.new_articles)} new article(s) joined the story since"
        return text

    def to_record(self) -> dict[str, Any]:
        return {**self.review.to_record(), "settled": self.settled, "new_articles": list(self.new_articles)}


def _parse_verdict(value: str, where: str) -> Verdict:
    try:
        return Verdict(value.strip())
    except ValueError:
        raise InputError(
            where, f"unknown verdict {value.strip()!r} (choose one of {', '.join(v.value for v in Verdict)})"
        ) from None


def _resolve(store: Store, ref: str, where: str) -> tuple[str | None, tuple[str, ...]]:
    """(story id or None, the article ids it covers) for an article or story reference."""
    found = find_reference(store, ref, where)
    if found is None:
        raise InputError(where, f"no stored article or story matches {ref.strip()!r}")
    return found.story_id, found.article_ids


def add_review(store: Store, ref: str, verdict: str, note: str | None = None, by: str | None = None) -> Review:
    """Record the desk's verdict on an article or a story."""
    parsed = _parse_verdict(verdict, "review")
    story_id, article_ids = _resolve(store, ref, "review")
    with store.transaction():
        return _insert(store, ref, story_id, article_ids, parsed, note, by)


def _insert(
    store: Store, ref: str, story_id: str | None, article_ids: tuple[str, ...], verdict: Verdict, note: str | None, by: str | None
) -> Review:
    now = utc_now()
    review_id = store.db.execute(
        "INSERT INTO review (target, story_id, article_ids, verdict, note, reviewed_by, reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (ref, story_id, json.dumps(list(article_ids)), verdict.value, note or None, by or None, now),
    ).lastrowid
    assert review_id is not None, "an INSERT sets lastrowid"
    return Review(review_id, ref, story_id, article_ids, verdict, note or None, by or None, now)


_REF_COLUMNS = ("story_id", "cluster_id", "article_id")
_BY_COLUMNS = ("reviewed_by", "by", "reviewer")


def import_reviews(store: Store, path: Path, by: str | None = None) -> list[Review]:
    """Every row of the worklist CSV with a filled ``verdict``; one bad row writes nothing."""
    source = str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = reader.fieldnames or []
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(source, f"cannot read the CSV ({error})") from None
    if "verdict" not in fields:
        raise InputError(source, "no 'verdict' column (fill one in the worklist CSV)")
    if not any(column in fields for column in _REF_COLUMNS):
        raise InputError(source, f"no column naming the article or story ({', '.join(_REF_COLUMNS)})")
    planned = []
    for number, row in enumerate(rows, 2):  # row 1 is the header
        if not (row.get("verdict") or "").strip():
            continue
        where = f"{source}: row {number}"
        verdict = _parse_verdict(row["verdict"], where)
        ref = next((row[column].strip() for column in _REF_COLUMNS if (row.get(column) or "").strip()), "")
        if not ref:
            raise InputError(where, f"no {' or '.join(_REF_COLUMNS)}")
        story_id, article_ids = _resolve(store, ref, where)
        reviewer = next((row[column].strip() for column in _BY_COLUMNS if (row.get(column) or "").strip()), by)
        planned.append((number, (ref, story_id, article_ids, verdict, (row.get("note") or "").strip() or None, reviewer)))
    seen: dict[tuple[str | None, tuple[str, ...]], tuple] = {}
    rows_of: dict[tuple[str | None, tuple[str, ...]], list[int]] = {}
    for number, plan in planned:  # a story's rows (one per claim) are one review
        key = (plan[1], plan[2])
        if key in seen and seen[key][3] is not plan[3]:
            numbers = ", ".join(map(str, [*rows_of[key], number]))
            raise InputError(
                source, f"rows {numbers} give {plan[0]!r} different verdicts ({seen[key][3].value}, {plan[3].value}): keep one"
            )
        seen[key] = plan
        rows_of.setdefault(key, []).append(number)
    with store.transaction():
        return [_insert(store, *plan) for plan in seen.values()]


def reviews(store: Store, article_ids: Iterable[str] | None = None) -> list[Review]:
    """Every review (or those covering one of these articles), oldest first."""
    condition, params = among("covered.value", article_ids)
    if article_ids is not None:
        condition = f"EXISTS (SELECT 1 FROM json_each(review.article_ids) AS covered WHERE {condition})"
    rows = store.db.execute(f"SELECT * FROM review WHERE {condition} ORDER BY reviewed_at, review_id", params)
    return [
        Review(
            row["review_id"],
            row["target"],
            row["story_id"],
            tuple(json.loads(row["article_ids"])),
            Verdict(row["verdict"]),
            row["note"],
            row["reviewed_by"],
            row["reviewed_at"],
        )
        for row in rows
    ]


def review_statuses(store: Store, article_ids: Iterable[str] | None = None) -> dict[str, ReviewStatus]:
    """The latest review of each reviewed article (of these, or all), settled or not."""
    wanted = None if article_ids is None else set(article_ids)
    latest: dict[str, Review] = {}
    for review in reviews(store, wanted):
        for article_id in review.article_ids:
            if wanted is None or article_id in wanted:
                latest[article_id] = review
    story_of = {member.article_id: member.cluster_id for member in cluster_members(store, latest)}
    stories: dict[str, set[str]] = {}
    for member in cluster_members(store, cluster_ids=set(story_of.values())):
        stories.setdefault(member.cluster_id, set()).add(member.article_id)
    members = set().union(*stories.values())
    unreviewed = members - _reviewed(store, members)
    condition, params = among("article_id", unreviewed)
    first_seen = dict(store.db.execute(f"SELECT article_id, first_seen FROM article WHERE {condition}", params).fetchall())
    statuses = {}
    for article_id, review in latest.items():
        # An article nobody reviewed that joined the story after the review brings it back.
        story = stories.get(story_of.get(article_id, ""), set())
        new = tuple(sorted(a for a in story & unreviewed if first_seen.get(a, "") > review.reviewed_at))
        statuses[article_id] = ReviewStatus(review, review.verdict is not Verdict.needs_work and not new, new)
    return statuses


def _reviewed(store: Store, article_ids: Iterable[str]) -> set[str]:
    """Those of these articles that some review covers."""
    condition, params = among("covered.value", article_ids)
    rows = store.db.execute(
        f"SELECT DISTINCT covered.value FROM review, json_each(review.article_ids) AS covered WHERE {condition}", params
    )
    return {row[0] for row in rows}


def review_figures(store: Store) -> dict[str, Any]:
    """Precision and recall of the ``likely_fabrication`` label against the desk's settled
    verdicts (confirmed_fabrication: positive; false_positive, accurate: negative), by ISO
    week of the review, and overall."""
    truth: dict[str, tuple[bool, str]] = {}
    for review in reviews(store):
        if review.verdict is Verdict.needs_work:
            continue
        year, week_number, _ = datetime.fromisoformat(review.reviewed_at).isocalendar()
        for article_id in review.article_ids:
            truth[article_id] = (review.verdict is Verdict.confirmed_fabrication, f"{year}-W{week_number:02d}")
    condition, params = among("article_id", truth)
    labels = dict(store.db.execute(f"SELECT article_id, label FROM latest_result WHERE {condition}", params).fetchall())
    weeks: dict[str, dict[str, int]] = {}
    for article_id, (positive, week) in truth.items():
        flagged = labels.get(article_id) == Label.likely_fabrication.value
        counts = weeks.setdefault(week, {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
        counts[("t" if flagged == positive else "f") + ("p" if flagged else "n")] += 1
    total = {key: sum(counts[key] for counts in weeks.values()) for key in ("tp", "fp", "fn", "tn")}
    return {"weeks": {week: _rates(weeks[week]) for week in sorted(weeks)}, "overall": _rates(total)}


def _rates(counts: dict[str, int]) -> dict[str, Any]:
    flagged, positives = counts["tp"] + counts["fp"], counts["tp"] + counts["fn"]
    return {
        **counts,
        "reviewed": sum(counts.values()),
        "precision": round(counts["tp"] / flagged, 3) if flagged else None,
        "recall": round(counts["tp"] / positives, 3) if positives else None,
    }


def render_review_figures(figures: dict[str, Any]) -> str:
    def cell(value: float | None) -> str:
        return "   —" if value is None else f"{value:.3f}"

    lines = ["week      reviewed  precision  recall   tp  fp  fn  tn"]
    for week, rates in [*figures["weeks"].items(), ("overall", figures["overall"])]:
        lines.append(
            f"{week:9} {rates['reviewed']:8}  {cell(rates['precision']):>9}  {cell(rates['recall']):>6}  "
            f"{rates['tp']:3} {rates['fp']:3} {rates['fn']:3} {rates['tn']:3}"
        )
    return "\n".join(lines) + "\n"
