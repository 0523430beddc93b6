"""Template clusters and cross-article posthumous attribution on the seeds."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from pipeline.desk.clusters import SIMILARITY_THRESHOLD, cluster_members, content_words, jaccard, update_clusters
from pipeline.desk.insight import batch_findings, update_batch_insight
from pipeline.models import Article, ReasonCode
from pipeline.desk.posthumous import find_posthumous
from pipeline.store import Store

SEEDS = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
LABELLED = Path(__file__).resolve().parent / "fixtures" / "labelled" / "articles.jsonl"
UNRELATED = ("tribute-teacher", "tribute-musician", "tribute-nurse", "news-budget", "news-factory", "news-storm")


def labelled_texts() -> dict[str, str]:
    return {record["id"]: record["text"] for record in map(json.loads, LABELLED.read_text().splitlines())}


def remember(store: Store, article_id: str, text: str) -> None:
    store.remember_article(
        Article(
            article_id=article_id, text=text, title=article_id, url=None, published=None, source_path=article_id, record_id=None
        )
    )


def test_seed_pairs_clear_the_threshold_and_unrelated_articles_do_not():
    seeds = [content_words(path.read_text()) for path in SEEDS]
    others = [content_words(labelled_texts()[name]) for name in UNRELATED]
    seed_pairs = [jaccard(a, b) for a, b in itertools.combinations(seeds, 2)]
    against_others = [jaccard(seed, other) for seed in seeds for other in others]
    assert min(seed_pairs) >= SIMILARITY_THRESHOLD
    assert max(against_others) < SIMILARITY_THRESHOLD


def test_person_names_are_masked_so_swapping_the_celebrity_changes_nothing():
    text = SEEDS[0].read_text()
    assert content_words(text) == content_words(text.replace("Len Goodman", "Carrie Ann Inaba"))


def test_the_seeds_form_one_cluster_and_unrelated_articles_join_none(tmp_path):
    texts = {f"seed-{i}": path.read_text() for i, path in enumerate(SEEDS)}
    texts |= {name: labelled_texts()[name] for name in UNRELATED}
    with Store(tmp_path / "c.db") as store:
        for article_id, text in texts.items():
            remember(store, article_id, text)
        members = update_clusters(store, texts).members
        clustered = {member.article_id: member.cluster_id for member in members}
        assert set(clustered) == {"seed-0", "seed-1", "seed-2"}
        assert len(set(clustered.values())) == 1
        view = store.db.execute("SELECT DISTINCT cluster_id, size FROM clusters").fetchall()
        assert [tuple(row) for row in view] == [(clustered["seed-0"], 3)]


def test_a_chain_of_links_does_not_become_one_cluster(tmp_path):
    with Store(tmp_path / "c.db") as store:
        for article_id in "abc":
            remember(store, article_id, article_id)
        update_clusters(store, [])
        store.db.executemany("INSERT INTO cluster_pair VALUES (?, ?, ?)", [("a", "b", 0.3), ("b", "c", 0.2)])
        members = update_clusters(store, []).members
    assert {(m.article_id, m.size) for m in members} == {("a", 2), ("b", 2)}  # c: mean link to {a, b} is 0.1


def test_a_new_article_joins_the_cluster_of_history(tmp_path):
    with Store(tmp_path / "c.db") as store:
        for i, path in enumerate(SEEDS[:2]):
            remember(store, f"old-{i}", path.read_text())
        update_clusters(store, ["old-0", "old-1"])
        remember(store, "tonight", SEEDS[2].read_text())
        update_clusters(store, ["tonight"])
        assert {m.article_id: m.size for m in cluster_members(store)} == {"old-0": 3, "old-1": 3, "tonight": 3}


@pytest.fixture(scope="module")
def seeds_store(tmp_path_factory):
    from support.batch_fixtures import analysed_store

    return analysed_store(tmp_path_factory.mktemp("insight"))


def test_len_goodman_is_flagged_in_the_article_that_does_not_say_he_died(seeds_store):
    with Store(seeds_store) as store:
        by_path = {Path(r.article.source_path).name: r for r in store.iter_results()}
        findings = batch_findings(store)
    mark_ballas = by_path[SEEDS[2].name]  # says nothing of Len's death; seed 000 does
    flags = findings[mark_ballas.article.article_id].posthumous
    assert {flag.person for flag in flags} == {"Len Goodman"}
    # Seed 000 says he died, but it is labelled a fabrication: the flag rests on the desk's entry.
    assert {flag.evidence_article_id for flag in flags} == {None}
    quoted = [q for q in mark_ballas.analysis.quotes if (q.start, q.end) in {(f.start, f.end) for f in flags}]
    assert [q.text for q in quoted] == ["Keep it simple, keep it pure, keep it about the dance."]
    assert ReasonCode.posthumous_attribution in findings[mark_ballas.article.article_id].reasons
    assert ReasonCode.posthumous_attribution not in mark_ballas.analysis.reasons  # the cached answer is untouched


def test_every_seed_gets_template_language_and_the_hostile_news_article_none(seeds_store):
    with Store(seeds_store) as store:
        results = list(store.iter_results())
        findings = batch_findings(store)
    for result in results:
        found = findings.get(result.article.article_id)
        if result.article.source_path.endswith("hostile.txt"):
            assert found is None
        else:
            assert ReasonCode.template_language in found.reasons


def test_a_short_name_counts_only_where_the_full_name_appears():
    deceased: dict[str, str | None] = {"Len Goodman": "evidence"}
    assert find_posthumous("a", "Len smiles at the crowd. Len Goodman was there.", [], deceased)
    assert not find_posthumous("b", "Len smiles at the crowd.", [], deceased)


def test_rerunning_the_insight_is_idempotent(seeds_store):
    with Store(seeds_store) as store:
        run_id = store.runs(1)[0]["run_id"]
        before = batch_findings(store)
        update_batch_insight(store, run_id)
        assert batch_findings(store) == before
