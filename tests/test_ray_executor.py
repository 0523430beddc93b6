"""The Ray executor on a local Ray instance (2 CPUs) against the in-process fake server.

Its results must be the single-process runner's, article for article and key for key;
a worker killed mid-run must lose no finished article and pay for none twice.
"""

import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from support.fakes import FakeServer, ServerConfig, server_settings

from pipeline.runs import Executor, run
from pipeline.store import Store

ray = pytest.importorskip("ray", reason="the Ray executor needs the optional extra: pip install -e '.[ray]'")

ARTICLES = 1000


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, namespace="pipeline", log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture
def server():
    with FakeServer(ServerConfig()) as running:
        yield running


def write_jsonl(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            text = (
                f'Story {number}. The mayor said "we will rebuild bridge number {number} by spring" at the '
                f'council meeting. A resident added: "nobody asked us about bridge {number} at all".'
            )
            out.write(json.dumps({"id": f"r{number}", "text": text}) + "\n")
    return path


def stored(db: Path) -> dict[str, tuple]:
    """What a run decided per cache key: everything but when, how fast and the provider's raw bytes."""
    with Store(db) as store:
        return {
            result.cache_key: (
                result.article.article_id,
                json.dumps(result.analysis.model_dump(mode="json")),
                result.requests,
                result.input_tokens,
                result.output_tokens,
            )
            for result in store.iter_results()
        }


def test_ray_results_are_the_single_process_results_and_a_rerun_sends_nothing(local_ray, server, tmp_path):
    inbox = write_jsonl(tmp_path / "inbox.jsonl", ARTICLES)
    local = server_settings(server, tmp_path / "local.db", concurrency=16)
    on_ray = server_settings(server, tmp_path / "ray.db", concurrency=16)

    single = run([str(inbox)], local)
    server.state.reset()
    distributed = run([str(inbox)], on_ray, executor=Executor.ray)

    assert single.counts == distributed.counts == {"ok": ARTICLES, "cached": 0, "failed": 0, "skipped": 0}
    assert server.stats()["paid_total"] == ARTICLES and not server.stats()["duplicates"]
    assert stored(on_ray.db) == stored(local.db)
    assert (distributed.input_tokens, distributed.output_tokens) == (single.input_tokens, single.output_tokens)

    server.state.reset()
    again = run([str(inbox)], on_ray, executor=Executor.ray)
    assert again.counts["cached"] == ARTICLES and server.stats()["paid_total"] == 0


def test_a_fatal_provider_error_stops_the_ray_run(local_ray, tmp_path):
    inbox = write_jsonl(tmp_path / "inbox.jsonl", 40)
    with FakeServer(ServerConfig(api_key="the-right-key")) as server:
        result = run([str(inbox)], server_settings(server, tmp_path / "p.db"), executor=Executor.ray)
    assert result.exit_code == 2 and "refused the key" in result.fatal
    assert result.counts["ok"] == 0 and result.counts["failed"] == 40


def _worker_pids() -> list[int]:
    """Ray worker processes running a map_batches task (Ray names the process after the task)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"ray::MapBatches(analyse_batch)" in command:
                pids.append(int(entry))
    return pids


def _stored_fences(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        try:
            return {row[0][:16] for row in connection.execute("SELECT article_id FROM result")}
        except sqlite3.OperationalError:
            return set()


def test_a_killed_worker_loses_no_finished_article_and_pays_for_none_twice(local_ray, tmp_path):
    count = 300
    inbox = write_jsonl(tmp_path / "inbox.jsonl", count)
    with FakeServer(ServerConfig(latency=0.05)) as server:
        # A short timeout: the dead worker's limiter slots come back after it (plus a margin).
        settings = server_settings(server, tmp_path / "p.db", concurrency=8, timeout=3.0)
        outcome = {}

        def run_on_ray():
            try:
                outcome["result"] = run([str(inbox)], settings, executor=Executor.ray, batch_size=10)
            except Exception as error:  # reported by the assertion below
                outcome["error"] = error

        runner = threading.Thread(target=run_on_ray)
        runner.start()
        deadline = time.monotonic() + 120
        while server.stats()["paid_total"] < count // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        # A worker carries the task's name only while it runs a batch: on a loaded machine the
        # first look can fall between two batches, so look again until one is at work.
        while not (victims := _worker_pids()) and runner.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        finished_at_kill = _stored_fences(settings.db)
        paid_at_kill = server.stats()["paid"]
        for pid in victims[:1]:
            os.kill(pid, signal.SIGKILL)
        runner.join(300)
        stats = server.stats()
    assert not runner.is_alive(), "the run did not finish after a worker was killed"
    assert victims, "no Ray worker was running a batch to kill"
    assert finished_at_kill, "the kill came before any article was finished"
    assert "result" in outcome, f"the run failed: {outcome.get('error')!r}"
    result = outcome["result"]
    assert result.counts["ok"] + result.counts["failed"] == count
    assert len(_stored_fences(settings.db)) == result.counts["ok"]
    assert {fence: stats["paid"][fence] for fence in finished_at_kill} == {
        fence: paid_at_kill[fence] for fence in finished_at_kill
    }, "a finished article was paid for again"
