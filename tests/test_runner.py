"""The runner against the in-process fake OpenAI server (bench/fake_server.py).

Fast and deterministic: no test depends on timing; retry waits are skipped with
an injected sleep, faults are forced per article with a ``[[fault:NAME]]`` marker.
"""

import asyncio
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from support.fakes import FakeClock, FakeServer, ServerConfig, no_sleep, server_settings, write_articles
from rich.console import Console
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import ConfigError
from pipeline.pricing import estimate_cost, price_for
from pipeline.views.progress import RunProgress
from pipeline.engines.ratelimit import AdaptiveLimiter, parse_reset_seconds
from pipeline.views.terminal import runs_table
from pipeline.engines import make_engine
from pipeline.runs import Budget, run
from pipeline.store import Store


def run_fast(paths, settings, **kwargs):
    return run(paths, settings, engine=make_engine(settings, sleep=no_sleep), **kwargs)


@pytest.fixture
def server():
    with FakeServer(ServerConfig()) as running:
        yield running


# the adaptive limiter


def test_limiter_halves_once_per_round_of_429s_and_grows_back_after_successes():
    clock = FakeClock()
    limiter = AdaptiveLimiter(8, clock=clock, sleep=clock.sleep)

    async def scenario():
        tickets = [await limiter.acquire() for _ in range(8)]
        for ticket in tickets:  # eight 429s from requests sent under the same limit: one cut
            limiter.rate_limited(ticket, None)
            limiter.release()
        assert limiter.limit == 4
        late = await limiter.acquire()  # a request sent after the cut may cut again
        limiter.rate_limited(late, None)
        limiter.release()
        assert limiter.limit == 2
        for _ in range(40):
            ticket = await limiter.acquire()
            limiter.release()
            limiter.succeeded()
        assert limiter.limit == 8  # back to the maximum, never above

    asyncio.run(scenario())


def test_limiter_never_lets_more_than_the_limit_in_flight():
    limiter = AdaptiveLimiter(3)
    peak = 0

    async def request():
        nonlocal peak
        await limiter.acquire()
        peak = max(peak, limiter.in_flight)
        await asyncio.sleep(0)
        limiter.release()

    async def scenario():
        await asyncio.gather(*(request() for _ in range(20)))

    asyncio.run(scenario())
    assert peak == 3 and limiter.in_flight == 0


def test_limiter_pauses_new_requests_for_retry_after_and_spent_quota_headers():
    clock = FakeClock()
    limiter = AdaptiveLimiter(4, clock=clock, sleep=clock.sleep)

    async def scenario():
        ticket = await limiter.acquire()
        limiter.rate_limited(ticket, 2.5)
        limiter.release()
        await limiter.acquire()
        limiter.release()
        limiter.observe_headers(
            {"x-ratelimit-limit-requests": "100", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "10s"}
        )
        await limiter.acquire()
        limiter.observe_headers({"x-ratelimit-remaining-requests": "5", "x-ratelimit-reset-requests": "1m"})
        await limiter.acquire()

    asyncio.run(scenario())
    assert clock.slept == [2.5, pytest.approx(0.1)]  # one slot's share of the 10 s refill; 5 left: no pause


def test_reset_header_durations_parse_in_openai_formats():
    assert parse_reset_seconds("20ms") == pytest.approx(0.02)
    assert parse_reset_seconds("6m0s") == 360
    assert parse_reset_seconds("1h2m3.5s") == pytest.approx(3723.5)
    assert parse_reset_seconds("1.5") == 1.5
    assert parse_reset_seconds("soon") is None


# runs against the fake server


def test_an_article_met_again_in_a_run_is_paid_once_whether_its_first_copy_is_in_flight_or_stored(server, tmp_path):
    # Three copies, at concurrency 1: the second comes up while the first is in flight, the
    # third once it is stored; the inputs look keys up per block, so the copies share one.
    (tmp_path / "in").mkdir()
    line = '{"id": "a", "text": "The council met on Tuesday and agreed the harbour budget for next year."}\n'
    other = '{"id": "b", "text": "The library opens a new wing on Monday, the mayor said at the station."}\n'
    (tmp_path / "in" / "night.jsonl").write_text(line + line + other + line)
    settings = server_settings(server, tmp_path / "p.db", concurrency=1)
    result = run_fast([str(tmp_path / "in")], settings)
    assert result.counts == {"ok": 2, "cached": 2, "failed": 0, "skipped": 0}
    assert server.stats()["paid_total"] == 2 and not server.stats()["duplicates"]


