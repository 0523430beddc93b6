"""Red team, cause 9: what export, show and report give is the result the latest run used.

Not the newest result by the clock: after a night on another engine the next run's cached
answers are what the desk sees, and a clock stepped back neither hides a run's results nor
gives a run a negative wall time.
"""

from __future__ import annotations

import asyncio
import io
import json

import pytest

from pipeline import store as store_module
from pipeline.views.export import export_results
from pipeline.models import ArticleVerdict, CacheIdentity, EngineAnswer, Usage
from pipeline.views.terminal import runs_table
from pipeline.runs import run_batch
from pipeline.settings import load_settings
from pipeline.store import Store

pytestmark = pytest.mark.cause(9)


class Engine:
    """An engine that labels every article ``label`` under its own cache identity."""

    def __init__(self, name: str, label: str):
        self.name = name
        self.label = label
        self.identity = CacheIdentity(
            engine=name, model=f"{name}-model", mode="test", prompt_version="p", prompt_hash="h", schema_hash="s", params={}
        )

    async def analyse(self, article, parse=None):
        verdict = ArticleVerdict(label=self.label, confidence=0.6, reasons=[], rationale=self.name, quotes=[], claims=[])
        return [EngineAnswer(verdict=verdict, raw_responses=[], usage=Usage(requests=1, input_tokens=1, output_tokens=1))]


def _night(store: Store, settings, inputs, engine: Engine) -> int:
    return asyncio.run(run_batch([str(inputs)], settings, store, engine=engine)).run_id


def _exported_engines(store: Store) -> set[str]:
    out = io.StringIO()
    export_results(store, "jsonl", out)
    return {json.loads(line)["engine"] for line in out.getvalue().splitlines()}


@pytest.fixture
def nightly(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for number in range(5):
        (inputs / f"a{number}.txt").write_text(f"Story {number}: the council met on Tuesday about bridge {number}.\n")
    settings = load_settings({"engine": "offline", "db": tmp_path / "p.db"})
    with Store(settings.db) as store:
        yield store, settings, inputs


def test_redteam_exportpick_a_night_on_the_fallback_engine_does_not_outlive_the_next_run(nightly):
    store, settings, inputs = nightly
    llm, fallback = Engine("llm", "news"), Engine("fallback", "likely_fabrication")
    _night(store, settings, inputs, llm)
    _night(store, settings, inputs, fallback)  # the key was missing one night
    assert _exported_engines(store) == {"fallback"}, "right after that night, its run is the latest"
    again = _night(store, settings, inputs, llm)  # every article cached under the LLM's key
    assert {outcome["status"] for outcome in store.outcomes(again)} == {"cached"}
    assert _exported_engines(store) == {"llm"}
    shown = store.find_results(str(inputs / "a3.txt"))
    assert [result.identity.engine for result in shown] == ["llm"]
    assert {result.analysis.label.value for result in store.iter_results()} == {"news"}


def test_redteam_exportpick_a_clock_stepped_back_hides_no_result_and_no_run_lasts_negative_time(nightly, monkeypatch):
    store, settings, inputs = nightly
    _night(store, settings, inputs, Engine("first", "news"))
    monkeypatch.setattr(store_module, "utc_now", lambda: "2001-01-01T00:00:00.000+00:00")  # NTP stepped back
    second = _night(store, settings, inputs, Engine("second", "tribute"))
    assert _exported_engines(store) == {"second"}
    run = store.run_summary(second)
    assert run["wall_seconds"] is not None and run["wall_seconds"] >= 0
    monkeypatch.setattr(store_module, "utc_now", lambda: "2030-01-01T00:00:00.000+00:00")
    store.db.execute(
        "UPDATE run SET wall_seconds = NULL, ended_at = '2000-01-01T00:00:00.000+00:00' WHERE run_id = ?", (second,)
    )  # a legacy row whose clock ran backwards
    table = runs_table(store.runs())
    walls = [cell for cell in table.columns[-2].cells]
    assert all(not str(cell).startswith("-") for cell in walls), walls
