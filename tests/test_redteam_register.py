"""Red team, issue 23, causes 3 and 6: the death register at scale and against one poisoned article.

3. A night with more than 1,000 new deaths registers every one (no SQL expression per name),
   and an insight pass that fails leaves its articles pending: the next run, finding them
   cached, records their deaths all the same.
6. A death read from one feed article is an unconfirmed death, a note for the desk: it moves
   no verdict until independent sources (another domain or source file) or the desk confirm it.
"""

from __future__ import annotations

import io
import json

import pytest
from typer.testing import CliRunner

import pipeline.desk.insight as insight
from pipeline.cli import app
from pipeline.desk.posthumous import death_register, posthumous_flags
from pipeline.errors import StoreError
from pipeline.models import Label
from pipeline.runs import run
from pipeline.settings import Engine, Settings
from pipeline.store import Store
from pipeline.views.export import export_results
from pipeline.views.read import read_settled
from pipeline.views.worklist import build_worklist

FIRST = """Alan Brenda Carlos Dana Elena Farid Greta Hugo Irene Jonas Kara Liam Mona Nils Olga Pavel Quinn
Rosa Sven Tara Ursula Viktor Wanda Xavier Yusuf Zora Anton Bettina Cyril Dorothea Emil Frieda Gustav Hedda
Ivo Josefine Kasimir Lotte Magnus Nora""".split()
LAST = """Abbott Bishop Carver Dalton Ellison Fenwick Garrison Holloway Ingram Jarvis Kendall Lowell Merritt
Norwood Oakley Prescott Quimby Radcliffe Sutton Thorne Underwood Vance Whitaker Yardley Zeller Ashford
Blackwood Crawley Dunmore Everly""".split()
NAMES = [f"{first} {last}" for first in FIRST for last in LAST]  # 1,200 people

WIRE = (
    "WASHINGTON - President Joe Biden spoke to reporters on Tuesday. "
    '"We will rebuild the bridge before winter," Joe Biden said at the White House. Officials confirmed the plan.'
)
RIP = "RIP Joe Biden. Fans gathered outside the White House on Sunday night to leave flowers."
OBITUARY = "Former president Joe Biden died on Sunday, his family said in a statement. He was 83."


@pytest.fixture
def offline(tmp_path):
    return Settings(engine=Engine.offline, db=tmp_path / "p.db", min_file_age=0)


def _jsonl(path, records) -> str:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return str(path)


def _obituaries(path, day: str, per_article: int = 100) -> str:
    chunks = [NAMES[start : start + per_article] for start in range(0, len(NAMES), per_article)]
    return _jsonl(path, [{"text": " ".join(f"{name} died on {day}." for name in chunk)} for chunk in chunks])


@pytest.mark.cause(3, issue=23)
def test_redteam_more_than_a_thousand_new_deaths_in_one_night_are_all_registered(tmp_path, offline):
    quoted = NAMES[-1]
    later = _jsonl(tmp_path / "later.jsonl", [{"text": f'"The harbour opens in May," {quoted} said on Friday.'}])
    first = run([later], offline)
    assert first.counts["ok"] == 1
    # Two source files say so: every death is confirmed, and the register changes by 1,200 names at once.
    result = run([_obituaries(tmp_path / "a.jsonl", "Monday"), _obituaries(tmp_path / "b.jsonl", "Tuesday")], offline)
    assert result.counts["ok"] == 24 and not result.fatal, result.fatal
    with Store(offline.db) as store:
        register = death_register(store)
        confirmed = {entry.name for entry in register if entry.confirmed}
        flags = posthumous_flags(store)
    assert len(confirmed) > 1_000 and quoted in confirmed
    assert {(flag.person, flag.confirmed) for flag in flags} >= {(quoted, True)}, "the article stored before is flagged"


