"""Deterministic failures stop being re-paid nightly; cached input and batch re-asks are
priced honestly (bench/fake_server.py reports a system prompt it has seen as cached)."""

import json

import pytest
from support.fakes import FakeServer, ServerConfig, no_sleep, server_settings, write_articles

from pipeline.runs.batch_api import BatchJobs, collect, submit
from pipeline.engines import make_engine
from pipeline.pricing import estimate_cost, ledger_cost
from pipeline.runs import run
from pipeline.settings import LLMMode
from pipeline.store import Store


def _run(paths, settings, **kwargs):
    return run(paths, settings, engine=make_engine(settings, sleep=no_sleep), **kwargs)


def test_a_deterministic_failure_is_retried_in_n_later_runs_then_stays_failed_until_retry_failed(tmp_path):
    write_articles(tmp_path / "in", 1)
    write_articles(tmp_path / "in", 1, marker="[[fault:schema_invalid]]", start=10)
    with FakeServer(ServerConfig()) as server:
        settings = server_settings(server, tmp_path / "p.db", failed_retries=2)
        asked = []
        for _night in range(4):
            before = server.stats()["requests"].get("chat", 0)
            result = _run([str(tmp_path / "in")], settings)
            asked.append(server.stats()["requests"]["chat"] - before)
            assert result.counts["failed"] == 1 and result.exit_code == 1
        with Store(settings.db) as store:
            [last] = [o for o in store.outcomes(result.run_id) if o["status"] == "failed"]
        again = _run([str(tmp_path / "in")], settings, retry_failed=True)
        retried = server.stats()["requests"]["chat"]
    # First night: the article and the failing one with its re-ask; two more nights retry it; then none.
    assert asked == [3, 2, 2, 0]
    assert "answer does not fit the schema" in last["reason"] and "--retry-failed" in last["reason"]
    assert last["requests"] == 0 and last["input_tokens"] == 0
    assert again.counts["failed"] == 1 and retried == sum(asked) + 2


def test_transient_failures_are_always_retried_and_a_success_forgets_the_failure(tmp_path):
    write_articles(tmp_path / "in", 1, marker="[[fault:http_503]]")
    with FakeServer(ServerConfig()) as server:
        settings = server_settings(server, tmp_path / "p.db", max_retries=0, failed_retries=0)
        for _night in range(3):
            before = server.stats()["requests"].get("chat", 0)
            assert _run([str(tmp_path / "in")], settings).counts["failed"] == 1
            assert server.stats()["requests"]["chat"] - before == 1
        with Store(settings.db) as store:
            assert store.remembered_failure(next(iter(store.outcomes(1)))["cache_key"]) is None


def test_a_success_clears_a_remembered_failure(tmp_path):
    write_articles(tmp_path / "in", 1)
    with FakeServer(ServerConfig(fault_rate=1.0, faults=("schema_invalid",))) as server:
        settings = server_settings(server, tmp_path / "p.db", failed_retries=0)
        assert _run([str(tmp_path / "in")], settings).counts["failed"] == 1
        with Store(settings.db) as store:
            key = store.outcomes(1)[0]["cache_key"]
            assert store.remembered_failure(key)["runs"] == 1
        server.config.fault_rate = 0.0
        assert _run([str(tmp_path / "in")], settings, retry_failed=True).counts["ok"] == 1
        with Store(settings.db) as store:
            assert store.remembered_failure(key) is None


def test_cached_input_tokens_are_priced_at_the_cached_rate_in_the_run_and_the_ledger(tmp_path):
    write_articles(tmp_path / "in", 3)
    with FakeServer(ServerConfig()) as server:
        settings = server_settings(server, tmp_path / "p.db", concurrency=1)
        result = _run([str(tmp_path / "in")], settings)
    with Store(settings.db) as store:
        [ledger] = store.runs(limit=1)
        outcomes = store.outcomes(result.run_id)
    assert result.counts["ok"] == 3
    assert 0 < result.cached_input_tokens == ledger["cached_input_tokens"] < result.input_tokens
    full = estimate_cost("gpt-4o-mini", result.input_tokens, result.output_tokens)
    honest = sum(
        estimate_cost("gpt-4o-mini", o["input_tokens"], o["output_tokens"], cached_input_tokens=o["cached_input_tokens"])
        for o in outcomes
    )
    assert result.cost == pytest.approx(honest) and result.cost < full
    assert ledger_cost(ledger) == pytest.approx(honest)


