import json
from pathlib import Path

from fakes import FakeServer, ServerConfig
from typer.testing import CliRunner

from pipeline.cli import app


def test_a_large_run_names_each_bad_input_and_why(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for number in range(60):
        (inputs / f"a{number:02d}.txt").write_text(f"Article {number}: the council met on day {number}.\n")
    (inputs / "empty.txt").write_text("")
    (inputs / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    result = CliRunner().invoke(app, ["run", str(inputs), "--db", str(tmp_path / "p.db"), "--engine", "offline"],
                                env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert f"skipped: {inputs / 'empty.txt'}: empty file" in result.output
    assert f"skipped: {inputs / 'image.txt'}: binary file" in result.output
    assert "60 ok, 0 cached, 0 failed, 2 skipped" in result.output


def test_eval_runs_the_llm_engine_when_asked(tmp_path):
    dataset = Path(__file__).parent / "fixtures" / "labelled" / "articles.jsonl"
    with FakeServer(ServerConfig()) as server:
        result = CliRunner().invoke(app, ["eval", str(dataset), "--engine", "llm", "--base-url", server.base_url,
                                          "--model", "gpt-4o-mini", "--json"], env={"OPENAI_API_KEY": "test-key"})
        asked = server.stats()["requests"]["chat"]
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    records = sum(1 for line in dataset.read_text().splitlines() if line.strip())
    assert figures["task"] == "label" and figures["records"] == records
    assert asked == records, "one request per article, through the LLM path"
