"""Several identical endpoints: requests spread over replicas, one down does not stop the run."""

import socket

from support.fakes import FakeServer, ServerConfig, no_sleep, server_settings, write_articles

from pipeline.engines import make_engine
from pipeline.engines.fleet import Endpoint, Fleet
from pipeline.engines.ratelimit import AdaptiveLimiter
from pipeline.runs import run
from pipeline.settings import load_settings
from pipeline.store import Store


class Clock:
    def __init__(self):
        self.now = 50.0

    def __call__(self):
        return self.now


def endpoints(*urls, maximum=4):
    return [Endpoint(url, client=None, limiter=AdaptiveLimiter(maximum)) for url in urls]


def test_the_fleet_picks_the_freest_healthy_endpoint_and_backs_off_one_that_fails():
    clock = Clock()
    a, b = endpoints("a", "b")
    fleet = Fleet([a, b], clock=clock)
    assert [fleet.pick().url for _ in range(4)] == ["a", "b", "a", "b"], "ties go to the one picked least"
    a.limiter.in_flight = 3
    assert fleet.pick() is b, "the one with more free slots"
    fleet.failed(b)
    assert fleet.pick() is a and b.out_until == clock.now + 1
    clock.now += 1.5
    fleet.failed(b)
    assert b.out_until == clock.now + 2, "each further failure doubles the pause"
    fleet.failed(a)
    assert fleet.pick() is a, "with every endpoint out, the one due back first"
    clock.now += 2
    fleet.succeeded(b)
    a.limiter.in_flight = 0
    assert b.out_until == 0 and fleet.pick() in (a, b)


def test_base_url_repeated_or_listed_in_pipeline_toml_gives_every_endpoint(tmp_path):
    flags = load_settings(
        {"base_url": ["http://a/v1", "http://b/v1"], "model": "m"}, environ={}, config_file=tmp_path / "none.toml"
    )
    assert flags.endpoints == ["http://a/v1", "http://b/v1"] and flags.base_url == "http://a/v1"
    toml = tmp_path / "pipeline.toml"
    toml.write_text('base_url = ["http://a/v1", "http://b/v1", "http://c/v1"]\nmodel = "m"\n', encoding="utf-8")
    listed = load_settings(environ={}, config_file=toml)
    assert listed.endpoints == ["http://a/v1", "http://b/v1", "http://c/v1"]
    assert load_settings(
        {"model": "m"}, environ={"OPENAI_BASE_URL": "http://z/v1"}, config_file=tmp_path / "none.toml"
    ).endpoints == ["http://z/v1"]


def keys_and_analyses(db):
    with Store(db) as store:
        return {result.cache_key: result.analysis.model_dump_json() for result in store.iter_results()}


def test_requests_spread_over_replicas_with_the_cache_keys_of_a_single_endpoint(tmp_path):
    write_articles(tmp_path / "in", 40)
    with FakeServer(ServerConfig()) as first, FakeServer(ServerConfig()) as second:
        single = server_settings(first, tmp_path / "single.db")
        run([str(tmp_path / "in")], single, engine=make_engine(single, sleep=no_sleep))
        first.state.reset()
        fleet = server_settings(first, tmp_path / "fleet.db", replica_urls=(second.base_url,))
        result = run([str(tmp_path / "in")], fleet, engine=make_engine(fleet, sleep=no_sleep))
        paid = (first.stats()["paid_total"], second.stats()["paid_total"])
    assert result.counts["ok"] == 40 and sum(paid) == 40
    assert min(paid) >= 10, f"both replicas share the work: {paid}"
    assert keys_and_analyses(fleet.db) == keys_and_analyses(single.db)


def test_an_endpoint_that_is_down_does_not_stop_the_run(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"  # nothing listens once the probe closes
    write_articles(tmp_path / "in", 30)
    with FakeServer(ServerConfig()) as alive:
        settings = server_settings(alive, tmp_path / "p.db", base_url=dead, replica_urls=(alive.base_url,))
        result = run([str(tmp_path / "in")], settings, engine=make_engine(settings, sleep=no_sleep))
        paid = alive.stats()["paid_total"]
    assert result.counts == {"ok": 30, "cached": 0, "failed": 0, "skipped": 0} and paid == 30