def test_a_run_analyses_every_article_with_one_paid_request_each(server, tmp_path):
    write_articles(tmp_path / "in", 12)
    settings = server_settings(server, tmp_path / "p.db")
    result = run_fast([str(tmp_path / "in")], settings)
    assert result.counts == {"ok": 12, "cached": 0, "failed": 0, "skipped": 0}
    assert result.exit_code == 0
    stats = server.stats()
    assert stats["paid_total"] == 12 and not stats["duplicates"]
    with Store(settings.db) as store:
        results = list(store.iter_results(result.run_id))
    assert all(len(stored.analysis.quotes) == 1 and not stored.analysis.rejected_quotes for stored in results)
    assert result.input_tokens > 0 and result.cost == pytest.approx(  # the fake server reports a seen system prompt as cached
        estimate_cost("gpt-4o-mini", result.input_tokens, result.output_tokens, cached_input_tokens=result.cached_input_tokens)
    )


def test_resume_after_a_partial_run_pays_only_for_the_rest(server, tmp_path):
    write_articles(tmp_path / "in", 10)
    settings = server_settings(server, tmp_path / "p.db")
    first = run_fast([str(tmp_path / "in")], settings, budget=Budget(limit=4))
    assert first.counts["ok"] == 4 and first.stopped == "limit of 4 articles reached" and first.exit_code == 0
    second = run_fast([str(tmp_path / "in")], settings)
    assert second.counts["ok"] == 6 and second.counts["cached"] == 4
    with Store(settings.db) as store:
        assert [run["status"] for run in store.runs()] == ["finished", "stopped"]
    stats = server.stats()
    assert stats["paid_total"] == 10 and not stats["duplicates"]


def test_max_cost_stops_the_run_before_the_budget_is_passed(server, tmp_path):
    write_articles(tmp_path / "in", 30)
    # Before an article has finished, each reserves its worst case: its prompt and max_tokens out.
    settings = server_settings(server, tmp_path / "p.db", concurrency=2, max_tokens=300)
    one_article = run_fast([str(write_articles(tmp_path / "probe", 1)[0])], settings)
    budget = one_article.cost * 5.5
    result = run_fast([str(tmp_path / "in")], settings, budget=Budget(max_cost=budget))
    assert 3 <= result.counts["ok"] < 30
    assert result.cost <= budget
    assert result.stopped.startswith("budget of $")
    assert result.exit_code == 0


def test_max_cost_needs_a_priced_model(server, tmp_path):
    settings = server_settings(server, tmp_path / "p.db", model="my-local-model")
    with pytest.raises(ConfigError, match="pricing.py"):
        run_fast([str(tmp_path)], settings, budget=Budget(max_cost=1.0))


def test_one_articles_failure_does_not_stop_the_others(server, tmp_path):
    write_articles(tmp_path / "in", 6)
    write_articles(tmp_path / "in", 2, marker="[[fault:http_503]]", start=100)
    write_articles(tmp_path / "in", 1, marker="[[fault:length]]", start=200)
    settings = server_settings(server, tmp_path / "p.db")
    result = run_fast([str(tmp_path / "in")], settings)
    assert result.counts["ok"] == 6 and result.counts["failed"] == 3 and result.exit_code == 1
    with Store(settings.db) as store:
        failed = sorted((o for o in store.outcomes(result.run_id) if o["status"] == "failed"), key=lambda o: o["reason"])
    assert failed[0]["reason"].startswith("answer truncated (finish_reason=length)")
    assert failed[0]["output_tokens"] > 0  # a truncated answer is paid for, and the ledger says so
    assert all(o["reason"].startswith("provider error 503") and o["input_tokens"] == 0 for o in failed[1:])


def test_rate_limited_runs_finish_with_every_article_ok(tmp_path):
    write_articles(tmp_path / "in", 20)
    with FakeServer(ServerConfig(rpm=1200)) as server:
        settings = server_settings(server, tmp_path / "p.db", concurrency=8)
        result = run_fast([str(tmp_path / "in")], settings)
        stats = server.stats()
    assert result.counts["ok"] == 20
    assert stats["paid_total"] == 20 and not stats["duplicates"]


