"""Red team, issue 23, causes 4, 14 and 16: malformed URLs, what the files keep, loose values.

4. A malformed article URL never crashes a view of the morning, and ``sources add`` refuses
   one in one line.
14. The Markdown summary and the HTML page drop escape sequences and bidirectional overrides,
   as the terminal does (one sanitiser), and the page isolates text from data (``dir="auto"``).
16. Values the commands take are checked: dates of death, conflicting review verdicts, unknown
   runs, negative limits, and the flag an error names.
"""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.desk.source_lists import normalise_domain
from pipeline.views.console import clean

MALFORMED = ["http://[x", "https://[::1", "http://[bad]host/", "http://exa mple.com:99999999/", "//[", "http://\u2100/"]
HOSTILE = ["\x1b[2J\x1b]0;owned\x07", "\u202etxt.exe", "\u2066isolated\u2069", "\x9b31m", "\u202aembedded\u202c"]


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def _one_line_exit_2(result, *named: str) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    for word in named:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture
def night(tmp_path):
    """A stored night whose articles carry malformed URLs and hostile titles, with a source listed."""
    feed = tmp_path / "feed.jsonl"
    records = [
        {
            "id": f"r{number}",
            "url": url,
            "title": f"Title {hostile} {number}",
            "text": f'The mayor said "the bridge {hostile} opens in May" on Tuesday, {number} officials confirmed. '
            "RIP Anna Berg, fans wrote. Anna Berg says she won.",
        }
        for number, (url, hostile) in enumerate(zip(MALFORMED, HOSTILE * 2, strict=False))
    ]
    feed.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    db = tmp_path / "p.db"
    ran = _invoke("run", str(feed), "--db", str(db), "--engine", "offline")
    assert ran.exit_code == 0, ran.output
    listed = _invoke("sources", "add", "--unreliable", "example.com", "--db", str(db))
    assert listed.exit_code == 0, listed.output
    return db


@pytest.mark.cause(4, issue=23)
@pytest.mark.parametrize("url", MALFORMED)
def test_redteam_a_malformed_url_is_no_domain(url):
    assert normalise_domain(url) is None


@pytest.mark.cause(4, issue=23)
@pytest.mark.parametrize(
    "command",
    [
        ["worklist"],
        ["worklist", "--json"],
        ["export"],
        ["export", "--format", "csv"],
        ["export", "--format", "claimreview"],
        ["report"],
    ],
)
def test_redteam_every_view_reads_a_night_with_malformed_urls(night, command):
    result = _invoke(*command, "--db", str(night))
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output


@pytest.mark.cause(4, issue=23)
def test_redteam_the_end_of_a_run_reads_malformed_urls_once_a_source_is_listed(night, tmp_path):
    again = tmp_path / "again.jsonl"
    again.write_text(
        json.dumps({"url": "http://[y", "text": "A new story about the harbour, the mayor said."}) + "\n", encoding="utf-8"
    )
    result = _invoke("run", str(again), "--db", str(night), "--engine", "offline")
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output


@pytest.mark.cause(4, issue=23)
@pytest.mark.parametrize("value", MALFORMED)
@pytest.mark.parametrize("option", ["--trusted", "--unreliable"])
def test_redteam_sources_add_refuses_a_malformed_value_in_one_line(tmp_path, value, option):
    _one_line_exit_2(_invoke("sources", "add", option, value, "--db", str(tmp_path / "p.db")), "not a domain")


# --- cause 14: what the files keep ---------------------------------------------------------------


@pytest.mark.cause(14, issue=23)
def test_redteam_the_markdown_and_the_page_keep_no_escape_or_bidi_override(night, tmp_path):
    page, summary = tmp_path / "r.html", tmp_path / "r.md"
    result = _invoke("report", "--db", str(night), "--html", str(page), "--md", str(summary), "--limit", "0")
    assert result.exit_code == 0, result.output
    for path in (page, summary):
        text = path.read_text(encoding="utf-8")
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, path
        assert not re.search("[\u202a-\u202e\u2066-\u2069]", text), path
    html = page.read_text(encoding="utf-8")
    assert "txt.exe" in html and "owned" in html, "the visible text stays, only the controls go"
    assert html.count('dir="auto"') >= 3 and "<bdi>" in html
    assert "Title" in summary.read_text(encoding="utf-8") or "bridge" in summary.read_text(encoding="utf-8")


