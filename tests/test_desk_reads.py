"""The desk's read paths: they ask SQL for the articles named, however many, never the whole table;
and a story's review comes back when a new article joins the story."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.memory_fixtures import store_article

from pipeline.desk.clusters import cluster_members
from pipeline.desk.factchecks import factcheck_matches
from pipeline.desk.posthumous import posthumous_flags
from pipeline.desk.reviews import add_review, review_statuses
from pipeline.desk.source_lists import SourceStanding, add_sources, article_urls, source_standings
from pipeline.models import Label
from pipeline.store import Store

ARTICLES = 2000
# Past SQLite's default limit on bound variables (32766): one placeholder per id would fail.
MANY = 40_000
WANTED = ["a00007", "a01234", "a01999"]


@pytest.fixture(scope="module")
def desk_store(tmp_path_factory) -> Path:
    """A store of ``ARTICLES`` articles, each with a URL, a posthumous flag, a fact-check match,
    a place in a two-article cluster and a review, written straight into the tables."""
    path = tmp_path_factory.mktemp("desk") / "desk.db"
    ids = [f"a{index:05d}" for index in range(ARTICLES)]
    with Store(path) as store:
        add_sources(store, {SourceStanding.unreliable: ["site0.example"]})
        _write_the_tables(store, ids)
    return path


def _write_the_tables(store: Store, ids: list[str]) -> None:
    with store.transaction():
        store.db.executemany(
            "INSERT INTO article (article_id, url, text, first_seen) VALUES (?, ?, 'text', '2026-12-01')",
            [(article_id, f"https://site{index % 7}.example/{article_id}") for index, article_id in enumerate(ids)],
        )
        store.db.executemany(
            'INSERT INTO posthumous_flag (article_id, person, kind, start, "end") VALUES (?, ?, ?, 0, 4)',
            [(article_id, "Len Goodman", "quote") for article_id in ids],
        )
        store.db.execute(
            "INSERT INTO factcheck (factcheck_id, url, claim_reviewed, rating, imported_at) "
            "VALUES (1, 'https://checks.example/1', 'a claim', 'False', '2026-12-01')"
        )
        store.db.executemany(
            "INSERT INTO factcheck_match (article_id, target, factcheck_id, score, matched_at) "
            "VALUES (?, 'article', 1, 0.9, '2026-12-01')",
            [(article_id,) for article_id in ids],
        )
        store.db.executemany(
            "INSERT INTO template_cluster (article_id, cluster_id, size, best_jaccard) VALUES (?, ?, 2, 0.5)",
            [(article_id, f"tpl-{index // 2}") for index, article_id in enumerate(ids)],
        )
        store.db.executemany(
            "INSERT INTO review (target, article_ids, verdict, reviewed_at) VALUES (?, json_array(?), 'accurate', '2026-12-02')",
            [(article_id, article_id) for article_id in ids],
        )


def _reads(store: Store, ids: list[str] | None) -> dict[str, set[str]]:
    """Which articles each read path answers for."""
    return {
        "clusters": {member.article_id for member in cluster_members(store, ids)},
        "posthumous": {flag.article_id for flag in posthumous_flags(store, ids)},
        "factchecks": set(factcheck_matches(store, ids)),
        "reviews": set(review_statuses(store, ids)),
        "urls": set(article_urls(store, ids)),
    }


def test_each_read_answers_for_exactly_the_ids_asked_however_many(desk_store):
    many = WANTED + [f"missing-{index}" for index in range(MANY)]
    with Store(desk_store, read_only=True) as store:
        assert _reads(store, many) == {name: set(WANTED) for name in _reads(store, WANTED)}
        assert _reads(store, []) == {name: set() for name in _reads(store, [])}
        everything = _reads(store, None)
        standings = source_standings(store, article_urls(store, WANTED))
    assert {name: len(found) for name, found in everything.items()} == {name: ARTICLES for name in everything}
    assert set(standings) == {"a00007"}, "site0.example is listed; a00007 is on it (7 % 7 == 0)"


def _steps(store: Store, read) -> int:
    """SQLite virtual-machine steps (in hundreds) a read costs."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    store.db.set_progress_handler(count, 100)
    try:
        read()
    finally:
        store.db.set_progress_handler(None, 0)
    return steps


@pytest.mark.parametrize(
    "read",
    [
        lambda store, ids: cluster_members(store, ids),
        lambda store, ids: posthumous_flags(store, ids),
        lambda store, ids: factcheck_matches(store, ids),
        lambda store, ids: article_urls(store, ids),
    ],
    ids=["clusters", "posthumous", "factchecks", "urls"],
)
def test_a_read_for_a_few_articles_does_not_walk_the_table(desk_store, read):
    with Store(desk_store, read_only=True) as store:
        few = _steps(store, lambda: read(store, WANTED))
        whole = _steps(store, lambda: read(store, None))
    assert whole >= 20 and few * 20 <= whole, (few, whole)


def test_a_story_review_comes_back_when_a_new_article_joins_the_story(tmp_path):
    with Store(tmp_path / "story.db") as store:
        for article_id in ("s1", "s2", "s3"):
            store_article(store, article_id, f"Story {article_id}.", Label.likely_fabrication)
        store.db.executemany(
            "INSERT INTO template_cluster (article_id, cluster_id, size, best_jaccard) VALUES (?, 'tpl-s', 3, 0.5)",
            [("s1",), ("s2",)],
        )
        review = add_review(store, "tpl-s", "confirmed_fabrication")
        assert review.article_ids == ("s1", "s2")
        assert review_statuses(store, ["s1"])["s1"].settled
        store.db.execute("UPDATE article SET first_seen = '9999-01-01' WHERE article_id = 's3'")
        store.db.execute(
            "INSERT INTO template_cluster (article_id, cluster_id, size, best_jaccard) VALUES ('s3', 'tpl-s', 3, 0.5)"
        )
        statuses = review_statuses(store, ["s1"])
        assert (statuses["s1"].settled, statuses["s1"].new_articles) == (False, ("s3",))
        assert set(statuses) == {"s1"}
        assert review_statuses(store)["s2"].new_articles == ("s3",)
        add_review(store, "s3", "confirmed_fabrication")
        assert all(status.settled for status in review_statuses(store).values())
