"""Every provider failure mode against the fake server (bench/fake_server.py): each ends
as retried-then-ok or as a `failed` record with its reason, the rest of the batch goes
on, and a re-run heals what failed. (Bad key, quota and model: tests/test_runner.py.)"""

import asyncio

import pytest
from support.fakes import FakeServer, ServerConfig, no_sleep, server_settings, write_articles

from pipeline.engines import make_engine
from pipeline.runs import run
from pipeline.store import Store

RETRIES = 2


def run_without_waiting(paths, settings):
    return run(paths, settings, engine=make_engine(settings, sleep=no_sleep))


@pytest.mark.parametrize(
    ("fault", "reason", "requests"),
    [
        ("http_500", "provider error 500", RETRIES + 1),
        ("http_502", "provider error 502", RETRIES + 1),
        ("http_503", "provider error 503", RETRIES + 1),
        ("connection_reset", "APIConnectionError", RETRIES + 1),
        ("read_timeout", "APITimeoutError", RETRIES + 1),
        # One re-ask, of the failing fields only; truncation, refusal and filtering none.
        ("malformed_json", "answer does not fit the schema after one re-ask", 2),
        ("schema_invalid", "answer does not fit the schema after one re-ask", 2),
        ("length", "finish_reason=length", 1),
        ("cut_json", "answer truncated (its JSON stops", 1),
        ("invented_id", "Q99 is not in the article", 2),
        ("context_overflow", "the article is the part that grows", 1),
        ("refusal", "the model refused to answer", 1),
        ("content_filter", "content filter", 1),
    ],
)
def test_each_fault_ends_as_a_failed_record_with_its_reason_and_the_batch_goes_on(tmp_path, fault, reason, requests):
    write_articles(tmp_path / "in", 2)
    write_articles(tmp_path / "in", 1, marker=f"[[fault:{fault}]]", start=10)
    with FakeServer(ServerConfig(hang_seconds=5)) as server:
        settings = server_settings(server, tmp_path / "p.db", timeout=0.5, max_retries=RETRIES)
        result = run_without_waiting([str(tmp_path / "in")], settings)
        asked = server.stats()["requests"]["chat"]
    assert result.counts == {"ok": 2, "cached": 0, "failed": 1, "skipped": 0}
    assert result.exit_code == 1
    assert asked - 2 == requests, "retried exactly as the failure table in README says"
    with Store(settings.db) as store:
        failed = [o for o in store.outcomes(result.run_id) if o["status"] == "failed"]
    assert len(failed) == 1 and "article-0010" in failed[0]["source_path"] and reason in failed[0]["reason"]


@pytest.mark.parametrize(
    "config",
    [
        ServerConfig(rpm=600),
        ServerConfig(rpm=600, send_retry_after=False),
        ServerConfig(fault_rate=0.3, faults=("http_500", "http_503", "connection_reset"), seed=1),
    ],
    ids=["429-with-retry-after", "429-without-retry-after", "30%-transient-faults"],
)
def test_transient_failures_are_retried_until_every_article_is_ok(tmp_path, config):
    async def short_sleep(_seconds):
        # Real time must pass for the server's per-minute bucket to refill, but not the
        # backoff's minutes: 0.2 s a retry keeps the test short and the outcome certain.
        await asyncio.sleep(0.2)

    write_articles(tmp_path / "in", 40)
    with FakeServer(config) as server:
        settings = server_settings(server, tmp_path / "p.db", concurrency=8, max_retries=8)
        result = run([str(tmp_path / "in")], settings, engine=make_engine(settings, sleep=short_sleep))
        stats = server.stats()
    assert result.counts["ok"] == 40
    assert stats["requests"]["chat"] > 40, "the server did fail some requests"
    assert stats["paid_total"] == 40 and not stats["duplicates"]


def test_a_rerun_heals_every_failure_and_pays_only_for_those(tmp_path):
    write_articles(tmp_path / "in", 10)
    with FakeServer(ServerConfig(fault_rate=0.5, faults=("http_503", "malformed_json"), seed=3)) as server:
        settings = server_settings(server, tmp_path / "p.db", max_retries=0)
        first = run_without_waiting([str(tmp_path / "in")], settings)
        assert first.counts["failed"] and first.counts["ok"]
        server.config.fault_rate = 0.0
        before = server.stats()["paid_total"]
        second = run_without_waiting([str(tmp_path / "in")], settings)
        paid = server.stats()["paid_total"] - before
    assert second.counts == {"ok": first.counts["failed"], "cached": first.counts["ok"], "failed": 0, "skipped": 0}
    assert paid == first.counts["failed"]
