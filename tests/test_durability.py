"""Durability (issue 6): SIGKILL a real `pipeline run` mid-write and nothing is half-written or lost;
readers work while a run writes. The 20-kill version is scripts/sigkill_runs.py."""

from __future__ import annotations

import io
import random
from pathlib import Path

from pipeline.views.export import export_results
from pipeline.store import Store

from support.crashes import final_check, kill_rounds, start_run, write_articles

ARTICLES = 200


def test_sigkilled_runs_leave_an_intact_database_and_a_rerun_completes_the_rest(tmp_path: Path) -> None:
    folder, db = tmp_path / "articles", tmp_path / "kills.db"
    paths = write_articles(folder, ARTICLES)

    rounds = kill_rounds(folder, db, kills=3, rng=random.Random(6), max_delay_s=0.3)

    assert [kill.integrity for kill in rounds] == ["ok"] * 3
    assert [kill.ok_without_result for kill in rounds] == [0] * 3
    assert all(kill.results_after >= kill.results_before for kill in rounds)
    final = final_check(folder, db)
    assert final.exit_code == 0 and final.integrity == "ok"
    assert final.outcomes_per_file == {str(path): 1 for path in paths}
    assert final.cached == rounds[-1].results_after and final.analysed == ARTICLES - final.cached
    assert final.result_rows == final.distinct_articles == ARTICLES


def test_exports_read_consistent_results_while_a_run_writes(tmp_path: Path) -> None:
    folder, db = tmp_path / "articles", tmp_path / "live.db"
    write_articles(folder, ARTICLES)
    Store(db).close()
    seen_while_running: list[int] = []

    process = start_run(folder, db)
    with Store(db) as reader:
        while process.poll() is None:
            exported = io.StringIO()
            written = export_results(reader, "jsonl", exported)
            assert written == len(exported.getvalue().splitlines())
            seen_while_running.append(written)
        assert process.wait() == 0
        assert export_results(reader, "jsonl", io.StringIO()) == ARTICLES

    assert seen_while_running == sorted(seen_while_running)
    assert any(0 < count < ARTICLES for count in seen_while_running), seen_while_running
