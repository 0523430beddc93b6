"""The desk teaches the calibration: an LLM's stated confidence is a bounded score, ``pipeline
learn`` fits from the desk's verdicts (weighted for audits, shrunk towards the shipped fit),
keeps every fit, refuses one that scores worse on held-back verdicts, rolls back, and every
door reads the fit in force."""

from __future__ import annotations

import asyncio
import csv
import json
import math
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.checks.verdict import CALIBRATION_FEATURES, SHIPPED_CALIBRATION, Calibration, sigmoid
from pipeline.cli import app
from pipeline.desk.learning import (
    VerdictExample,
    calibration_in_force,
    fit_calibration,
    verdict_examples,
)
from pipeline.engines.canned import CannedEngine
from pipeline.models import Article, ArticleVerdict, CacheIdentity, EngineAnswer, Label, ReasonCode, Usage
from pipeline.runs import analyse_article
from pipeline.settings import DEFAULT_NIGHT_CLOCK
from pipeline.store import Store
from pipeline.views.read import read_settled

LLM = CacheIdentity(engine="llm", model="m", mode="tools", prompt_version="-", prompt_hash="-", schema_hash="-", params={})
TEXT = (
    "SPRINGFIELD, Ohio - The city council voted 7-2 on Monday to approve a new bridge, council clerk Anna Ruiz said. "
    "An anonymous source said the mayor secretly bought land beside it after a video was posted."
)


def _canned(label: Label, confidence: float, reasons: list[ReasonCode]) -> tuple[Label, dict[str, float], float]:
    article = Article(article_id="a1", source_path="feed.txt", record_id=None, title=None, url=None, published=None, text=TEXT)
    verdict = ArticleVerdict(label=label, confidence=confidence, reasons=reasons, rationale="canned", quotes=[], claims=[])
    answer = EngineAnswer(verdict=verdict, raw_responses=["{}"], usage=Usage(requests=1, input_tokens=1, output_tokens=1))
    analysis, _ = asyncio.run(analyse_article(article, CannedEngine("llm", LLM, {"a1": answer})))
    return analysis.label, analysis.probabilities, analysis.confidence


@pytest.mark.parametrize(
    ("label", "confidence", "reasons"),
    [
        (Label.news, 1.0, []),
        (Label.news, 0.0, []),
        (Label.tribute, 0.0, []),
        (Label.likely_fabrication, 1.0, [ReasonCode.anonymous_sourcing]),
        (Label.likely_fabrication, 0.0, [ReasonCode.anonymous_sourcing]),
    ],
)
def test_a_stated_confidence_of_one_or_zero_is_a_bounded_probability_and_the_label_agrees(label, confidence, reasons):
    settled, probabilities, stated = _canned(label, confidence, reasons)
    assert 0 < probabilities[Label.likely_fabrication.value] < 1 and 0 < stated < 1, probabilities
    assert math.isclose(sum(probabilities.values()), 1, abs_tol=1e-5)
    assert stated == probabilities[settled.value]
    others = [p for name, p in probabilities.items() if name != Label.likely_fabrication.value]
    if settled is not Label.likely_fabrication:
        assert probabilities[settled.value] == max(others), (settled, probabilities)
    if confidence == 1.0:
        assert probabilities[label.value] < 0.95  # a stated certainty is a score: evidence can still move it
    if confidence == 0.0:
        assert settled is not label or label is Label.news and probabilities[label.value] >= max(others)


def _example(index: int, fabricated: bool, score: float, style: float, propensity: float = 1.0) -> VerdictExample:
    features = dict.fromkeys(CALIBRATION_FEATURES, 0.0) | {"score": score, "style_risk": style}
    return VerdictExample(f"a{index}", index, fabricated, propensity, features)


