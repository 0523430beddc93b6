"""Red team, cause 12: a key or base URL with whitespace never fails as "Connection error".

Whitespace a paste leaves around the key or URL is dropped with a warning and the run works;
whitespace or a control character inside, or a URL that is not http(s), is refused at once
with one line naming the setting (and never echoing the key).
"""

import pytest
from support.fakes import FakeServer, ServerConfig
from typer.testing import CliRunner

from pipeline.cli import app

pytestmark = pytest.mark.cause(12)

KEY = "sk-test-0123456789abcdef"


def _run(tmp_path, server, key: str, base_url: str):
    inputs = tmp_path / "in"
    inputs.mkdir(exist_ok=True)
    (inputs / "a.txt").write_text('The mayor said "the bridge opens in May" on Tuesday.\n', encoding="utf-8")
    return CliRunner().invoke(
        app,
        ["run", str(inputs), "--db", str(tmp_path / "p.db"), "--model", "gpt-4o-mini", "--max-retries", "0"],
        env={"OPENAI_API_KEY": key, "OPENAI_BASE_URL": base_url, "COLUMNS": "300"},
    )


@pytest.mark.parametrize(
    ("key_padding", "url_padding"),
    [
        ("\n", ""),
        ("  \r\n", ""),
        ("\t", " "),
        ("", "\n"),
        (" ", " \n "),
    ],
)
def test_redteam_keyspace_padding_is_stripped_with_a_warning_and_the_run_works(tmp_path, key_padding, url_padding):
    with FakeServer(ServerConfig(api_key=KEY)) as server:
        result = _run(tmp_path, server, KEY + key_padding, url_padding + server.base_url + url_padding)
    assert result.exit_code == 0, result.output
    assert "1 ok" in result.output
    assert "whitespace" in result.output and "ignored it" in result.output, "a warning says what was dropped"
    assert KEY not in result.output


@pytest.mark.parametrize(
    ("key", "url", "named"),
    [
        (KEY[:8] + " " + KEY[8:], None, "OPENAI_API_KEY"),
        (KEY[:8] + "\n" + KEY[8:], None, "OPENAI_API_KEY"),
        (KEY[:4] + "\x1b" + KEY[4:], None, "OPENAI_API_KEY"),
        (KEY, "127.0.0.1:9/v1", "OPENAI_BASE_URL"),
        (KEY, "http://127.0.0.1:9/ v1", "OPENAI_BASE_URL"),
    ],
)
def test_redteam_keyspace_whitespace_inside_is_refused_in_one_line(tmp_path, key, url, named):
    with FakeServer(ServerConfig(api_key=KEY)) as server:
        result = _run(tmp_path, server, key, url or server.base_url)
        asked = server.stats()["requests"]
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and named in lines[0], result.output
    assert "Traceback" not in result.output and KEY[8:] not in result.output
    assert not asked, "nothing was sent"
