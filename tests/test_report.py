"""The morning report: escaping of untrusted articles, cards, badges, highlights, summary size."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from pipeline.html_report import collect_report, highlight_segments, render_html, render_markdown
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
    assert [tag for tag, _ in tags if tag in ("script", "img", "textarea", "iframe")] == []
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
    assert sorted(card["class"] for card in cards) == ["card likely_fabrication"] * 3 + ["card news"]
    assert page.count('class="badge label-likely_fabrication"') >= 3
    assert 'class="badge label-news"' in page


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
    assert page.count('class="work-item"') > 0
    assert re.search(r"<b>tpl-[0-9a-f]{12}</b> · 3 articles", page)


def test_the_markdown_summary_fits_a_chat_message(report):
    summary = render_markdown(report)
    assert len(summary) < 2000
    assert "3 likely fabrication" in summary and "Template clusters**: 1" in summary
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
