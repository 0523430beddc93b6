"""The report in a real browser: headless Chromium renders the seeds plus a hostile article.

CI installs Chromium with ``apt-get install -y chromium``; the screenshot is saved under
``$PIPELINE_ARTIFACTS`` (default: the test's tmp dir) for the run's artefacts.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pipeline.views.morning_report import write_report
from pipeline.store import Store

from support.batch_fixtures import analysed_store
from support.browser import CHROMIUM, chromium

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    directory = tmp_path_factory.mktemp("browser")
    with Store(analysed_store(directory)) as store:
        write_report(store, html_path=directory / "report.html")
    artefacts = Path(os.environ.get("PIPELINE_ARTIFACTS") or directory)
    artefacts.mkdir(parents=True, exist_ok=True)
    screenshot = artefacts / "report.png"
    url = (directory / "report.html").as_uri()
    dom = chromium(directory / "profile", "--dump-dom", url)
    chromium(directory / "profile", f"--screenshot={screenshot}", url)
    return dom, screenshot


def test_no_script_from_the_hostile_article_ran(rendered):
    dom, _ = rendered
    assert re.search(r"<title>Morning report · night of \d{4}-\d{2}-\d{2}</title>", dom)
    assert "PWNED" not in re.search(r"<title>.*?</title>", dom).group()
    assert 'id="pwned"' not in dom and "<div id=pwned" not in dom
    # The report's own filter is the one script (its hash is the page's only script-src).
    assert dom.lower().count("<script") == 1 and '<script id="report-filter">' in dom
    assert '<form id="filter">' in dom  # the filter script ran and showed its form


def test_cards_badges_and_highlighted_quotes_are_in_the_rendered_dom(rendered):
    dom, _ = rendered
    assert dom.count('<article class="card') == 4
    assert dom.count('class="badge label-likely_fabrication"') >= 3
    assert len(re.findall(r'<mark class="quote[^"]*" data-quote="\d+"', dom)) >= 40
    assert 'id="worklist"' in dom and 'class="cluster"' in dom


def test_a_screenshot_is_kept(rendered):
    _, screenshot = rendered
    assert screenshot.stat().st_size > 10_000
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
