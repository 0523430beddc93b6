"""Source lists: a trusted source lowers an article's place on the worklist; both standings shown."""

from __future__ import annotations

from support.memory_fixtures import SIGNALS

from pipeline.models import Analysis, Article, ClaimDraft, Label, Priority, ReasonCode
from pipeline.desk.source_lists import ListedSource, SourceStanding, add_sources, priority_steps, source_standings
from pipeline.store import CacheIdentity, Store
from pipeline.views.worklist import build_worklist


def _claim(event: str) -> ClaimDraft:
    return ClaimDraft(
        event=event, who="", when="", where="", attributed_to="", why=[], check_with="the council", priority=Priority.high
    )


def test_only_a_trusted_source_lowers_priority():
    assert priority_steps(ListedSource("wire.example", SourceStanding.trusted)) == 1
    assert priority_steps(ListedSource("junk.example", SourceStanding.unreliable)) == 0
    assert priority_steps(None) == 0


def test_a_trusted_source_ranks_after_the_rest_and_both_standings_are_shown(tmp_path):
    with Store(tmp_path / "s.db") as store:
        run_id = store.start_run("offline", "offline")
        # The trusted article is the most confident one: without its standing it would lead.
        for article_id, url, confidence in (
            ("trusted", "https://news.wire.example/a", 0.95),
            ("unreliable", "https://junk.example/b", 0.8),
            ("plain", "https://plain.example/c", 0.7),
        ):
            article = Article(
                article_id=article_id,
                text=f"The {article_id} story, says an insider.",
                title=f"{article_id} story",
                url=url,
                published=None,
                source_path=f"{article_id}.json",
                record_id=None,
            )
            analysis = Analysis(
                article_id=article_id,
                label=Label.likely_fabrication,
                confidence=confidence,
                reasons=[ReasonCode.anonymous_sourcing],
                rationale="",
                quotes=[],
                rejected_quotes=[],
                claims=[_claim(f"The {article_id} event")],
                signals=SIGNALS,
            )
            store.save_result(
                run_id,
                article,
                f"key-{article_id}",
                CacheIdentity("offline", "offline", "offline", "v1", "p", "s", {}),
                analysis,
                [],
                0,
            )
        store.finish_run(run_id, "finished")
        add_sources(store, {SourceStanding.trusted: ["wire.example"], SourceStanding.unreliable: ["https://www.junk.example/"]})
        results = {result.article.article_id: result for result in store.iter_results()}
        sources = source_standings(store, {key: result.article.url for key, result in results.items()})
        assert {key: source.standing.value for key, source in sources.items()} == {
            "trusted": "trusted",
            "unreliable": "unreliable",
        }
        worklist = build_worklist(store)
    assert [item.lead.article.article_id for item in worklist.items] == ["unreliable", "plain", "trusted"]
    by_id = {item.lead.article.article_id: item.to_record() for item in worklist.items}
    assert by_id["trusted"]["source"] == {"domain": "wire.example", "standing": "trusted"}
    assert any("source trusted: wire.example (ranked lower)" in reason for reason in by_id["trusted"]["reasons"])
    assert "source listed unreliable: junk.example" in by_id["unreliable"]["desk_evidence"]
    assert by_id["plain"]["source"] is None
