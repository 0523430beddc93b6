"""The audit sample: drawn once per run from the articles the ranker did not flag, kept so every
door shows the same, with its inclusion probability; a review of an audited article is an
audit verdict."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.desk.audits import audit_draw, audit_draws, audit_verdicts
from pipeline.settings import NightClock
from pipeline.store import Store
from pipeline.views.worklist import build_worklist


def cli(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def audited(worklist) -> list[str]:
    return [item.lead.article.article_id for item in worklist.audits]


def test_the_draw_is_kept_and_every_door_shows_it(desk_db):
    items = json.loads(cli("worklist", "--json", "--limit", "0", "--db", str(desk_db)))["items"]
    audits = [item for item in items if item["audit"]]
    flagged = {variant["article_id"] for item in items if not item["audit"] for variant in item["variants"]}
    with Store(desk_db) as store:
        kept = audit_draws(store)
        every = {row[0] for row in store.db.execute("SELECT article_id FROM verdicts")}
    unflagged = every - flagged
    assert len(audits) == 5 and len(kept) == 5 and len(unflagged) > 5
    assert {draw.article_id for draw in kept} <= unflagged
    assert [item["variants"][0]["article_id"] for item in audits] == [draw.article_id for draw in kept]
    assert {(draw.population, draw.propensity) for draw in kept} == {(len(unflagged), 5 / len(unflagged))}
    assert all(item["audit_draw"]["propensity"] == 5 / len(unflagged) for item in audits)
    again = json.loads(cli("worklist", "--json", "--db", str(desk_db), env={"PIPELINE_AUDIT_SAMPLE": "2"}))["items"]
    assert [item for item in again if item["audit"]] == audits  # kept: a later setting changes no drawn night
    text = cli("worklist", "--db", str(desk_db))
    assert text.count("[audit]") == 5 and "audit sample: 5 articles the ranker did not flag" in text
    summary = cli("report", "--db", str(desk_db))
    assert "**Audit sample** (5 the ranker did not flag" in summary and summary.count("(audit · ") == 5
    html = desk_db.parent / "report.html"
    cli("report", "--db", str(desk_db), "--html", str(html))
    assert html.read_text(encoding="utf-8").count('<span class="reason audit">audit</span>') == 5


def test_a_read_only_door_computes_the_draw_a_writer_keeps(desk_db):
    with Store(desk_db, read_only=True) as store:
        first = audited(build_worklist(store, clock=NightClock(), audit_sample=3))
        assert len(first) == 3 and audit_draws(store) == []
    with Store(desk_db) as store:
        assert audited(build_worklist(store, clock=NightClock(), audit_sample=3)) == first
        assert [draw.article_id for draw in audit_draws(store)] == first


def test_no_sample_draws_nothing(desk_db):
    with Store(desk_db) as store:
        worklist = build_worklist(store, clock=NightClock(), audit_sample=0)
        assert worklist.audits == [] and audit_draws(store) == []
        assert all('"audit": false' in json.dumps(item.to_record()) for item in worklist.items)


def test_a_review_of_an_audited_article_is_an_audit_verdict(desk_db):
    with Store(desk_db) as store:
        worklist = build_worklist(store, clock=NightClock(), audit_sample=5)
    drawn, ranked = audited(worklist)[0], worklist.items[0].lead.article.article_id
    cli("review", drawn[:16], "--verdict", "accurate", "--note", "checked, true", "--db", str(desk_db))
    cli("review", ranked, "--verdict", "false_positive", "--db", str(desk_db))
    with Store(desk_db) as store:
        found = audit_verdicts(store)
        sql = store.db.execute("SELECT article_id, verdict, propensity FROM audit_verdicts").fetchall()
        after = build_worklist(store, clock=NightClock(), audit_sample=5)
    assert [(v.article_id, v.verdict, v.note, v.propensity) for v in found] == [
        (drawn, "accurate", "checked, true", 5 / found[0].population)
    ]
    assert [tuple(row) for row in sql] == [(drawn, "accurate", found[0].propensity)]
    assert drawn not in audited(after) and len(after.audits) == 4  # reviewed: off the worklist, as any item


def test_an_audit_verdict_reads_the_latest_draw_before_the_review(desk_db):
    clock = NightClock()
    with Store(desk_db) as store:
        worklist = build_worklist(store, clock=clock, audit_sample=5)
        drawn, first = audited(worklist), audit_draws(store)[0]
    cli("review", drawn[1], "--verdict", "accurate", "--db", str(desk_db))  # before the second draw below
    with Store(desk_db) as store:
        later_run = store.start_run("offline", "offline")
        store.finish_run(later_run, "finished")
        (again,) = audit_draw(store, later_run, [drawn[0]], 1, clock)  # drawn again, the only one of its run
    assert (again.population, again.propensity) == (1, 1.0)
    cli("review", drawn[0], "--verdict", "accurate", "--db", str(desk_db))
    with Store(desk_db) as store:
        found = [(v.article_id, v.run_id, v.propensity) for v in audit_verdicts(store)]
    # drawn[1]'s review reads its only draw; drawn[0]'s the later one, not the first run's
    assert found == [(drawn[1], first.run_id, first.propensity), (drawn[0], later_run, 1.0)]
    assert first.propensity == 5 / first.population
