"""Secrets (issue 6): the API key never reaches cassettes, the database, exports, reports or the
terminal, and cassettes are never recorded with a key that looks real."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.runs import run
from pipeline.settings import Engine, Settings

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = sorted(path for path in (ROOT / "tests" / "cassettes").rglob("*") if path.is_file())
SEEDS = ROOT / "seeds"
PIPELINE = Path(sys.executable).with_name("pipeline")

FAKE_KEY = "sk-proj-" + "Zq7T4mWn2Xr9Kp3Lc8Vb5Hd1Jf6Gs0Ya" * 2
"""Shaped like a real OpenAI project key, so every check that looks for one would see it."""
SENSITIVE_HEADERS = {
    "authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "openai-organization",
    "openai-project",
    "proxy-authorization",
}
KEY_LIKE = re.compile(r"\b(?:sk|sess|key)-[A-Za-z0-9_\-]{16,}|\bBearer\s+[A-Za-z0-9._~+/=\-]{8,}")


def _headers(interaction: dict) -> Iterator[str]:
    for side in ("request", "response"):
        yield from (name.lower() for name in (interaction.get(side) or {}).get("headers") or {})


@pytest.mark.parametrize("cassette", CASSETTES, ids=[str(path.relative_to(ROOT / "tests" / "cassettes")) for path in CASSETTES])
def test_cassettes_hold_no_credentials(cassette: Path) -> None:
    raw = cassette.read_text(encoding="utf-8")
    assert KEY_LIKE.findall(raw) == []
    interactions = (yaml.safe_load(raw) or {}).get("interactions") or []
    assert sorted({name for interaction in interactions for name in _headers(interaction)} & SENSITIVE_HEADERS) == []


class _KeyEchoingProvider(BaseHTTPRequestHandler):
    """Refuses every request as OpenAI does, repeating the key it was sent in the error message."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        key = (self.headers.get("authorization") or "").removeprefix("Bearer ")
        body = json.dumps(
            {
                "error": {
                    "message": f"Incorrect API key provided: {key}.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet: the test reads its own output."""


@pytest.fixture
def key_echoing_provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeyEchoingProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("provider", "exit_code"), [("unreachable", 1), ("key_echoing", 2)])
def test_the_key_reaches_no_output_database_export_or_report(
    tmp_path: Path, request: pytest.FixtureRequest, provider: str, exit_code: int
) -> None:
    base_url = "http://127.0.0.1:9/v1" if provider == "unreachable" else request.getfixturevalue("key_echoing_provider")
    db = tmp_path / "secrets.db"
    env = {**os.environ, "OPENAI_API_KEY": FAKE_KEY}
    run = subprocess.run(
        [
            str(PIPELINE),
            "run",
            str(SEEDS),
            "--base-url",
            base_url,
            "--model",
            "gpt-4o-mini",
            "--max-retries",
            "0",
            "--timeout",
            "2",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == exit_code, run.stderr
    outputs = {"run stdout": run.stdout, "run stderr": run.stderr}
    cli = CliRunner()
    for name, arguments in {
        "export jsonl": ["export", "--format", "jsonl"],
        "export csv": ["export", "--format", "csv"],
        "show": ["show", str(next(SEEDS.glob("*.txt")))],
        "runs": ["runs"],
        "report": ["report", "--html", str(tmp_path / "report.html"), "--md", str(tmp_path / "report.md")],
    }.items():
        result = cli.invoke(app, [*arguments, "--db", str(db)], env={"OPENAI_API_KEY": FAKE_KEY})
        outputs[name] = result.output + repr(result.exception or "")
    for path in [db, db.with_name(db.name + "-wal"), tmp_path / "report.html", tmp_path / "report.md"]:
        if path.exists():
            outputs[path.name] = path.read_bytes().decode("utf-8", "replace")

    assert "failed" in run.stderr or "run stopped" in run.stderr
    assert [name for name, text in outputs.items() if FAKE_KEY in text or FAKE_KEY[:20] in text] == []
    assert [name for name, text in outputs.items() if KEY_LIKE.search(text)] == []


def test_recording_cassettes_with_a_real_looking_key_is_refused() -> None:
    env = {name: value for name, value in os.environ.items() if name != "PIPELINE_ALLOW_REAL_KEY"}
    # A test that records nothing: were the refusal broken, no cassette could be overwritten.
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--record-mode=rewrite",
            "tests/test_prompts.py::test_an_unknown_version_is_a_config_error",
        ],
        capture_output=True,
        text=True,
        env={**env, "OPENAI_API_KEY": FAKE_KEY},
        cwd=ROOT,
        timeout=120,
    )
    assert refused.returncode == 2
    assert "OPENAI_API_KEY looks like a real key" in refused.stdout + refused.stderr


def test_the_key_reaches_no_log_record_even_with_logging_configured(tmp_path: Path, key_echoing_provider: str) -> None:
    # As an application would configure it; not pytest's caplog, which also attaches
    # itself to loggers that do not propagate.
    application_log = io.StringIO()
    handler = logging.StreamHandler(application_log)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        settings = Settings(
            engine=Engine.llm,
            base_url=key_echoing_provider,
            api_key=FAKE_KEY,
            model="gpt-4o-mini",
            db=tmp_path / "p.db",
            max_retries=0,
            timeout=2,
            min_file_age=0,
        ).validated()
        result = run([str(SEEDS)], settings)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert result.exit_code == 2 and "***" in result.fatal
    assert application_log.getvalue(), "logging was configured and the HTTP client logged"
    assert FAKE_KEY[:20] not in application_log.getvalue()
