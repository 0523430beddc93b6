"""Source lists: a trusted source lowers an article's place on the worklist; both standings shown."""

from __future__ import annotations

from support.memory_fixtures import store_article

from pipeline.html_report import collect_report, render_markdown
from pipeline.models import ClaimDraft, Label, Priority
from pipeline.source_lists import ListedSource, SourceStanding, add_sources, priority_steps, source_standings
from pipeline.store import Store
from pipeline.worklist import claims_worklist, fabrications_first


def _claim(event: str) -> ClaimDraft:
    return ClaimDraft(event=event, who="", when="", where="", attributed_to="", why=[], check_with="the council",
                      priority=Priority.high)


def test_only_a_trusted_source_lowers_priority():
    assert priority_steps(ListedSource("wire.example", SourceStanding.trusted)) == 1
    assert priority_steps(ListedSource("junk.example", SourceStanding.unreliable)) == 0
    assert priority_steps(None) == 0


def test_a_trusted_source_ranks_after_the_rest_and_both_standings_are_shown(tmp_path):
    with Store(tmp_path / "s.db") as store:
        # The trusted article is the more confident one: without its standing it would lead.
        store_article(store, "trusted", "A trusted story.", Label.likely_fabrication, url="https://news.wire.example/a",
                      claims=[_claim("The bridge closed")], title="Trusted story", confidence=0.95)
        store_article(store, "unreliable", "An unreliable story.", Label.likely_fabrication,
                      url="https://junk.example/b", claims=[_claim("The mayor resigned")], title="Unreliable story")
        store_article(store, "plain", "A plain story.", Label.likely_fabrication, url="https://plain.example/c",
                      claims=[_claim("The school burned")], title="Plain story")
        results = {result.article.article_id: result for result in store.iter_results()}
        add_sources(store, {SourceStanding.trusted: ["wire.example"], SourceStanding.unreliable: ["https://www.junk.example/"]})
        sources = source_standings(store, {key: result.article.url for key, result in results.items()})
        assert {key: source.standing.value for key, source in sources.items()} == {
            "trusted": "trusted", "unreliable": "unreliable"}
        ordered = [results["trusted"], results["unreliable"], results["plain"]]
        assert [r.article.article_id for r in fabrications_first(ordered)][0] == "trusted"
        assert [r.article.article_id for r in fabrications_first(ordered, sources)][-1] == "trusted"
        assert [item.result.article.article_id for item in claims_worklist(ordered, sources=sources)] == [
            "unreliable", "plain", "trusted"]
        report = collect_report(store, since="2000-01-01")
        summary = render_markdown(report)
    assert "The bridge closed → the council (source trusted: wire.example)" in summary
    assert "The mayor resigned → the council (source unreliable: junk.example)" in summary
    assert report.worklist[-1].result.article.article_id == "trusted"