def test_the_fit_stays_at_the_shipped_one_under_heavy_shrinkage_and_matches_the_weighted_base_rate():
    examples = [_example(i, i % 4 == 0, -3 + (i % 4 == 0) * 2.0, (i % 3) / 2) for i in range(40)]
    examples += [_example(100 + i, i == 0, -4.0, 0.2, propensity=0.1) for i in range(5)]
    pinned = fit_calibration(examples, shrinkage=1e6)
    assert pinned.weights["score"] == pytest.approx(1.0, abs=1e-3)
    assert pinned.weights["batch_evidence"] == pytest.approx(SHIPPED_CALIBRATION.weights["batch_evidence"], abs=1e-3)
    free = fit_calibration(examples, shrinkage=0.0)
    weights = [1 / e.propensity for e in examples]
    predicted = sum(w * sigmoid(free.logit(e.features)) for e, w in zip(examples, weights, strict=True)) / sum(weights)
    observed = sum(w * e.fabricated for e, w in zip(examples, weights, strict=True)) / sum(weights)
    assert predicted == pytest.approx(observed, abs=1e-4)  # the free intercept: the desk's weighted share
    assert free.weights["score"] != pytest.approx(1.0, abs=1e-2)


def test_the_fit_stays_finite_on_verdicts_a_feature_separates():
    examples = [_example(i, i < 3, 9.0 if i < 3 else -9.0 + (i % 5), 0.9 if i < 3 else 0.1) for i in range(40)]
    examples += [_example(100 + i, False, -9.0, 0.1, propensity=5 / 175) for i in range(5)]
    fitted = fit_calibration(examples, shrinkage=1.0)
    assert all(abs(value) < 50 for value in fitted.vector()), fitted
    shipped = sum(math.log(1 + math.exp(-e.features["score"] if e.fabricated else e.features["score"])) for e in examples)
    refitted = sum(
        math.log(1 + math.exp(-fitted.logit(e.features) if e.fabricated else fitted.logit(e.features))) for e in examples
    )
    assert refitted < shipped


def _invoke(*arguments: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(arguments))
    assert result.exit_code == code, result.output
    return result.stdout


SENSATIONAL = "🔥 BREAKING 🔥 In a stunning, emotional moment! Millions of fans were left speechless as it went viral! "
PLAIN = (
    'DAYTON, Ohio - Lincoln Elementary opened a new library wing on Friday. "We are proud of it," principal Mary '
    "Chen told the Dayton Daily News. The wing holds 4,000 books, according to a district statement published on "
    "its website. "
)


@pytest.fixture()
def reviewed_db(tmp_path: Path) -> Path:
    """A night of 60 articles, half sensational; the desk finds every sensational one invented
    (the shipped calibration ignores style, so a fit has something to learn)."""
    feed = tmp_path / "night.jsonl"
    with feed.open("w", encoding="utf-8") as handle:
        for index in range(60):
            text = (SENSATIONAL if index % 2 else PLAIN) + f"It was room {index * 7} of the school's east wing."
            handle.write(json.dumps({"id": f"r{index}", "text": text}) + "\n")
    db = tmp_path / "desk.db"
    _invoke("run", str(feed), "--db", str(db), "--engine", "offline")
    return db


def _review(db: Path, folder: Path, fabricated: callable, note: str = "") -> None:
    with Store(db) as store:
        ids = {a.stored.article.record_id: a.article_id for a in read_settled(store, DEFAULT_NIGHT_CLOCK)}
    path = folder / "reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["article_id", "verdict", "note"])
        for record, article_id in sorted(ids.items()):
            verdict = "confirmed_fabrication" if fabricated(record, article_id) else "false_positive"
            writer.writerow([article_id, verdict, note])
    _invoke("review", "import", str(path), "--db", str(db))


def _verdicts(db: Path) -> dict[str, float]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute("SELECT article_id, p_fabrication FROM verdicts").fetchall())


