"""The desk's morning (issue 20, part A): the night is the unit of the morning, read commands
never create a store, every line carries an id to act on, and a label never contradicts its
probability."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from support import SEEDS
from support.batch_fixtures import HOSTILE_TEXT
from support.memory_fixtures import store_article
from typer.testing import CliRunner

from pipeline.checks.verdict import PROBABILITY_BOUNDS, BatchEvidence, settle_with_evidence
from pipeline.cli import app
from pipeline.models import Label
from pipeline.settings import load_settings
from pipeline.store import Store
from pipeline.views.morning_report import collect_report, render_html, render_markdown
from pipeline.views.read import read_settled, tonight

ENV = {"PIPELINE_TIMEZONE": "UTC", "PIPELINE_NIGHT_STARTS": "18:00", "COLUMNS": "200"}
# Three runs: the night's (22:00), a retry at 06:00 the same night re-reading it all (cached)
# with one new article, and an ad-hoc run the next evening (the next night) re-reading a seed.
NIGHT_RUN, RETRY, AD_HOC = "2026-11-01T22:00:00.000+00:00", "2026-11-02T06:00:00.000+00:00", "2026-11-02T19:00:00.000+00:00"
COSTS = {1: 0.0556, 2: 0.0012, 3: 0.002}
FEED = [
    {"id": "r_1", "title": "Bridge vote", "text": "A leaked video of the council vote surfaced on Tuesday, fans said."},
    {"id": "r%2", "title": "Library wing", "text": "A secret recording of the school board surfaced, an insider said."},
]


def cli(*arguments: str, db: Path | None = None):
    extra = ["--db", str(db)] if db is not None else []
    return CliRunner().invoke(app, [*arguments, *extra], env=ENV)


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def _run_at(db: Path, folder: Path, moment: str) -> int:
    _ok(cli("run", str(folder), "--engine", "offline", db=db))
    with sqlite3.connect(db) as connection:
        run_id = connection.execute("SELECT MAX(run_id) FROM run").fetchone()[0]
        connection.execute("UPDATE run SET started_at = ?, ended_at = ? WHERE run_id = ?", (moment, moment, run_id))
        connection.execute("UPDATE article SET first_seen = ? WHERE first_seen > '2026-11-30'", (moment,))
        connection.execute("UPDATE outcome SET cost = 0 WHERE run_id = ?", (run_id,))
        connection.execute(
            "UPDATE outcome SET cost = ? WHERE rowid = (SELECT MIN(rowid) FROM outcome WHERE run_id = ?)", (COSTS[run_id], run_id)
        )
    return run_id


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> Path:
    """Three runs over two nights (nights start at 18:00 UTC)."""
    folder = tmp_path_factory.mktemp("nights")
    night = folder / "night"
    shutil.copytree(SEEDS, night)
    db = folder / "desk.db"
    assert _run_at(db, night, NIGHT_RUN) == 1
    (night / "retry.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    assert _run_at(db, night, RETRY) == 2
    ad_hoc = folder / "ad-hoc"
    ad_hoc.mkdir()
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], ad_hoc / "again.txt")
    (ad_hoc / "feed.jsonl").write_text("".join(json.dumps(record) + "\n" for record in FEED), encoding="utf-8")
    assert _run_at(db, ad_hoc, AD_HOC) == 3
    return db


def _worklist(db: Path, *options: str) -> dict:
    return json.loads(_ok(cli("worklist", "--json", "--limit", "0", *options, db=db)))


# 1. The night is the unit of the morning.


def test_the_night_holds_every_article_first_seen_in_it_across_its_runs(nights):
    first = _worklist(nights, "--night", "2026-11-01")
    assert first["of"] == "night of 2026-11-01"
    titles = {variant["title"] for item in first["items"] for variant in item["variants"]}
    assert len([t for t in titles if "council" in t.lower()]) == 1, "the retry's new article belongs to the night"
    assert sum(len(item["variants"]) for item in first["items"]) == 4
    # The 06:00 retry re-read the seeds from the cache: they are still new tonight, not "seen before".
    assert first["items"] and all(item["new"] for item in first["items"])

    second = _worklist(nights, "--night", "2026-11-02")
    new = {variant["source_path"].rsplit("/", 1)[1]: item["new"] for item in second["items"] for variant in item["variants"]}
    assert new["again.txt"] is False, "a seed first seen the night before is seen before"
    assert new["feed.jsonl"] is True
    assert [item["new"] for item in second["items"]] == sorted((item["new"] for item in second["items"]), reverse=True)


def test_the_nights_counts_and_cost_are_its_runs_sums_and_run_and_since_keep_working(nights):
    clock = load_settings({"timezone": "UTC"}).night_clock
    with Store(nights, read_only=True) as store:
        night = collect_report(store, clock=clock, night="2026-11-01")
        retry = collect_report(store, clock=clock, run_id=2)
        since = collect_report(store, clock=clock, since="2026-11-02T18:00")
        default = collect_report(store, clock=clock)
    assert [run["run_id"] for run in night.runs] == [1, 2] and len(night.results) == 4
    assert night.cost == pytest.approx(COSTS[1] + COSTS[2])
    assert retry.cost == pytest.approx(COSTS[2]) and retry.title == "run 2"
    assert [run["run_id"] for run in since.runs] == [3]
    assert default.title == f"night of {tonight(clock)}" and default.results == []
    assert "night of 2026-11-01" in render_markdown(night)
    assert _worklist(nights, "--run", "3")["of"] == "run 3"


@pytest.mark.cause(15, issue=23)
def test_redteam_a_night_whose_run_did_not_finish_says_so_and_never_reads_as_an_empty_night(nights, tmp_path):
    db = tmp_path / "unfinished.db"
    shutil.copy(nights, db)
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO run (started_at, status, engine, model, pid) VALUES ('2026-11-03T22:00:00.000+00:00', 'running', 'offline', 'offline', 1)"
        )
        connection.execute("UPDATE run SET status = 'interrupted' WHERE run_id = 2")
    for command in ("worklist", "report"):
        empty = cli(command, "--night", "2026-11-03", db=db)
        assert empty.exit_code == 1, empty.output
        assert "warning: run 4 (started 2026-11-03T22:00) has not finished" in empty.stderr
    interrupted = cli("report", "--night", "2026-11-01", db=db)
    assert interrupted.exit_code == 0 and "run 2" in interrupted.stderr and "ended interrupted" in interrupted.stderr
    assert "**Warning**: run 2" in interrupted.stdout
    clock = load_settings({"timezone": "UTC"}).night_clock
    with Store(db, read_only=True) as store:
        page = render_html(collect_report(store, clock=clock, night="2026-11-01"))
    assert 'class="warning"' in page and "ended interrupted" in page
    bad = cli("worklist", "--night", "yesterday", db=db)
    assert bad.exit_code == 2 and "--night 'yesterday' is not a date" in bad.output


# 2. Read commands never create a store.

READING = [
    ["worklist"],
    ["report"],
    ["show", "abc"],
    ["runs"],
    ["export"],
    ["deaths"],
    ["deaths", "remove", "Jane Doe"],
    ["factchecks"],
    ["sources"],
    ["sources", "remove", "hoax.example"],
    ["eval", "--reviews"],
    ["review", "abc", "--verdict", "accurate"],
]


@pytest.mark.cause(9, issue=23)
@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_redteam_a_missing_or_mistyped_db_is_one_line_and_exit_2_and_creates_nothing(tmp_path, command):
    db = tmp_path / "mistyped.db"
    result = cli(*command, db=db)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"store error: {db}: no database there (check --db; `pipeline run` creates one)"
    assert list(tmp_path.iterdir()) == []


def test_the_commands_that_add_to_the_memory_may_create_the_store(tmp_path):
    db = tmp_path / "new.db"
    _ok(cli("deaths", "add", "Len Goodman", "--date", "2023-04-22", db=db))
    assert db.exists()
    assert "Len Goodman" in _ok(cli("deaths", db=db))


# 3. An id to act on.


def test_every_worklist_and_report_line_carries_an_id_show_and_review_accept(nights, tmp_path):
    db = tmp_path / "ids.db"
    shutil.copy(nights, db)
    items = _worklist(db, "--night", "2026-11-01")["items"]
    text = _ok(cli("worklist", "--night", "2026-11-01", db=db))
    with Store(db, read_only=True) as store:
        page = render_html(collect_report(store, clock=load_settings({"timezone": "UTC"}).night_clock, night="2026-11-01"))
    for item in items:
        assert f"[{item['ref']}]" in text and f'<code class="ref">{item["ref"]}</code>' in page
        shown = _ok(cli("show", item["ref"], "--json", db=db))
        assert {json.loads(line)["article_id"] for line in shown.splitlines()} == {v["article_id"] for v in item["variants"]}
        [review] = json.loads(_ok(cli("review", item["ref"], "--verdict", "needs_work", "--json", db=db)))
        assert sorted(review["article_ids"]) == sorted(v["article_id"] for v in item["variants"])
    assert any(item["ref"].startswith("tpl-") for item in items) and any(len(item["ref"]) == 12 for item in items)
    story = next(item for item in items if item["ref"].startswith("tpl-"))
    _ok(cli("review", story["ref"], "--verdict", "confirmed_fabrication", db=db))
    summary = _ok(cli("report", "--night", "2026-11-01", db=db))
    reviewed = summary[summary.index("**Reviewed by the desk**") :]
    assert all(f"`{variant['article_id'][:12]}`" in reviewed for variant in story["variants"])


def test_a_path_names_its_records_by_id_and_an_ambiguous_reference_lists_its_candidates(nights):
    listed = cli("show", "feed.jsonl", db=nights)
    assert listed.exit_code == 2 and "'feed.jsonl' matches 2 articles" in listed.output
    assert "feed.jsonl#r_1: Bridge vote" in listed.output and "feed.jsonl#r%2: Library wing" in listed.output
    for record in FEED:
        [shown] = _ok(cli("show", f"ad-hoc/feed.jsonl#{record['id']}", "--json", db=nights)).splitlines()
        assert json.loads(shown)["title"] == record["title"]
    refused = cli("review", "feed.jsonl", "--verdict", "accurate", db=nights)
    assert refused.exit_code == 2 and "matches 2 articles" in refused.output


@pytest.mark.parametrize("wildcard", ["%", "_", "%%", "feed.jsonl#r_", "feed.jsonl#r%"])
def test_percent_and_underscore_are_literal_in_references(nights, wildcard):
    missing = cli("show", wildcard, db=nights)
    assert missing.exit_code == 1 and "no stored analysis matches" in missing.output
    refused = cli("review", wildcard, "--verdict", "accurate", db=nights)
    assert refused.exit_code == 2 and "no stored article or story matches" in refused.output


# 6. A label never contradicts its probability; every worklist item says why it is there.


def test_an_unbacked_fabrication_score_is_held_and_shown_as_such(tmp_path):
    db = tmp_path / "unbacked.db"
    with Store(db) as store:
        # The engine's news at 0.02: fabrication 0.49 above it, and no evidence to back it.
        store_article(store, "unbacked1", "A story.", Label.news, confidence=0.02)
        store_article(store, "backed22", "Another.", Label.news, confidence=0.9)
        clock = load_settings({}).night_clock
        unbacked, backed = sorted(read_settled(store, clock), key=lambda a: a.article_id, reverse=True)
    assert unbacked.article_id == "unbacked1"
    assert unbacked.p_fabrication == PROBABILITY_BOUNDS[0] and unbacked.unbacked_score == pytest.approx(0.49)
    assert unbacked.probabilities[unbacked.label.value] == max(unbacked.probabilities.values())
    assert unbacked.confidence == pytest.approx(max(unbacked.probabilities.values()), abs=1e-4)
    assert abs(sum(unbacked.probabilities.values()) - 1) < 1e-6
    assert "Score 0.49 of fabrication, no evidence" in unbacked.result.analysis.rationale
    assert backed.result is backed.stored and backed.unbacked_score is None
    assert "fabrication score 0.49, no evidence" in _ok(cli("show", "unbacked1", db=db))
    assert json.loads(_ok(cli("show", "unbacked1", "--json", db=db)))["fabrication_score"] == pytest.approx(0.49)


def test_a_contradicted_label_with_evidence_becomes_the_likelier_one():
    from support.memory_fixtures import SIGNALS

    from pipeline.models import Analysis, ReasonCode

    analysis = Analysis(
        article_id="x",
        label=Label.news,
        confidence=0.2,
        probabilities={"news": 0.2, "tribute": 0.1, "likely_fabrication": 0.7},
        reasons=[ReasonCode.unverifiable_media],
        rationale="",
        quotes=[],
        rejected_quotes=[],
        claims=[],
        signals=SIGNALS,
    )
    settled = settle_with_evidence(analysis, BatchEvidence(own=[ReasonCode.unverifiable_media], added=[], desk=[]))
    assert (settled.label, settled.confidence) == (Label.likely_fabrication, 0.7)
    held = settle_with_evidence(analysis, BatchEvidence(own=[], added=[], desk=[]))
    assert held.label is Label.news and held.probabilities["likely_fabrication"] == PROBABILITY_BOUNDS[0]


def test_every_worklist_item_says_why_it_is_there(nights):
    items = [item for night in ("2026-11-01", "2026-11-02") for item in _worklist(nights, "--night", night)["items"]]
    assert len(items) >= 3
    assert [item["ref"] for item in items if not item["reasons"]] == []