@pytest.mark.parametrize(
    ("config", "setting"),
    [
        (ServerConfig(api_key="the-right-key"), "OPENAI_API_KEY"),
        (ServerConfig(quota_exhausted=True), "billing for OPENAI_API_KEY"),
        (ServerConfig(model="gpt-4o"), "--model"),
    ],
    ids=["bad-key", "insufficient-quota", "wrong-model"],
)
def test_a_fatal_provider_error_stops_the_run_at_once(tmp_path, config, setting):
    write_articles(tmp_path / "in", 40)
    with FakeServer(config) as server:
        settings = server_settings(server, tmp_path / "p.db", concurrency=2)
        result = run_fast([str(tmp_path / "in")], settings)
        asked = server.stats()["requests"]["chat"]
    assert result.exit_code == 2 and setting in result.fatal
    assert asked <= settings.concurrency + 1  # stopped at the first answers, not after 40 articles
    with Store(settings.db) as store:
        assert store.runs(1)[0]["status"] == "aborted"
        outcomes = store.outcomes(result.run_id)
    # Every article that was sent has its outcome and reason; none is silently dropped.
    assert 1 <= len(outcomes) <= settings.concurrency + 1
    assert all(outcome["status"] == "failed" and outcome["reason"] for outcome in outcomes)
    assert any(setting in outcome["reason"] for outcome in outcomes)


# the command line


def cli(args, **env):
    return CliRunner().invoke(app, args, env={"OPENAI_API_KEY": "test-key", **env})


def test_cli_exit_codes_0_1_2_and_the_ledger(server, tmp_path):
    write_articles(tmp_path / "good", 3)
    write_articles(tmp_path / "bad", 1, marker="[[fault:http_500]]", start=50)
    db = str(tmp_path / "p.db")
    common = ["--base-url", server.base_url, "--model", "gpt-4o-mini", "--db", db, "--max-retries", "0"]
    assert cli(["run", str(tmp_path / "good"), *common]).exit_code == 0
    failed = cli(["run", str(tmp_path / "good"), str(tmp_path / "bad"), *common])
    assert failed.exit_code == 1
    stopped = cli(["run", str(tmp_path / "good"), *common, "--limit", "-1"])
    assert stopped.exit_code == 2 and "--limit" in stopped.output
    server.config.api_key = "another-key"
    refused = cli(["run", str(tmp_path / "bad"), *common])
    assert refused.exit_code == 2 and "OPENAI_API_KEY" in refused.output
    ledger = cli(["runs", "--db", db], COLUMNS="300")
    assert ledger.exit_code == 0
    assert "est. cost" in ledger.output and "$0.0" in ledger.output and "aborted" in ledger.output


def test_progress_logs_one_line_per_n_articles_without_a_terminal():
    output = io.StringIO()
    ticks = iter(range(100))
    progress = RunProgress(Console(file=output, force_terminal=False, width=200), every=2, clock=lambda: next(ticks))
    with progress:
        for status in ("ok", "ok", "failed", "cached", "ok"):
            progress(status, "a.txt", None)
    lines = output.getvalue().splitlines()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d "
    assert len(lines) == 2
    assert re.fullmatch(stamp + re.escape("2 articles (2 ok, 0 cached, 0 failed, 0 skipped), 2.0/s"), lines[0])
    assert re.fullmatch(stamp + re.escape("4 articles (2 ok, 1 cached, 1 failed, 0 skipped), 2.0/s"), lines[1])


# cost


def test_prices_match_the_longest_model_prefix_and_unknown_models_cost_nothing_known():
    assert price_for("gpt-4o-mini-2024-07-18") == price_for("gpt-4o-mini") != price_for("gpt-4o")
    assert estimate_cost("gpt-4o", 1_000_000, 1_000_000) == pytest.approx(12.5)
    assert estimate_cost("gpt-4o", 1_000_000, 0, batch=True) == pytest.approx(1.25)
    assert estimate_cost("smollm2", 10, 10) is None


def test_the_ledger_shows_wall_time_and_unknown_cost():
    started = datetime(2026, 1, 1, tzinfo=UTC)
    row = {
        "run_id": 1,
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(seconds=90)).isoformat(),
        "status": "finished",
        "engine": "llm",
        "model": "smollm2",
        "ok": 1,
        "cached": 0,
        "failed": 0,
        "skipped": 0,
        "requests": 1,
        "input_tokens": 10,
        "output_tokens": 5,
    }
    output = io.StringIO()
    Console(file=output, width=300).print(runs_table([row]))
    assert "90.0s" in output.getvalue() and "unknown" in output.getvalue()


def test_budget_counts_what_is_reserved_for_articles_in_flight():
    budget = Budget(max_cost=1.0)
    assert budget.stop_reason(4, reserved=0.5, spent=0.4) is None
    assert budget.stop_reason(4, reserved=0.7, spent=0.4).startswith("budget of $1.0000")
    assert Budget(limit=4).stop_reason(4, reserved=0.0, spent=0.4) == "limit of 4 articles reached"