def test_a_batch_answers_live_reask_is_priced_live(tmp_path):
    write_articles(tmp_path / "in", 1, marker="[[fault:schema_invalid]]")
    write_articles(tmp_path / "in", 1, start=5)
    with FakeServer(ServerConfig()) as server:
        settings = server_settings(server, tmp_path / "p.db")
        with Store(settings.db) as store:
            submit([str(tmp_path / "in")], settings, store)
            result = collect(settings, store)
            outcomes = store.outcomes(result.run_id)
            [ledger] = store.runs(limit=1)
    [failed] = [o for o in outcomes if o["status"] == "failed"]
    [ok] = [o for o in outcomes if o["status"] == "ok"]
    assert failed["requests"] == 2, "the batch answer and its one live re-ask"
    assert ok["cost"] == pytest.approx(estimate_cost("gpt-4o-mini", ok["input_tokens"], ok["output_tokens"], batch=True))
    batch_price = estimate_cost("gpt-4o-mini", failed["input_tokens"], failed["output_tokens"], batch=True)
    live_price = estimate_cost("gpt-4o-mini", failed["input_tokens"], failed["output_tokens"])
    assert batch_price < failed["cost"] < live_price, "half of it went out live"
    assert ledger_cost(ledger) == pytest.approx(ok["cost"] + failed["cost"]) == pytest.approx(result.cost)


def test_batch_collect_remembers_a_deterministic_failure_and_no_later_run_or_batch_pays_for_it(tmp_path):
    write_articles(tmp_path / "in", 1)
    write_articles(tmp_path / "in", 1, marker="[[fault:schema_invalid]]", start=10)
    write_articles(tmp_path / "in", 1, marker="[[fault:http_500]]", start=20)
    with FakeServer(ServerConfig()) as server:
        settings = server_settings(server, tmp_path / "p.db", max_retries=0, failed_retries=0)
        with Store(settings.db) as store:
            submit([str(tmp_path / "in")], settings, store)
            collected = collect(settings, store)
            failed = sorted((o["reason"], o["cache_key"]) for o in store.outcomes(collected.run_id) if o["status"] == "failed")
            remembered = [store.remembered_failure(key) for _reason, key in failed]
        before = server.stats()["requests"].get("chat", 0)
        live = _run([str(tmp_path / "in")], settings)
        asked = server.stats()["requests"]["chat"] - before
        with Store(settings.db) as store:
            reasons = sorted(o["reason"] for o in store.outcomes(live.run_id) if o["status"] == "failed")
            # The next night's batch leaves the remembered failure out too, until --retry-failed.
            jobs = BatchJobs(store)
            [resubmitted] = submit([str(tmp_path / "in")], settings, store)
            [retried] = submit([str(tmp_path / "in")], settings, store, retry_failed=True)
            batched = [set(jobs.items(job["batch_id"])) for job in (resubmitted, retried)]
    assert collected.counts["ok"] == 1 and [reason[:26] for reason, _key in failed] == [
        "answer does not fit the sc",
        "batch request failed (500)",
    ]
    schema, transient = remembered
    assert schema["runs"] == 1 and schema["kind"] == "schema" and schema["first_run_id"] == collected.run_id
    assert transient is None, "a transient failure is not remembered"
    # The live run asks only for the transient one; the remembered failure has used its retries.
    assert live.counts == {"ok": 0, "cached": 1, "failed": 2, "skipped": 0} and asked == 1
    assert "not tried again until --retry-failed" in reasons[0] and reasons[0].startswith("answer does not fit")
    (_schema_reason, schema_key), (_transient_reason, transient_key) = failed
    assert batched == [{transient_key}, {schema_key}]


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json", "md_json"])
def test_every_mode_asks_for_the_evidence_first_answer_its_own_way(tmp_path, mode, monkeypatch):
    import httpx2

    bodies = []
    send = httpx2.AsyncClient.send

    async def keeping_send(self, request, **kwargs):
        bodies.append(json.loads(request.content))
        return await send(self, request, **kwargs)

    monkeypatch.setattr(httpx2.AsyncClient, "send", keeping_send)
    write_articles(tmp_path / "in", 1)
    with FakeServer(ServerConfig()) as server:
        settings = server_settings(server, tmp_path / "p.db", mode=LLMMode(mode))
        assert _run([str(tmp_path / "in")], settings).counts["ok"] == 1
    [body] = bodies
    system = body["messages"][0]["content"]
    if mode == "tools":
        assert body["tools"][0]["function"]["strict"] is True and "Answer fields, in this order" in system
    elif mode == "json_schema":
        assert body["response_format"]["json_schema"]["strict"] is True and "Answer fields, in this order" in system
    else:
        assert '"additionalProperties":false' in system, "the schema travels in the prompt"
        assert body.get("response_format") == ({"type": "json_object"} if mode == "json" else None)


def test_the_per_article_token_budget_stops_a_reask(tmp_path):
    write_articles(tmp_path / "in", 1, marker="[[fault:schema_invalid]]")
    with FakeServer(ServerConfig()) as server:
        settings = server_settings(server, tmp_path / "p.db", max_tokens=100, max_article_tokens=150)
        result = _run([str(tmp_path / "in")], settings)
        asked = server.stats()["requests"]["chat"]
    with Store(settings.db) as store:
        [failed] = store.outcomes(result.run_id)
    assert asked == 1 and failed["requests"] == 1
    assert "not re-asked" in failed["reason"] and "PIPELINE_MAX_ARTICLE_TOKENS=150" in failed["reason"]
