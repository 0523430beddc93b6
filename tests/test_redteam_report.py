"""Red team, cause 17: ``report`` on an unknown run, an unwritable path or a date that is not one.

Each is one line naming what is wrong and exit 2: no traceback, no silently empty report,
and no report file written in part.
"""

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

pytestmark = pytest.mark.cause(17)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report-edges")
    (folder / "a.txt").write_text('The mayor said "the bridge opens in May" on Tuesday.\n', encoding="utf-8")
    path = folder / "p.db"
    result = CliRunner().invoke(app, ["run", str(folder / "a.txt"), "--db", str(path), "--engine", "offline"])
    assert result.exit_code == 0, result.output
    return path


def _one_line_exit_2(result, *named: str) -> None:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output and "Error:" not in lines[0].split(":")[0]
    for word in named:
        assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize("run_id", ["4242", "0", "-3"])
def test_redteam_report_an_unknown_run_is_one_line(db, run_id):
    _one_line_exit_2(CliRunner().invoke(app, ["report", "--db", str(db), "--run", run_id]), run_id)


@pytest.mark.parametrize("since", ["yesterday", "2026-02-30", "31/12/2026", "", "2026-12-01T25:00", "nan"])
def test_redteam_report_a_since_that_is_not_a_date_is_one_line(db, since):
    _one_line_exit_2(CliRunner().invoke(app, ["report", "--db", str(db), "--since", since]), repr(since))


@pytest.mark.parametrize("where", ["missing/deeper/report.html", "is-a-folder"])
@pytest.mark.parametrize("option", ["--html", "--md"])
def test_redteam_report_an_output_path_it_cannot_write_is_one_line(db, tmp_path, where, option):
    (tmp_path / "is-a-folder").mkdir()
    target = tmp_path / where
    other = tmp_path / ("summary.md" if option == "--html" else "page.html")
    other_option = "--md" if option == "--html" else "--html"
    result = CliRunner().invoke(app, ["report", "--db", str(db), option, str(target), other_option, str(other)])
    _one_line_exit_2(result, str(target))
    assert not (tmp_path / "missing").exists(), "no folder is made on the way"
