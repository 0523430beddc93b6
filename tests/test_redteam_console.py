"""Red team, cause 5: data reaching the terminal is never markup and never a control sequence.

Hostile strings sit in every field that reaches the console: file names, record ids, titles,
quotes, the model name a provider error echoes. Each command must print them as the literal
text (escape sequences and control characters removed), exit as it would on clean data, and
never crash on rich markup.
"""

import io
import json
import re

import pytest
from support.fakes import FakeServer, ServerConfig
from rich.table import Table
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.views.console import SafeConsole, clean, styled

pytestmark = pytest.mark.cause(5)

MARKUP = ["[/INST]", "[bold]rec-7[/bold]", "[link=http://evil.test]x[/link]", "[/]", ":pile_of_poo:"]
ESCAPES = ["\x1b]0;PWNED\x07", "\x1b]8;;http://evil.test\x1b\\", "\x1b[2J\x1b[H", "\x1bc", "\x9b31m", "\r\x00\x08\x7f"]
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _assert_safe(output: str) -> None:
    plain = _SGR.sub("", output)  # rich's own styling is the only escape sequence allowed
    assert not _CONTROL.search(plain), repr(plain[max(0, _CONTROL.search(plain).start() - 40) :][:80])


def _hostile_inputs(folder):
    folder.mkdir()
    records = []
    for number, (markup, escape) in enumerate(zip(MARKUP, ESCAPES, strict=False)):
        records.append(
            {
                "id": f"{markup}{escape}id-{number}",
                "title": f"Title {markup} {escape} {number}",
                "text": f'The mayor said "we will open {markup} bridge {number} {escape} soon" on Tuesday. '
                f"Officials confirmed the date {number}.",
            }
        )
    (folder / "records.jsonl").write_text("\n".join(json.dumps(record) for record in records) + "\n", encoding="utf-8")
    (folder / "[red]named[link=x].txt").write_text("", encoding="utf-8")  # skipped: its name is in the reason
    (folder / "bell\x07[b].txt").write_text("", encoding="utf-8")
    return folder


def test_redteam_markup_run_summary_show_runs_and_report_print_data_literally(tmp_path):
    inputs = _hostile_inputs(tmp_path / "in")
    db = str(tmp_path / "p.db")
    runner = CliRunner()
    run = runner.invoke(app, ["run", str(inputs), "--db", db, "--engine", "offline"], env={"COLUMNS": "400"})
    assert run.exit_code == 0, run.output
    _assert_safe(run.output)
    assert "[red]named[link=x].txt" in run.output and "bell[b].txt" in run.output
    assert "[bold]rec-7[/bold]" in run.output, "a record id that looks like markup is shown, not swallowed"

    for ref in ("[/INST]", "[bold]rec-7[/bold]\x1b]0;PWNED\x07"):
        missing = runner.invoke(app, ["show", ref, "--db", db])
        assert missing.exit_code == 1 and "no stored analysis matches" in missing.output, missing.output
        _assert_safe(missing.output)

    # A file of five records names five articles: the candidates are listed, literally, exit 2.
    listed = runner.invoke(app, ["show", str(inputs / "records.jsonl"), "--db", db], env={"COLUMNS": "400"})
    assert listed.exit_code == 2 and "matches 5 articles" in listed.output, listed.output
    _assert_safe(listed.output)
    for markup in MARKUP:
        assert markup in listed.output
    for article_id in re.findall(r"\b([0-9a-f]{12}) \(records\.jsonl#", listed.output):
        shown = runner.invoke(app, ["show", article_id, "--db", db], env={"COLUMNS": "400"})
        assert shown.exit_code == 0, shown.output
        _assert_safe(shown.output)
        as_json = runner.invoke(app, ["show", article_id, "--db", db, "--json"])
        assert as_json.exit_code == 0 and json.loads(as_json.stdout)["article_id"].startswith(article_id)

    for command in (["runs"], ["report"], ["export", "--format", "csv"]):
        result = runner.invoke(app, [*command, "--db", db], env={"COLUMNS": "400"})
        assert result.exit_code == 0, (command, result.output)
        _assert_safe(result.stderr)
    report = runner.invoke(app, ["report", "--db", db])
    assert report.exit_code == 0 and "Morning report" in report.stdout
    _assert_safe(report.stdout)


def test_redteam_markup_a_provider_error_echoing_hostile_text_is_printed_literally(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text('The mayor said "the bridge opens in May" on Tuesday.\n', encoding="utf-8")
    # Markup only: a control character in a setting is refused before any request (settings tests).
    model = "gpt-4o-mini[/INST][bold]x"
    with FakeServer(ServerConfig(model="only-this-model")) as server:
        result = CliRunner().invoke(
            app,
            [
                "run",
                str(inputs),
                "--db",
                str(tmp_path / "p.db"),
                "--engine",
                "llm",
                "--base-url",
                server.base_url,
                "--model",
                model,
            ],
            env={"OPENAI_API_KEY": "test-key", "COLUMNS": "400"},
        )
    assert result.exit_code == 2, result.output
    assert "does not know this model" in result.output and "gpt-4o-mini[/INST]" in result.output
    _assert_safe(result.output)


@pytest.mark.parametrize("escape", ESCAPES + ["\x1b[31;1mred", "\x1bP1$r\x1b\\", "\u202eevil\u202c", "\x1b"])
def test_redteam_markup_no_renderable_carries_an_escape_sequence_to_a_terminal(escape):
    out = io.StringIO()
    console = SafeConsole(file=out, force_terminal=True, width=100)
    table = Table(title="t")
    table.add_column("cell")
    table.add_row(f"a{escape}b [/INST]")
    console.print(table)
    console.print(styled("error:", "red", f"x{escape}y [bold]z"))
    console.print(f"plain {escape} [/]")
    printed = out.getvalue()
    _assert_safe(printed)
    assert "\u202e" not in printed
    assert "[/INST]" in printed and "[bold]z" in printed and "[/]" in printed
    assert clean(f"keep\ttabs\nand lines{escape}").startswith("keep\ttabs\nand lines")
