"""Batch API mode: submit, status and collect against the fake server, and replayed from a cassette.

The cassette test's recording comes from the in-process fake server; re-record it with
``.venv/bin/pytest tests/test_batch.py -k cassette --record-mode=rewrite``.
"""

import json
from pathlib import Path

import pytest
from support.fakes import FakeServer, ServerConfig, no_sleep, server_settings, write_articles

from pipeline.runs.batch_api import collect, split_request_lines, status, submit
from pipeline.desk.clusters import cluster_members
from pipeline.engines import make_engine
from pipeline.engines.evidence import ANSWER_NAME
from pipeline.desk.posthumous import posthumous_flags
from pipeline.runs import run
from pipeline.store import Store

CASSETTE_SERVER_PORT = 8766


@pytest.fixture
def server():
    with FakeServer(ServerConfig(seed=7)) as running:
        yield running


@pytest.fixture
def vcr_config(vcr_config):
    # Multipart uploads carry a random boundary, so requests match on method and path,
    # in recorded order.
    return {**vcr_config, "match_on": ["method", "path"]}


def test_files_are_split_at_the_request_and_byte_limits():
    lines = [(None, b"x" * 10 + b"\n") for _ in range(7)]
    by_count = [len(chunk) for chunk in split_request_lines(lines, max_requests=3, max_bytes=10_000)]
    by_size = [len(chunk) for chunk in split_request_lines(lines, max_requests=100, max_bytes=25)]
    assert by_count == [3, 3, 1] and by_size == [2, 2, 2, 1]


def test_submit_writes_one_live_request_per_uncached_article_keyed_by_cache_key(server, tmp_path):
    write_articles(tmp_path / "in", 5)
    settings = server_settings(server, tmp_path / "p.db")
    run([str(tmp_path / "in" / "article-0000.txt")], settings)
    with Store(settings.db) as store:
        submitted = submit([str(tmp_path / "in")], settings, store, max_requests=3)
        again = submit([str(tmp_path / "in")], settings, store)
        keys = {row[0] for row in store.db.execute("SELECT custom_id FROM batch_item")}
    assert [job["requests"] for job in submitted] == [3, 1]  # the cached article is not submitted
    assert again == []  # articles in a batch not yet collected are never submitted twice
    first_input = server.state.files[server.state.batches[submitted[0]["batch_id"]]["input_file_id"]]
    request = json.loads(first_input.decode().splitlines()[0])
    assert request["custom_id"] in keys and request["url"] == "/v1/chat/completions"
    tool = request["body"]["tools"][0]["function"]
    assert tool["name"] == ANSWER_NAME and tool["strict"] is True  # the live path's strict tool
    assert request["body"]["model"] == "gpt-4o-mini" and request["body"]["temperature"] == 0.0


def test_collect_stores_verified_answers_and_leaves_failures_for_the_live_path(server, tmp_path):
    write_articles(tmp_path / "in", 6)
    write_articles(tmp_path / "in", 1, marker="[[fault:http_500]]", start=100)
    write_articles(tmp_path / "in", 1, marker="[[fault:schema_invalid]]", start=200)
    settings = server_settings(server, tmp_path / "p.db")
    with Store(settings.db) as store:
        submit([str(tmp_path / "in")], settings, store)
        jobs = status(settings, store)
        result = collect(settings, store)
        reasons = sorted(o["reason"] for o in store.outcomes(result.run_id) if o["status"] == "failed")
        stored = list(store.iter_results(result.run_id))
    assert jobs[0]["status"] == "completed"
    assert result.counts["ok"] == 6 and result.counts["failed"] == 2 and result.exit_code == 1
    assert reasons[0].startswith("answer does not fit the schema") and reasons[1].startswith("batch request failed (500)")
    assert all(len(item.analysis.quotes) == 1 and item.analysis.quotes[0].verified for item in stored)
    assert result.cost is not None and result.input_tokens > 0

    server.state.reset()
    with Store(settings.db) as store:
        runs_before = store.runs()
        assert collect(settings, store) is None  # nothing left to collect: no run recorded
        assert store.runs() == runs_before
    live = run([str(tmp_path / "in")], settings, engine=make_engine(settings, sleep=no_sleep))
    assert live.counts["cached"] == 6 and live.counts["failed"] == 2  # the marked articles fail live too
    # Only the two left over are asked: the 500 three times (two retries), the invalid
    # answer twice (one re-ask of its failing fields).
    assert server.stats()["requests"]["chat"] == 5


@pytest.mark.vcr
def test_batch_round_trip_replayed_from_a_cassette(tmp_path, record_mode):
    write_articles(tmp_path / "in", 3)
    with FakeServer(ServerConfig(seed=1), port=CASSETTE_SERVER_PORT) if record_mode != "none" else _NoServer() as srv:
        settings = server_settings(srv, tmp_path / "p.db", api_key="sk-test-not-a-real-key")
        with Store(settings.db) as store:
            submitted = submit([str(tmp_path / "in")], settings, store)
            result = collect(settings, store)
    assert submitted[0]["requests"] == 3
    assert result.counts["ok"] == 3 and result.exit_code == 0, (
        "the answers' custom_ids (cache keys) are not the submitted ones: the prompt or schema changed since "
        "the cassette was recorded; re-record with "
        "`.venv/bin/pytest tests/test_batch.py -k cassette --record-mode=rewrite`"
    )


class _NoServer:
    base_url = f"http://127.0.0.1:{CASSETTE_SERVER_PORT}/v1"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None


def test_batch_collected_seeds_form_their_cluster_as_a_live_run_does(server, tmp_path):
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    settings = server_settings(server, tmp_path / "batch.db")
    with Store(settings.db) as store:
        submit([str(seeds)], settings, store)
        result = collect(settings, store)
        batch_clusters = {member.article_id: member.cluster_id for member in cluster_members(store)}
        flagged = {flag.article_id for flag in posthumous_flags(store)}
    live_settings = server_settings(server, tmp_path / "live.db")
    run([str(seeds)], live_settings, engine=make_engine(live_settings, sleep=no_sleep))
    with Store(live_settings.db) as store:
        live_clusters = {member.article_id: member.cluster_id for member in cluster_members(store)}
        live_flagged = {flag.article_id for flag in posthumous_flags(store)}
    assert result.counts["ok"] == 3
    assert len(batch_clusters) == 3 and len(set(batch_clusters.values())) == 1
    assert batch_clusters == live_clusters and flagged == live_flagged
