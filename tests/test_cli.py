import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.fakes import FakeServer, ServerConfig
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import UsageError
from pipeline.store import parse_since

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
LABELLED = Path(__file__).parent / "fixtures" / "labelled" / "articles.jsonl"


def test_a_large_run_names_each_bad_input_and_why(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for number in range(60):
        (inputs / f"a{number:02d}.txt").write_text(f"Article {number}: the council met on day {number}.\n")
    (inputs / "empty.txt").write_text("")
    (inputs / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    result = CliRunner().invoke(
        app, ["run", str(inputs), "--db", str(tmp_path / "p.db"), "--engine", "offline"], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.output
    assert f"skipped: {inputs / 'empty.txt'}: empty file" in result.output
    assert f"skipped: {inputs / 'image.txt'}: binary file" in result.output
    assert "60 ok, 0 cached, 0 failed, 2 skipped" in result.output


def test_eval_runs_the_llm_engine_when_asked(tmp_path):
    dataset = Path(__file__).parent / "fixtures" / "labelled" / "articles.jsonl"
    with FakeServer(ServerConfig()) as server:
        result = CliRunner().invoke(
            app,
            ["eval", str(dataset), "--engine", "llm", "--base-url", server.base_url, "--model", "gpt-4o-mini", "--json"],
            env={"OPENAI_API_KEY": "test-key"},
        )
        asked = server.stats()["requests"]["chat"]
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    records = sum(1 for line in dataset.read_text().splitlines() if line.strip())
    assert figures["task"] == "label" and figures["records"] == records
    assert asked == records, "one request per article, through the LLM path"


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stores")
    (folder / "garbage.db").write_text("not a database\n")
    (folder / "folder.db").mkdir()
    (folder / "bad.jsonl").write_text("{not json\n")
    result = CliRunner().invoke(app, ["run", str(SEEDS), "--db", str(folder / "good.db"), "--engine", "offline"])
    assert result.exit_code == 0, result.output
    return folder


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["show", "x", "--db", "{folder}/garbage.db"], "store error: {folder}/garbage.db: cannot open the database"),
        (["export", "--db", "{folder}/folder.db"], "store error: {folder}/folder.db: a folder, not a database"),
        (["runs", "--db", "{folder}/garbage.db"], "store error:"),
        (["report", "--db", "{folder}/garbage.db"], "store error:"),
        (["batch", "status", "--db", "{folder}/garbage.db"], "store error:"),
        (["run", str(SEEDS), "--engine", "offline", "--db", "{folder}/folder.db"], "store error:"),
        (["export", "--format", "xml", "--db", "{folder}/good.db"], "usage error: unknown export format 'xml'"),
        (["export", "--run", "99", "--db", "{folder}/good.db"], "usage error: {folder}/good.db: no run 99"),
        (["report", "--run", "99", "--db", "{folder}/good.db"], "no run 99"),
        (["report", "--since", "yesterday", "--db", "{folder}/good.db"], "usage error: 'yesterday' is not a date"),
        (["report", "--since", "2026-12-01", "--run", "1", "--db", "{folder}/good.db"], "not both"),
        (["report", "--html", "{folder}/no/such/dir.html", "--db", "{folder}/good.db"], "output error:"),
        (["eval", "{folder}/bad.jsonl"], "input error: {folder}/bad.jsonl: line 1: not JSON"),
        (["eval", str(LABELLED), "--task", "sentiment"], "usage error: unknown task 'sentiment'"),
    ],
)
def test_a_bad_store_path_or_value_is_one_line_and_exit_2(stores, arguments, says):
    result = CliRunner().invoke(app, [argument.format(folder=stores) for argument in arguments], env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    assert says.format(folder=stores) in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 2, result.output


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2026-12-1", datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12-01T06:30", datetime(2026, 12, 1, 6, 30, tzinfo=UTC)),
        ("2026-12-01T06:30:00+01:00", datetime(2026, 12, 1, 5, 30, tzinfo=UTC)),
    ],
)
def test_parse_since_takes_a_date_or_an_iso_time(value, moment):
    assert parse_since(value) == moment


@pytest.mark.parametrize("value", ["", "yesterday", "2026-13-01", "12/01/2026", "2026-12-01 nonsense"])
def test_parse_since_refuses_anything_else_as_a_usage_error(value):
    with pytest.raises(UsageError):
        parse_since(value)
