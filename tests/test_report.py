"""The morning report: escaping of untrusted articles, cards, badges, highlights, summary size."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest

from pipeline.views.morning_report import (
    FILTER_SCRIPT,
    collect_report,
    glossary,
    highlight_segments,
    render_html,
    render_markdown,
)
from pipeline.models import Label, ReasonCode
from pipeline.store import Store

from support.batch_fixtures import analysed_store


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return analysed_store(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def report(db):
    with Store(db) as store:
        return collect_report(store)


@pytest.fixture(scope="module")
def page(report):
    return render_html(report)


class Elements(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer would see them."""

    def __init__(self, page: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_hostile_markup_is_text_not_markup(page):
    tags = Elements(page).tags
    assert [tag for tag, _ in tags if tag in ("img", "textarea", "iframe")] == []
    # The one script is the report's own filter, and the page's policy allows it alone, by hash.
    assert [attrs for tag, attrs in tags if tag == "script"] == [{"id": "report-filter"}]
    assert page.count("<script") == 1 and f'<script id="report-filter">{FILTER_SCRIPT}</script>' in page
    digest = base64.b64encode(hashlib.sha256(FILTER_SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page
    assert not any(name.startswith("on") for _, attrs in tags for name in attrs)
    assert "<script>" not in page and "</textarea>" not in page  # "onerror=" survives only as text
    assert "&lt;script&gt;document.title=" in page
    assert "onerror=&#34;document.title" in page
    assert "&lt;b&gt;final&lt;/b&gt;" in page


def test_the_page_loads_nothing_from_outside(page):
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", page)
    assert "Content-Security-Policy" in page


def test_one_card_per_article_with_its_label_badge(page, report):
    cards = [attrs for tag, attrs in Elements(page).tags if tag == "article"]
    assert len(cards) == len(report.results) == 4
    assert sorted(card["class"] for card in cards) == sorted(f"card {r.analysis.label.value}" for r in report.results)
    # The seeds' name-swapped variant is a fabrication by the batch's template cluster, as in every view.
    assert page.count('class="badge label-likely_fabrication"') >= 2
    seeds = [r for r in report.results if not r.article.source_path.endswith("hostile.txt")]
    assert len(seeds) == 3 and all(r.analysis.label is Label.likely_fabrication for r in seeds)


def test_quotes_are_highlighted_at_their_stored_offsets(report):
    for result in report.results:
        segments = highlight_segments(result)
        assert "".join(segment.text for segment in segments) == result.article.text
        marked = [segment for segment in segments if segment.quote is not None]
        assert len({segment.quote for segment in marked}) == len(result.analysis.quotes)
        for segment in marked:
            quote = result.analysis.quotes[segment.quote]
            assert any(result.article.text[span.start : span.end] == segment.text for span in quote.spans)


def test_unnamed_and_posthumous_quotes_are_marked_visibly(page):
    assert re.search(r'<span class="kind kind-(?:role|crowd|anonymous)">', page)
    assert '<span class="flag">posthumous</span>' in page
    assert 'class="quote posthumous"' in page or 'class="quote unnamed posthumous"' in page


def test_the_worklist_comes_before_the_cards_and_clusters_are_shown(page):
    assert page.index('id="worklist"') < page.index('id="clusters"') < page.index('id="articles"')
    assert page.count('<div class="work-item ') > 0
    assert re.search(r"<b>tpl-[0-9a-f]{12}</b> · 3 articles", page)


def test_the_markdown_summary_fits_a_chat_message(report):
    summary = render_markdown(report)
    assert len(summary) < 2000
    assert "likely fabrication" in summary and "Template clusters**: 1" in summary
    assert "3 variants" in summary
    assert "Len Goodman" in summary
    assert "<script>" not in summary


def test_posthumous_acts_are_highlighted_in_the_text(page):
    assert re.search(r'<mark class="act posthumous"[^>]*>Len</mark>', page)


def test_since_selects_runs_by_start_and_an_empty_selection_still_renders(db):
    with Store(db) as store:
        assert len(collect_report(store, since="2000-01-01").results) == 4
        empty = collect_report(store, since="2999-01-01")
    assert empty.results == [] and empty.runs == []
    assert "No likely fabrications" in render_html(empty)
    assert render_markdown(empty).startswith("**Morning report, since 2999-01-01**: 0 articles")


def test_the_cli_writes_both_files(db, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    html, md = tmp_path / "report.html", tmp_path / "summary.md"
    result = CliRunner().invoke(app, ["report", "--html", str(html), "--md", str(md), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert md.read_text().startswith("**Morning report")


def test_the_worklist_is_one_item_for_the_template_with_its_variants(report):
    items = report.worklist.items
    assert report.worklist.total == len(items) == 2
    item = next(item for item in items if item.cluster_id)
    assert len(item.results) == 3 and item.cluster_id and item.new
    assert ReasonCode.template_language in item.evidence
    assert len(item.claims) == 3 and item.review_status == "not reviewed"
    assert not any("Len Goodman" in claim.check_with for claim in item.claims)
    assert all(reason for reason in item.reasons)


def test_every_card_has_a_title_source_and_collapsed_details(page, report):
    cards = re.findall(
        r'<article class="card [a-z_]+" id="a-[0-9a-f]{16}" data-r="[a-z_ ]*"><details><summary>(.*?)</summary>', page
    )
    assert len(cards) == len(report.results)
    assert all("<i>" in card for card in cards)
    assert "hostile.txt" in page


def test_the_glossary_defines_every_label_and_reason_once(page):
    for code, _definition in glossary():
        assert f"<dt>{code}</dt>" in page
    assert len(glossary()) == len(Label) + len(ReasonCode)


def test_the_readme_glossary_is_the_enums_definitions():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for code, definition in glossary():
        assert f"| `{code}` | {definition} |" in readme
