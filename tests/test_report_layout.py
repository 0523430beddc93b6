"""The report as a desk reads it: real links (only http(s), escaped), the filter at the top over
the worklist too, times in the desk's zone with the run's cost, and no sideways scroll at 390 px
(headless Chromium, as tests/test_browser.py drives it). Screenshots at 390 and 1280 px are kept
under ``$PIPELINE_ARTIFACTS`` (default: the test's tmp dir)."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.desk.factchecks import import_factchecks
from pipeline.runs import run
from pipeline.settings import NightClock, load_settings
from pipeline.store import Store
from pipeline.views.morning_report import render_html, collect_report, web_link

from support.browser import CHROMIUM, chromium
from support.memory_fixtures import CLAIM_REVIEW

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
LONG_URL = "https://news.example.com/" + "averylongslugwithnobreak" * 12 + "?utm_source=x&utm_medium=y"
CHECK_URL = "https://checks.example.org/" + "houghgoodmanvideo" * 10
PARIS = NightClock(time(18, 0), ZoneInfo("Europe/Paris"))


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    """The seeds' report: one seed at a long URL, one whose "URL" is a script, one a plain file,
    and a known fact-check (at a long URL) that matches them."""
    directory = tmp_path_factory.mktemp("layout")
    seeds = sorted(SEEDS.glob("*.txt"))
    inputs = directory / "inputs"
    inputs.mkdir()
    records = [
        {"id": "long-url", "url": LONG_URL, "title": "A Dance from Heaven", "text": seeds[0].read_text(encoding="utf-8")},
        {"id": "script-url", "url": "javascript:alert(1)", "text": seeds[1].read_text(encoding="utf-8")},
    ]
    (inputs / "feed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    shutil.copy(seeds[2], inputs / seeds[2].name)
    review = directory / "review.json"
    review.write_text(json.dumps({**CLAIM_REVIEW, "url": CHECK_URL}), encoding="utf-8")
    db = directory / "report.db"
    with Store(db) as store:
        import_factchecks(store, [review])
    run([str(inputs)], load_settings({"engine": "offline", "db": db, "fabrication_prior": 0.5}))
    page = directory / "report.html"
    with Store(db) as store:
        page.write_text(render_html(collect_report(store, clock=PARIS)), encoding="utf-8")
    return page


def test_only_web_addresses_become_links():
    assert web_link("https://example.org/a") == "https://example.org/a"
    assert web_link("HTTP://example.org") == "HTTP://example.org"
    for refused in ("javascript:alert(1)", "data:text/html,x", "/home/desk/inbox/a.txt", "file:///etc/passwd", "https://", None):
        assert web_link(refused) is None


def test_article_fact_check_and_variant_links_are_real_and_escaped(report_html):
    page = report_html.read_text(encoding="utf-8")
    escaped = LONG_URL.replace("&", "&amp;")
    assert f'<a href="{escaped}" rel="noopener noreferrer">' in page
    assert f'<a href="{CHECK_URL}" rel="noopener noreferrer">already fact-checked' in page
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page  # shown, as text only
    assert re.search(r'<a href="#a-[0-9a-f]{16}">', page)


def test_the_filter_sits_at_the_top_and_covers_the_worklist(report_html):
    page = report_html.read_text(encoding="utf-8")
    assert page.index('<form id="filter"') < page.index('<section id="worklist">')
    assert re.search(r'<div class="work-item likely_fabrication" data-r="[a-z_ ]+">', page)


def test_times_are_in_the_desk_s_zone_with_the_run_s_cost(report_html):
    page = report_html.read_text(encoding="utf-8")
    assert re.search(r'<time datetime="20[\d\-T:.+]+">20\d\d-\d\d-\d\d \d\d:\d\d CET</time>', page)
    assert "est. cost of this run" in page


# Headless Chromium's window is at least 500 px wide: the page is shown in a frame of the width
# measured. For measuring only, a copy of the page without its CSP runs this probe, which opens
# every card, reads the page's width, filters on "news", and posts what it found to the frame's
# parent, whose DOM --dump-dom prints.
_FRAME = (
    "<!DOCTYPE html><html><body style='margin:0'><iframe src='{src}' width='{width}' height='2400' "
    "style='border:0;display:block'></iframe><script>window.addEventListener('message',function(e)"
    "{{document.body.setAttribute('data-probe',e.data);}});</script></body></html>"
)
_PROBE = (
    "<script>document.querySelectorAll('details').forEach(function(d){d.open=true;});"
    "var w=document.documentElement.scrollWidth;var f=document.getElementById('filter');"
    "f.elements.label.value='news';f.dispatchEvent(new Event('input'));"
    "var items=document.querySelectorAll('#worklist .work-item'),hidden=0;"
    "for(var i=0;i<items.length;i++){hidden+=items[i].hidden?1:0;}"
    "parent.postMessage(JSON.stringify({width:w,viewport:window.innerWidth,items:items.length,hidden:hidden}),'*');</script>"
)


def _measured(page: Path, width: int, directory: Path) -> dict:
    probe = directory / f"probe-{width}.html"
    html = page.read_text(encoding="utf-8")
    html = re.sub(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "", html).replace("</body>", _PROBE + "</body>")
    probe.write_text(html, encoding="utf-8")
    frame = directory / f"frame-{width}.html"
    frame.write_text(_FRAME.format(src=probe.name, width=width), encoding="utf-8")
    dom = chromium(
        directory / f"profile-{width}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        frame.as_uri(),
        window=f"{max(width, 500)},2400",
    )
    found = re.search(r'data-probe="([^"]+)"', dom)
    assert found, "the probe did not run"
    return json.loads(found.group(1).replace("&quot;", '"'))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
@pytest.mark.parametrize("width", [390, 1280])
def test_no_horizontal_scroll_and_the_filter_hides_worklist_items(report_html, width, tmp_path):
    measured = _measured(report_html, width, tmp_path)
    assert measured["viewport"] == width and measured["width"] <= width, measured
    assert measured["items"] >= 1 and measured["hidden"] == measured["items"]  # no news item on the worklist
    artefacts = Path(os.environ.get("PIPELINE_ARTIFACTS") or tmp_path)
    artefacts.mkdir(parents=True, exist_ok=True)
    shot = artefacts / f"report-{width}.png"
    frame = tmp_path / f"shown-{width}.html"
    frame.write_text(_FRAME.format(src=report_html.as_uri(), width=width), encoding="utf-8")
    chromium(tmp_path / f"shot-{width}", f"--screenshot={shot}", frame.as_uri(), window=f"{max(width, 500)},2400")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
