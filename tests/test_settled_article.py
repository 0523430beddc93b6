"""The settled article: every door (show, worklist, the exports, the report, the ``verdicts``
table) says the same label and probability of every article, on one store holding every kind
of the batch's and the desk's evidence."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from support import SEEDS
from support.memory_fixtures import CLAIM_REVIEW
from typer.testing import CliRunner

from pipeline.checks.verdict import probability_text
from pipeline.cli import app
from pipeline.models import Label
from pipeline.settings import NightClock, load_settings
from pipeline.store import Store
from pipeline.desk.reviews import Verdict
from pipeline.views.export import RATINGS
from pipeline.views.read import read_settled

UNRELIABLE = "rumours.example.net"
# Articles of our own beside the three seeds (a template of one fabricated story with the
# names swapped): one at a domain the desk lists unreliable, one presenting a man the desk
# registers as dead acting, one the desk reviews.
OWN_ARTICLES = [
    {
        "id": "unreliable",
        "title": "Council approves new bridge over the river",
        "url": f"https://{UNRELIABLE}/bridge",
        "text": "SPRINGFIELD, Ohio - The city council voted 7-2 on Monday to approve a new bridge over the Mad "
        "River, council clerk Anna Ruiz said. Construction will begin in March and cost $12 million, "
        "according to the city budget office. Mayor Tom Jones said the bridge would ease traffic. An anonymous "
        "source said the mayor secretly bought land beside the bridge on Tuesday after a video was posted.",
    },
    {
        "id": "acting",
        "title": "Gala honours dance judge",
        "url": "https://news.example.com/gala",
        "text": "Len Goodman was honoured on Sunday. Len smiles at the crowd, and the crowd cheers. "
        "Organisers said the gala raised money for a dance school in London.",
    },
    {
        "id": "reviewed",
        "title": "School opens library wing",
        "url": "https://news.example.com/library",
        "text": "DAYTON, Ohio - Lincoln Elementary opened a new library wing on Friday, principal Mary Chen "
        "said. The wing holds 4,000 books and was paid for by a state grant, according to the "
        "district's announcement.",
    },
]


def _invoke(*arguments: str) -> str:
    result = CliRunner().invoke(app, list(arguments))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def evidence_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("settled")
    inputs = folder / "inputs"
    inputs.mkdir()
    for seed in sorted(SEEDS.glob("*.txt")):
        shutil.copy(seed, inputs / seed.name)
    (inputs / "feed.jsonl").write_text("".join(json.dumps(a) + "\n" for a in OWN_ARTICLES), encoding="utf-8")
    checks = folder / "checks.json"
    checks.write_text(json.dumps(CLAIM_REVIEW), encoding="utf-8")
    db = folder / "evidence.db"
    _invoke("run", str(inputs), "--db", str(db), "--engine", "offline")
    ids = {record["record_id"]: record["article_id"] for record in _exported(db, "jsonl") for record in _sources(record)}
    _invoke("sources", "add", "--unreliable", UNRELIABLE, "--db", str(db))
    _invoke("factchecks", "import", str(checks), "--db", str(db))
    _invoke("deaths", "add", "Len Goodman", "--date", "2023-04-22", "--db", str(db))
    _invoke("review", ids["reviewed"], "--verdict", "accurate", "--db", str(db))
    return db


def _sources(record: dict) -> list[dict]:
    return [{"record_id": source["record_id"], "article_id": record["article_id"]} for source in record["sources"]]


def _exported(db: Path, format: str, *options: str) -> list[dict]:
    text = _invoke("export", "--format", format, "--db", str(db), *options)
    if format == "jsonl":
        # split("\n"), not splitlines(): a record keeps U+2028 and its kin as they are.
        return [json.loads(line) for line in text.split("\n") if line]
    if format == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    return json.loads(text)


def _verdicts(db: Path) -> dict[str, dict]:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        return {row["article_id"]: dict(row) for row in connection.execute("select * from verdicts")}


def test_the_store_holds_every_kind_of_evidence(evidence_db):
    with Store(evidence_db, read_only=True) as store:
        articles = read_settled(store, load_settings({"db": evidence_db}).night_clock)
    found = [article.findings for article in articles]
    assert any(f.source is not None and f.source.domain == UNRELIABLE for f in found)
    assert any(f.factchecks for f in found)
    assert any(f.review is not None for f in found)
    assert any(f.template for f in found)
    assert any(f.posthumous for f in found)
    # The desk's evidence turned an article the engine called news into a fabrication.
    assert any(a.label is Label.likely_fabrication and a.stored.analysis.label is not a.label for a in articles)


def test_every_door_agrees_with_the_verdicts_table(evidence_db):
    verdicts = _verdicts(evidence_db)
    records = {record["article_id"]: record for record in _exported(evidence_db, "jsonl")}
    assert set(verdicts) == set(records) and len(verdicts) == 3 + len(OWN_ARTICLES)

    for article_id, row in verdicts.items():
        assert json.loads(row["reasons"]) == records[article_id]["reasons"]
        assert abs(row["p_news"] + row["p_tribute"] + row["p_fabrication"] - 1) < 1e-3
        for record in (records[article_id], json.loads(_invoke("show", article_id, "--json", "--db", str(evidence_db)))):
            assert record["label"] == row["label"], article_id
            assert record["confidence"] == row["confidence"]
            assert record["probabilities"]["likely_fabrication"] == row["p_fabrication"]
            assert record["review_status"] == row["review_status"] and record["night"] == row["night"]

    for line in _exported(evidence_db, "csv"):
        assert (line["label"], line["confidence"]) == (
            verdicts[line["article_id"]]["label"],
            f"{verdicts[line['article_id']]['confidence']:.4f}",
        )

    # Published reviews rate only what the desk rated, by its verdict; drafts carry the rest.
    for review in _exported(evidence_db, "claimreview"):
        article_id = review["url"].rsplit("/", 1)[1].split("#")[0]
        verdict = records[article_id]["review_verdict"]
        assert review["reviewRating"]["alternateName"] == RATINGS[Verdict(verdict)][0]
    drafts = [r for r in _exported(evidence_db, "claimreview", "--drafts") if r.get("creativeWorkStatus") == "Draft"]
    # The article at the unreliable domain (a high-priority claim; news to the engine alone) is among them.
    assert any(UNRELIABLE in (records[r["url"].rsplit("/", 1)[1].split("#")[0]]["url"] or "") for r in drafts)
    assert all("ratingValue" not in r["reviewRating"] for r in drafts)

    with sqlite3.connect(evidence_db) as db:
        # What a Datasette user counts: the articles view says what the report says.
        shown = {row[0]: row[1:] for row in db.execute("SELECT article_id, label, confidence, engine_label FROM articles")}
    assert {article_id: row[:2] for article_id, row in shown.items()} == {
        article_id: (row["label"], row["confidence"]) for article_id, row in verdicts.items()
    }
    assert any(label != engine_label for label, _, engine_label in shown.values())

    worklist = json.loads(_invoke("worklist", "--json", "--limit", "0", "--db", str(evidence_db)))
    assert worklist["items"]
    for item in worklist["items"]:
        lead = verdicts[item["variants"][0]["article_id"]]
        assert (item["label"], item["probability"]) == (lead["label"], round(lead["p_fabrication"], 4))
        assert item["review_status"] == lead["review_status"]


def test_the_report_shows_the_settled_label_and_probability(evidence_db, tmp_path):
    page = tmp_path / "report.html"
    _invoke("report", "--html", str(page), "--db", str(evidence_db))
    cards = re.findall(
        r'<article class="card (\w+)" id="a-(\w{16})"[^>]*><details><summary>(?:<span[^>]*>|<b>)([a-z ]+) ([^<]+?)</',
        page.read_text(encoding="utf-8"),
    )
    verdicts = {article_id[:16]: row for article_id, row in _verdicts(evidence_db).items()}
    assert len(cards) == len(verdicts)
    for label, short_id, shown_label, shown_confidence in cards:
        row = verdicts[short_id]
        assert label == row["label"] and shown_label == row["label"].replace("_", " ")
        assert html.unescape(shown_confidence) == probability_text(row["confidence"])


def test_a_desk_change_refreshes_the_verdicts_table(evidence_db, tmp_path):
    db = tmp_path / "copy.db"
    shutil.copy(evidence_db, db)
    [unreliable] = [r for r in _exported(db, "jsonl") if r["url"] and UNRELIABLE in r["url"]]
    assert _verdicts(db)[unreliable["article_id"]]["label"] == "likely_fabrication"
    _invoke("sources", "remove", UNRELIABLE, "--db", str(db))
    row = _verdicts(db)[unreliable["article_id"]]
    shown = json.loads(_invoke("show", unreliable["article_id"], "--json", "--db", str(db)))
    assert row["label"] == shown["label"] != "likely_fabrication"
    assert (
        row["p_fabrication"] == shown["probabilities"]["likely_fabrication"] < unreliable["probabilities"]["likely_fabrication"]
    )


@pytest.mark.parametrize(
    ("moment", "starts", "night"),
    [
        ("2026-12-05T17:59:00+00:00", "18:00", "2026-12-04"),
        ("2026-12-05T18:00:00+00:00", "18:00", "2026-12-05"),
        ("2026-12-06T05:00:00+00:00", "18:00", "2026-12-05"),
        ("2026-12-06T05:00:00", "06:00", "2026-12-05"),
    ],
)
def test_a_night_starts_at_its_hour_and_is_named_by_its_first_day(moment, starts, night):
    clock = load_settings({"night_starts": starts, "timezone": "UTC"}, environ={}).night_clock
    assert clock.night_of(moment) == night


def test_the_night_is_counted_in_the_desks_zone():
    from zoneinfo import ZoneInfo

    berlin = NightClock(zone=ZoneInfo("Europe/Berlin"))
    # 17:30 UTC is 18:30 in Berlin in winter: the night of that day has begun there, not in UTC.
    assert berlin.night_of("2026-12-05T17:30:00+00:00") == "2026-12-05"
    assert NightClock(zone=ZoneInfo("UTC")).night_of("2026-12-05T17:30:00+00:00") == "2026-12-04"


def test_articles_without_a_verdicts_row_get_one_at_the_next_refresh(evidence_db, tmp_path):
    db = tmp_path / "upgraded.db"
    shutil.copy(evidence_db, db)
    before = _verdicts(db)
    with sqlite3.connect(db) as connection:
        connection.execute("delete from verdicts")
    # A desk change that touches no article still fills the rows a store from before the table lacks.
    _invoke("deaths", "add", "Nobody Named Here", "--db", str(db))
    after = _verdicts(db)
    assert {k: {**v, "settled_at": ""} for k, v in after.items()} == {k: {**v, "settled_at": ""} for k, v in before.items()}
