import asyncio
import dataclasses
import sqlite3

import pytest

from pipeline.desk.settled import settle_results
from pipeline.settings import DEFAULT_NIGHT_CLOCK
from pipeline.views.record import article_record
from pipeline.engines import OfflineEngine
from pipeline.runs import analyse_article
from pipeline.inputs import iter_articles
from pipeline.store import CacheIdentity, Store, cache_key
from support import SEEDS

IDENTITY = CacheIdentity(
    engine="llm",
    model="m",
    mode="tools",
    prompt_version="v1",
    prompt_hash="p" * 16,
    schema_hash="s" * 16,
    params={"temperature": 0.0, "max_tokens": 100},
)


@pytest.mark.parametrize(
    "change",
    [
        {"model": "other"},
        {"mode": "json_schema"},
        {"prompt_version": "v2"},
        {"prompt_hash": "q" * 16},
        {"schema_hash": "t" * 16},
        {"params": {"temperature": 0.5, "max_tokens": 100}},
        {"engine": "offline"},
    ],
)
def test_every_part_of_the_identity_changes_the_cache_key(change):
    assert cache_key("a" * 64, dataclasses.replace(IDENTITY, **change)) != cache_key("a" * 64, IDENTITY)


def test_the_cache_key_is_stable_and_ignores_parameter_order():
    reordered = dataclasses.replace(IDENTITY, params={"max_tokens": 100, "temperature": 0.0})
    assert cache_key("a" * 64, reordered) == cache_key("a" * 64, IDENTITY)
    assert cache_key("b" * 64, IDENTITY) != cache_key("a" * 64, IDENTITY)


@pytest.fixture
def seed_analysis():
    article = next(item for item in iter_articles([str(SEEDS)]))
    engine = OfflineEngine()
    analysis, answers = asyncio.run(analyse_article(article, engine))
    return article, engine.identity, analysis, answers


def test_a_saved_result_reads_back_whole_and_in_the_views(tmp_path, seed_analysis):
    article, identity, analysis, answers = seed_analysis
    key = cache_key(article.article_id, identity)
    with Store(tmp_path / "p.db") as store:
        run_id = store.start_run("offline", "offline")
        assert not store.has_result(key)
        store.save_result(run_id, article, key, identity, analysis, answers, latency_ms=5)
        store.finish_run(run_id, "finished")
        assert store.has_result(key)
        stored = store.get_result(key)
        assert stored.analysis == analysis and stored.article.text == article.text
        assert [r.cache_key for r in store.find_results(article.article_id[:8])] == [key]
        assert [r.cache_key for r in store.find_results(article.source_path)] == [key]
        [settled] = settle_results(store, [stored], DEFAULT_NIGHT_CLOCK)
        record = article_record(settled)
        assert record["sources"] == [{"source_path": article.source_path, "record_id": None}]
        assert record["prompt_version"] == identity.prompt_version and record["usage"]["requests"] == 0
    db = sqlite3.connect(tmp_path / "p.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT label, quotes FROM articles").fetchone() == (analysis.label.value, len(analysis.quotes))
    assert db.execute("SELECT COUNT(*) FROM quotes").fetchone()[0] == len(analysis.quotes)
    assert db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == len(analysis.claims)
    assert db.execute("SELECT ok, failed, cached, skipped FROM runs").fetchone() == (1, 0, 0, 0)
    quote = analysis.quotes[0]
    assert db.execute('SELECT text, start, "end" FROM quotes LIMIT 1').fetchone() == (quote.text, quote.start, quote.end)


def test_a_failed_write_leaves_nothing_half_written(tmp_path, seed_analysis):
    article, identity, analysis, answers = seed_analysis
    key = cache_key(article.article_id, identity)
    with Store(tmp_path / "p.db") as store:
        run_id = store.start_run("offline", "offline")
        with pytest.raises(sqlite3.IntegrityError):
            store.save_result(None, article, key, identity, analysis, answers, latency_ms=5)  # outcome.run_id NOT NULL
        assert not store.has_result(key)
        assert store.db.execute("SELECT COUNT(*) FROM article").fetchone()[0] == 0
        store.finish_run(run_id, "finished")


def test_no_separator_inside_a_field_can_make_two_identities_collide():
    joined = dataclasses.replace(IDENTITY, model="m\0tools", mode="")
    assert cache_key("a" * 64, joined) != cache_key("a" * 64, IDENTITY)
    assert cache_key("a" * 64, dataclasses.replace(IDENTITY, model="bad\udcffbytes"))