@pytest.mark.cause(14, issue=23)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_redteam_one_sanitiser_strips_what_the_terminal_strips(hostile):
    from pipeline.views.morning_report import _md, _printable

    assert _md(hostile) == _md(clean(hostile))
    assert _printable(hostile) == clean(hostile)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", _md(hostile))


# --- cause 16: loose values ----------------------------------------------------------------------


@pytest.mark.cause(16, issue=23)
@pytest.mark.parametrize("date", ["not-a-date", "2023-02-30", "22/04/2023", "2023-4-1", "", "tomorrow"])
def test_redteam_deaths_add_refuses_a_date_that_is_not_one(tmp_path, date):
    _one_line_exit_2(_invoke("deaths", "add", "Anna Berg", "--date", date, "--db", str(tmp_path / "p.db")), "--date")


@pytest.mark.cause(16, issue=23)
@pytest.mark.parametrize("date", ["2023-04-22", "2023-04", "2023"])
def test_redteam_deaths_add_takes_a_date(tmp_path, date):
    result = _invoke("deaths", "add", "Anna Berg", "--date", date, "--db", str(tmp_path / "p.db"), "--json")
    assert result.exit_code == 0 and json.loads(result.output)["date"] == date


@pytest.mark.cause(16, issue=23)
def test_redteam_conflicting_verdicts_for_one_article_in_a_review_csv_name_the_rows(night, tmp_path):
    exported = _invoke("export", "--db", str(night))
    article_id = json.loads(exported.stdout.splitlines()[0])["article_id"]
    csv = tmp_path / "reviews.csv"
    csv.write_text(
        f"article_id,verdict\n{article_id},accurate\n{article_id},accurate\n{article_id},confirmed_fabrication\n",
        encoding="utf-8",
    )
    before = _invoke("export", "--db", str(night)).stdout
    line = _one_line_exit_2(_invoke("review", "import", str(csv), "--db", str(night)), str(csv), "rows 2, 3, 4")
    assert "accurate" in line and "confirmed_fabrication" in line
    assert _invoke("export", "--db", str(night)).stdout == before, "nothing was written"


@pytest.mark.cause(16, issue=23)
@pytest.mark.parametrize("command", [["worklist"], ["report"], ["export"]])
@pytest.mark.parametrize("run_id", ["999", "0", "-1"])
def test_redteam_an_unknown_run_exits_2_in_every_reader(night, command, run_id):
    _one_line_exit_2(_invoke(*command, "--run", run_id, "--db", str(night)), run_id)


@pytest.mark.cause(16, issue=23)
@pytest.mark.parametrize("command", [["worklist"], ["report"]])
@pytest.mark.parametrize("limit", ["-1", "-2", "-800"])
def test_redteam_a_negative_limit_is_refused_alike(night, command, limit):
    _one_line_exit_2(_invoke(*command, "--limit", limit, "--db", str(night)), "--limit", limit)


@pytest.mark.cause(16, issue=23)
def test_redteam_limit_0_means_all_in_report_and_worklist(night, tmp_path):
    listed = json.loads(_invoke("worklist", "--json", "--limit", "0", "--db", str(night)).output)
    summary = tmp_path / "r.md"
    reported = _invoke("report", "--limit", "0", "--md", str(summary), "--db", str(night))
    assert reported.exit_code == 0
    assert listed["more"] == 0 and len(listed["items"]) == listed["total"]


@pytest.mark.cause(16, issue=23)
@pytest.mark.parametrize("value", ["2", "0", "-0.5"])
def test_redteam_an_invalid_prior_names_the_flag_that_exists(tmp_path, value):
    dataset = tmp_path / "d.jsonl"
    dataset.write_text(json.dumps({"text": "The mayor said so.", "label": "news"}) + "\n", encoding="utf-8")
    line = _one_line_exit_2(_invoke("eval", str(dataset), "--engine", "offline", "--prior", value), "--prior")
    assert "--fabrication-prior" not in line
