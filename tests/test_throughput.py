"""Throughput (issue 22): a run's batch insight reports its phases, the death register reads a
night's articles in blocks with the same findings as one at a time, and offline workers store
what one process stores."""

from __future__ import annotations

import asyncio
import io
import json

from rich.console import Console
from support.memory_fixtures import SEED_TEXTS

from pipeline.desk.people import death_statements, death_statements_of
from pipeline.runs import run_batch
from pipeline.settings import Engine, Settings
from pipeline.store import Store
from pipeline.views.progress import RunProgress


def test_the_death_register_reads_a_block_of_articles_as_it_reads_each_alone():
    texts = [*SEED_TEXTS, "No cue here at all.", *SEED_TEXTS]
    assert [found for _key, found in death_statements_of(enumerate(texts))] == [death_statements(t) for t in texts]
    assert [key for key, _found in death_statements_of(enumerate(texts))] == list(range(len(texts)))


def test_a_run_reports_each_insight_phase_from_start_to_end(tmp_path):
    articles = tmp_path / "night.jsonl"
    articles.write_text("".join(json.dumps({"id": str(n), "text": text}) + "\n" for n, text in enumerate(SEED_TEXTS)))
    settings = Settings(engine=Engine.offline, db=tmp_path / "p.db", min_file_age=0).validated()
    heard: list[tuple[str, int, int]] = []
    with Store(settings.db) as store:
        result = asyncio.run(run_batch([str(articles)], settings, store, on_phase=lambda *told: heard.append(told)))
    analysed = result.counts["ok"]
    assert analysed == len(SEED_TEXTS)
    phases = list(dict.fromkeys(name for name, _done, _total in heard))
    assert phases == ["clusters", "death register", "fact-check matching", "settled verdicts"]
    for name in phases[:3]:
        told = [(done, total) for phase, done, total in heard if phase == name]
        assert told[0] == (0, analysed) and told[-1] == (analysed, analysed)


def test_without_a_terminal_each_phase_logs_its_start_and_end():
    out = io.StringIO()
    progress = RunProgress(Console(file=out, force_terminal=False), every=10)
    with progress:
        progress.phase("clusters", 0, 3)
        progress.phase("clusters", 1, 3)
        progress.phase("clusters", 3, 3)
    assert out.getvalue().splitlines() == [
        "batch insight: clusters started (3 articles)",
        "batch insight: clusters done (3 articles)",
    ]


def test_offline_workers_store_what_one_process_stores(tmp_path):
    """--workers N analyses the offline engine's articles in N processes: the same results."""
    articles = tmp_path / "night.jsonl"
    articles.write_text("".join(json.dumps({"id": str(n), "text": text}) + "\n" for n, text in enumerate(SEED_TEXTS)))
    stored = []
    for workers in (1, 2):
        settings = Settings(engine=Engine.offline, db=tmp_path / f"w{workers}.db", min_file_age=0, workers=workers).validated()
        with Store(settings.db) as store:
            result = asyncio.run(run_batch([str(articles)], settings, store))
            assert result.counts["ok"] == len(SEED_TEXTS)
            rows = store.db.execute("SELECT cache_key, label, confidence, analysis FROM result ORDER BY cache_key")
            stored.append([tuple(row) for row in rows])
    assert stored[0] == stored[1]