def test_learn_fits_keeps_refuses_and_rolls_back(reviewed_db: Path, tmp_path: Path, monkeypatch):
    sensational = lambda record, _id: int(record[1:]) % 2 == 1  # noqa: E731
    monkeypatch.setenv("PIPELINE_LEARN_MIN_VERDICTS", "61")
    _review(reviewed_db, tmp_path, sensational)
    assert "fewer than learn_min_verdicts" in _invoke("learn", "--db", str(reviewed_db), code=1)
    monkeypatch.delenv("PIPELINE_LEARN_MIN_VERDICTS")
    shipped = _verdicts(reviewed_db)

    first = json.loads(_invoke("learn", "--json", "--db", str(reviewed_db)))
    assert first["status"] == "in_force" and first["after"]["log_loss"] < first["before"]["log_loss"]
    assert first["coefficients"]["weights"]["style_risk"] > 0
    learned = _verdicts(reviewed_db)
    with Store(reviewed_db) as store:
        examples = {e.article_id: e for e in verdict_examples(store)}
        settled = {a.article_id: a for a in read_settled(store, DEFAULT_NIGHT_CLOCK)}
        assert calibration_in_force(store).fit_id == first["fit_id"]
    # The verdicts table was refreshed and agrees with what every door reads.
    assert learned != shipped
    assert all(learned[a] == pytest.approx(settled[a].p_fabrication) for a in learned)
    assert all(0 < p < 1 for p in learned.values())
    fabricated = [learned[a] for a, e in examples.items() if e.fabricated]
    genuine = [learned[a] for a, e in examples.items() if not e.fabricated]
    assert min(fabricated) > max(genuine)
    assert f"desk fit {first['fit_id']}" in _invoke("runs", "--db", str(reviewed_db))

    # The desk now says the opposite on the verdicts a fit trains on; the held-back ones stand.
    _review(reviewed_db, tmp_path, lambda record, article_id: sensational(record, article_id) == examples[article_id].held_back)
    second = json.loads(_invoke("learn", "--json", "--db", str(reviewed_db)))
    assert second["status"] == "refused" and second["after"]["log_loss"] > second["before"]["log_loss"]
    assert _verdicts(reviewed_db) == learned

    _invoke("learn", "--rollback", "--db", str(reviewed_db))
    assert _verdicts(reviewed_db) == pytest.approx(shipped)
    with sqlite3.connect(reviewed_db) as connection:
        statuses = dict(connection.execute("SELECT fit_id, status FROM calibration_fits").fetchall())
        used = json.loads(connection.execute("SELECT review_ids FROM calibration_fits WHERE fit_id = 1").fetchone()[0])
    assert statuses == {first["fit_id"]: "rolled_back", second["fit_id"]: "refused"}
    assert len(used) == 60
    assert "no desk fit is in force" in CliRunner().invoke(app, ["learn", "--rollback", "--db", str(reviewed_db)]).output


def test_an_audit_weighs_by_how_rarely_it_was_drawn(reviewed_db: Path, tmp_path: Path):
    worklist = json.loads(_invoke("worklist", "--json", "--limit", "0", "--db", str(reviewed_db)))
    audits = [item for item in worklist["items"] if item.get("audit")]
    assert audits
    drawn = {item["variants"][0]["article_id"]: item["audit_draw"]["propensity"] for item in audits}
    _review(reviewed_db, tmp_path, lambda record, _id: record == "r1")  # the whole night, audits included
    with Store(reviewed_db) as store:
        examples = {e.article_id: e for e in verdict_examples(store)}
    assert {a: examples[a].propensity for a in drawn} == drawn
    assert all(0 < p < 1 for p in drawn.values())
    assert {e.propensity for a, e in examples.items() if a not in drawn} == {1.0}


def test_learn_on_run_learns_when_the_desk_has_new_verdicts(reviewed_db: Path, tmp_path: Path, monkeypatch):
    _review(reviewed_db, tmp_path, lambda record, _id: int(record[1:]) % 2 == 1)
    monkeypatch.setenv("PIPELINE_LEARN_ON_RUN", "1")
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"id": "late", "text": PLAIN * 3}) + "\n", encoding="utf-8")
    _invoke("run", str(empty), "--db", str(reviewed_db), "--engine", "offline")
    with Store(reviewed_db) as store:
        assert isinstance(calibration_in_force(store), Calibration) and calibration_in_force(store).fit_id == 1
    _invoke("run", str(empty), "--db", str(reviewed_db), "--engine", "offline")
    with sqlite3.connect(reviewed_db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM calibration_fits").fetchone()[0] == 1  # nothing new: no fit
