"""The command line as a new user meets it: --version, help shown as written, flags without a
metavar, ``runs`` readable in 100 columns (and as JSON), a log line per phase after the articles."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.views.terminal import runs_table

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def _pipeline(*args: str, columns: int = 100) -> subprocess.CompletedProcess[str]:
    """The installed command in a child process, its output piped (as cron and `| less` see it)."""
    env = {**os.environ, "COLUMNS": str(columns), "PIPELINE_MIN_FILE_AGE": "0"}
    command = Path(sys.executable).parent / "pipeline"
    return subprocess.run([str(command), *args], capture_output=True, text=True, env=env, timeout=300)


def test_version_prints_the_installed_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"pipeline {version('pipeline')}"


def test_help_is_shown_as_written_and_flags_have_no_metavar():
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "pip install 'pipeline[ray]'" in result.stdout  # no markup ate "[ray]"
    assert "<bool>" not in result.stdout
    assert re.search(r"^\s+--refresh\s+Analyse again", result.stdout, re.MULTILINE)


def test_runs_fits_100_columns_with_whole_dates_when_piped(tmp_path):
    db = str(tmp_path / "p.db")
    assert _pipeline("run", str(SEEDS), "--db", db, "--engine", "offline").returncode == 0
    assert _pipeline("run", str(SEEDS), "--db", db, "--engine", "offline").returncode == 0
    result = _pipeline("runs", "--db", db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100, result.stdout
    started = re.findall(r"\b\d{4}-\d\d-\d\d \d\d:\d\d \S+", result.stdout)
    assert len(started) == 2, result.stdout  # both runs' start, whole, on one line each
    assert "3 ok" in result.stdout and "3 cached" in result.stdout


def test_a_long_ledger_line_still_fits_100_columns():
    run = {
        "run_id": 12345,
        "started_at": "2026-12-06T23:59:58.123+00:00",
        "ended_at": "2026-12-07T02:01:00.000+00:00",
        "status": "interrupted",
        "engine": "llm-batch",
        "model": "gpt-4o-mini-2024-07-18",
        "ok": 2412,
        "cached": 88,
        "failed": 12,
        "skipped": 7,
        "requests": 2600,
        "input_tokens": 12_345_678,
        "cached_input_tokens": 1_000_000,
        "output_tokens": 2_345_678,
        "wall_seconds": 7265.2,
        "rejected_quotes": {"not inside quotation marks": 31, "stitched from separate quotations": 4},
    }
    console = Console(width=100, record=True)
    console.print(runs_table([run]))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "2026-12-06 23:59 UTC" in text or "2026-12-07" in text  # the zone's, whole


def test_runs_json_lists_every_field_and_the_cost(tmp_path):
    db = str(tmp_path / "p.db")
    assert _pipeline("run", str(SEEDS), "--db", db, "--engine", "offline").returncode == 0
    result = _pipeline("runs", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    (run,) = json.loads(result.stdout)
    assert run["run_id"] == 1 and run["ok"] == 3 and run["estimated_cost_usd"] == 0.0
    assert run["started_at"].startswith("20") and run["status"] == "finished"


def test_each_phase_after_the_articles_logs_a_line_with_an_iso_stamp(tmp_path):
    result = _pipeline("run", str(SEEDS), "--db", str(tmp_path / "p.db"), "--engine", "offline", columns=200)
    assert result.returncode == 0, result.stderr
    for phase in ("clusters:", "register:", "matching:", "verdicts:"):
        (line,) = [line for line in result.stderr.splitlines() if phase in line]
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d ", line), line