@pytest.mark.cause(3, issue=23)
def test_redteam_a_failed_insight_pass_is_redone_by_the_next_run_for_cached_articles(tmp_path, offline, monkeypatch):
    first_file = _jsonl(tmp_path / "a.jsonl", [{"text": f"{name} died on Monday."} for name in NAMES[:3]])
    second_file = _jsonl(tmp_path / "b.jsonl", [{"text": f"{name} died on Tuesday."} for name in NAMES[:3]])
    real = insight.update_posthumous

    def refused(*args, **kwargs):
        raise StoreError("database or disk is full")

    monkeypatch.setattr(insight, "update_posthumous", refused)
    failed = run([first_file, second_file], offline)
    assert failed.fatal and failed.counts["ok"] == 6
    with Store(offline.db) as store:
        assert death_register(store) == []
    monkeypatch.setattr(insight, "update_posthumous", real)
    again = run([first_file, second_file], offline)
    assert again.counts == {"ok": 0, "cached": 6, "failed": 0, "skipped": 0} and not again.fatal
    with Store(offline.db) as store:
        assert {entry.name for entry in death_register(store) if entry.confirmed} == set(NAMES[:3])
    third = run([first_file, second_file], offline)
    assert third.counts["cached"] == 6
    with Store(offline.db) as store:
        assert store.insight_pending(third.run_id) == [], "a completed pass is not redone"


def _settled(store: Store, record_id: str):
    [article] = [a for a in read_settled(store, offline_clock()) if a.result.article.record_id == record_id]
    return article


def offline_clock():
    return Settings(engine=Engine.offline).night_clock


@pytest.mark.cause(6, issue=23)
@pytest.mark.parametrize("same_feed", [True, False])
def test_redteam_one_feed_article_saying_a_death_moves_no_verdict_and_is_a_note(tmp_path, offline, same_feed):
    records = [
        {"id": "rip", "url": "https://gossip.example/rip", "text": RIP},
        {"id": "wire", "url": "https://wire.example/a", "text": WIRE},
    ]
    if same_feed:
        feeds = [_jsonl(tmp_path / "feed.jsonl", records)]
    else:  # two files, but the same domain twice is one source
        records.append({"id": "rip2", "url": "https://www.gossip.example/again", "text": "RIP Joe Biden, we will miss you."})
        feeds = [_jsonl(tmp_path / "feed.jsonl", records[:2]), _jsonl(tmp_path / "more.jsonl", records[2:])]
    result = run(feeds, offline)
    assert result.counts["ok"] == len(records)
    with Store(offline.db) as store:
        wire = _settled(store, "wire")
        [entry] = death_register(store)
        worklist = build_worklist(store, limit=0)
        out = io.StringIO()
        export_results(store, "jsonl", out)
    assert not entry.confirmed
    assert wire.label is not Label.likely_fabrication and "posthumous_attribution" not in [r.value for r in wire.reasons]
    assert wire.findings.posthumous == [] and [f.person for f in wire.findings.unconfirmed_deaths] == ["Joe Biden"]
    assert any("unconfirmed death: Joe Biden" in note for note in wire.findings.desk_notes)
    assert all("wire" != item.lead.article.record_id for item in worklist.items)
    [exported] = [
        json.loads(line) for line in out.getvalue().splitlines() if json.loads(line)["sources"][0]["record_id"] == "wire"
    ]
    assert exported["batch"]["unconfirmed_deaths"][0]["person"] == "Joe Biden" and exported["batch"]["posthumous"] == []
    shown = CliRunner().invoke(app, ["show", wire.article_id, "--db", str(offline.db)])
    assert "unconfirmed death: Joe Biden" in " ".join(shown.output.split())
    listed = CliRunner().invoke(app, ["deaths", "--db", str(offline.db)])
    assert "unconfirmed" in listed.output


@pytest.mark.cause(6, issue=23)
@pytest.mark.parametrize("confirmation", ["another_domain", "desk"])
def test_redteam_a_confirmed_death_moves_the_verdict(tmp_path, offline, confirmation):
    feed = _jsonl(
        tmp_path / "feed.jsonl", [{"id": "rip", "url": "https://gossip.example/rip", "text": RIP}, {"id": "wire", "text": WIRE}]
    )
    run([feed], offline)
    if confirmation == "another_domain":
        run([_jsonl(tmp_path / "news.jsonl", [{"id": "obit", "url": "https://news.example/obit", "text": OBITUARY}])], offline)
    else:
        added = CliRunner().invoke(app, ["deaths", "add", "Joe Biden", "--date", "2026-12-01", "--db", str(offline.db)])
        assert added.exit_code == 0, added.output
    with Store(offline.db) as store:
        wire = _settled(store, "wire")
        [entry] = death_register(store)
    assert entry.confirmed
    assert [f.person for f in wire.findings.posthumous] == ["Joe Biden"] and wire.findings.unconfirmed_deaths == []
    assert "posthumous_attribution" in [r.value for r in wire.reasons]
