"""Red team, cause 4: every rate-limit wait is capped and every header parsed defensively.

The provider here is an in-process httpx transport that answers a scripted sequence of
responses; sleeps are recorded, not slept, so each case shows every wait the run would make.
"""

import asyncio
import json
import logging
import math
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import instructor
import openai
import pytest
from support.fakes import FakeClock, chat_completion

from pipeline.models import Article
from pipeline.engines.ratelimit import (
    LOGGED_WAIT_SECONDS,
    MAX_WAIT_SECONDS,
    AdaptiveLimiter,
    parse_reset_seconds,
    parse_retry_after,
)
from pipeline.engines import make_engine
from pipeline.settings import Engine, Settings

pytestmark = pytest.mark.cause(4)

ARTICLE = Article(
    article_id="a" * 64,
    text='The council said "the bridge opens in May" on Tuesday.',
    title=None,
    url=None,
    published=None,
    source_path="in/a.txt",
    record_id=None,
)


def _engine(responses: list[tuple[int, dict[str, str]]], clock: FakeClock):
    """An LLM engine whose provider answers ``responses`` (status, headers) in turn, then 200s."""
    script = list(responses)

    def answer(request: httpx.Request) -> httpx.Response:
        status, headers = script.pop(0) if script else (200, {})
        if status == 200:
            completion, _fence = chat_completion(json.loads(request.content), None)
            return httpx.Response(200, json=completion, headers=headers)
        error = {"error": {"message": "slow down", "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
        return httpx.Response(status, json=error, headers=headers)

    settings = Settings(
        engine=Engine.llm, base_url="http://provider.test/v1", api_key="k", model="gpt-4o-mini", concurrency=2, max_retries=3
    ).validated()
    limiter = AdaptiveLimiter(settings.concurrency, clock=clock, sleep=clock.sleep)

    async def observe(response: httpx.Response) -> None:
        limiter.observe_headers(response.headers)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer), event_hooks={"response": [observe]})
    raw = openai.AsyncOpenAI(base_url=settings.base_url, api_key="k", max_retries=0, http_client=http)
    client = instructor.from_openai(raw, mode=instructor.Mode.TOOLS)
    return make_engine(settings, client=client, sleep=clock.sleep, limiter=limiter)


def _http_date(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%a, %d %b %Y %H:%M:%S GMT")


RETRY_AFTER_HEADERS = [
    {"retry-after": "300"},
    {"retry-after": "inf"},
    {"retry-after": "Infinity"},
    {"retry-after": "nan"},
    {"retry-after": "-30"},
    {"retry-after": "1e999"},
    {"retry-after": "86400.5"},
    {"retry-after": _http_date(timedelta(hours=3))},
    {"retry-after": _http_date(timedelta(days=-2))},
    {"retry-after": "Tuesday-ish, when the moon is full"},
    {"retry-after": "   "},
    {"retry-after-ms": "7200000"},
    {"retry-after-ms": "NaN", "retry-after": "900"},
    {"retry-after-ms": "-inf"},
]


@pytest.mark.parametrize("headers", RETRY_AFTER_HEADERS, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
def test_redteam_ratelimit_a_429_never_waits_past_the_cap(headers, caplog):
    clock = FakeClock()
    engine = _engine([(429, headers), (429, headers)], clock)
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        [answer] = asyncio.run(engine.analyse(ARTICLE))
    assert answer.verdict.label.value == "news"
    assert clock.slept, "a 429 makes the run wait"
    assert all(math.isfinite(wait) and 0 <= wait <= MAX_WAIT_SECONDS for wait in clock.slept), clock.slept
    if max(clock.slept) >= LOGGED_WAIT_SECONDS:
        assert any("waits" in record.getMessage() and "rate limited" in record.getMessage() for record in caplog.records), (
            "the log says why the run waits"
        )


RESET_HEADERS = [
    ("tokens", "2h"),
    ("tokens", "1m30s"),
    ("tokens", "99999h"),
    ("tokens", "inf"),
    ("tokens", "∞"),
    ("tokens", "garbage"),
    ("tokens", "1h 2m"),
    ("tokens", "-5s"),
    ("requests", "3h"),
    ("requests", "nan"),
]


@pytest.mark.parametrize(("kind", "reset"), RESET_HEADERS, ids=[f"{kind}={reset}" for kind, reset in RESET_HEADERS])
def test_redteam_ratelimit_a_spent_quota_holds_the_next_article_at_most_the_cap(kind, reset, caplog):
    clock = FakeClock()
    headers = {f"x-ratelimit-limit-{kind}": "1", f"x-ratelimit-remaining-{kind}": "0", f"x-ratelimit-reset-{kind}": reset}
    engine = _engine([(200, headers)], clock)

    async def two_articles():
        await engine.analyse(ARTICLE)
        return await engine.analyse(ARTICLE)

    with caplog.at_level(logging.WARNING, logger="pipeline"):
        asyncio.run(two_articles())
    assert all(math.isfinite(wait) and 0 <= wait <= MAX_WAIT_SECONDS for wait in clock.slept), clock.slept
    seconds = parse_reset_seconds(reset)
    if seconds is not None and seconds > 1:
        assert clock.slept, "a spent quota holds the next request"
        said = " ".join(record.getMessage() for record in caplog.records)
        assert f"x-ratelimit-remaining-{kind} is 0" in said
        assert "capped" in said or seconds <= MAX_WAIT_SECONDS


def test_redteam_ratelimit_headers_parse_to_finite_non_negative_seconds_or_nothing():
    now = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after({"retry-after": "Tue, 01 Dec 2026 09:00:45 GMT"}, now=lambda: now) == 45
    assert parse_retry_after({"retry-after": "Tue, 01 Dec 2026 08:00:00 GMT"}, now=lambda: now) == 0
    assert parse_retry_after({"retry-after": "12"}) == 12
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "9"}) == 9
    for value in ("nan", "NaN", "", "tomorrow", "12 seconds", "0x1f"):
        assert parse_retry_after({"retry-after": value}) is None, value
    assert parse_retry_after({"retry-after": "-4"}) == 0
    assert parse_reset_seconds("1m30s") == 90 and parse_reset_seconds("2h") == 7200
    assert parse_reset_seconds("nan") is None and parse_reset_seconds("1h and a bit") is None
