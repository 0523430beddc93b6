"""Adaptive request concurrency: slow down when the provider pushes back, speed up after.

The limit on requests in flight follows AIMD: each success adds ``1/limit`` (about
one more slot per round of requests), each 429 halves it — once per round, since
the requests already in flight when the cut happened were sent under the old
limit and their 429s say nothing new. A ``Retry-After`` pauses every new request
until it has passed, and ``x-ratelimit-remaining-*`` at zero pauses new requests
for about one slot's refill time (the reset time spread over the spent quota).

This module only decides *when* a request may start; retrying is tenacity's job
in ``pipeline.engines.openai_client``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = [
    "MAX_WAIT_SECONDS",
    "LOGGED_WAIT_SECONDS",
    "AdaptiveLimiter",
    "capped_wait",
    "parse_reset_seconds",
    "parse_retry_after",
]

MAX_WAIT_SECONDS = 120.0
"""The longest any wait may be, whatever a provider's header says (README: at most 120 s)."""

LOGGED_WAIT_SECONDS = 1.0
"""Waits this long or longer are logged with their reason; shorter ones are a provider's normal pacing."""
LOG = logging.getLogger(__name__)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_RATE_LIMIT_KINDS = ("requests", "tokens")


def _seconds(number: float) -> float | None:
    """A parsed wait: never negative or NaN; infinite stays infinite, for the cap to bound."""
    if math.isnan(number):
        return None
    return max(number, 0.0)


def parse_reset_seconds(value: str) -> float | None:
    """Seconds in an ``x-ratelimit-reset-*`` value: ``20ms``, ``1.5s``, ``6m0s``, ``1h2m3s`` or a bare
    number; None for anything else. Not capped: see ``capped_wait``."""
    value = "".join(value.split()).lower()
    try:
        return _seconds(float(value))
    except ValueError:
        pass
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        return None
    return _seconds(sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts))


def parse_retry_after(headers: Mapping[str, str], now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float | None:
    """Seconds a 429/5xx asks to wait: ``retry-after-ms``, else ``Retry-After`` as seconds or an
    HTTP date; None when neither says anything readable. Not capped: see ``capped_wait``."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            seconds = _seconds(float(milliseconds.strip()) / 1000.0)
        except ValueError:
            seconds = None
        if seconds is not None:
            return seconds
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return _seconds(float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT even when it forgets to say so
        when = when.replace(tzinfo=UTC)
    return max((when - now()).total_seconds(), 0.0)


def capped_wait(seconds: float) -> float:
    """``seconds`` bounded by ``MAX_WAIT_SECONDS``; the one place every wait is capped."""
    return min(seconds, MAX_WAIT_SECONDS)


def _describe(seconds: float) -> str:
    capped = capped_wait(seconds)
    return f"{capped:.1f} s" + (f" (asked {seconds:g} s, capped at {MAX_WAIT_SECONDS:g} s)" if capped < seconds else "")


class AdaptiveLimiter:
    """Bounds requests in flight between ``minimum`` and ``maximum``, adapting to 429s."""

    def __init__(
        self,
        maximum: int,
        minimum: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ):
        self.maximum = maximum
        self.minimum = min(minimum, maximum)
        self.limit = float(maximum)
        self.in_flight = 0
        self.resume_at = 0.0
        self._clock = clock
        self._sleep = sleep
        self._started = 0
        self._last_cut_at_start = -1
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> int:
        """Wait for a slot; returns a ticket for ``rate_limited``."""
        while True:
            pause = self.resume_at - self._clock()
            if pause > 0:
                await self._sleep(pause)
                continue
            if self.in_flight < int(self.limit):
                self.in_flight += 1
                self._started += 1
                return self._started
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def succeeded(self) -> None:
        self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)
        self._wake()

    def rate_limited(self, ticket: int, retry_after: float | None) -> None:
        """A 429 for the request holding ``ticket``: halve the limit once per round, honour the pause."""
        if ticket > self._last_cut_at_start:
            self.limit = max(float(self.minimum), self.limit / 2)
            self._last_cut_at_start = self._started
        if retry_after:
            self.pause(retry_after, "the provider answered 429 with Retry-After")

    def pause(self, seconds: float, why: str) -> None:
        """Hold every new request for ``seconds`` (capped), logging why when the pause grows."""
        resume_at = self._clock() + capped_wait(seconds)
        if capped_wait(seconds) >= LOGGED_WAIT_SECONDS and resume_at > self.resume_at + LOGGED_WAIT_SECONDS:
            LOG.warning("new requests wait %s: %s", _describe(seconds), why)
        self.resume_at = max(self.resume_at, resume_at)

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Pause new requests when a ``x-ratelimit-remaining-*`` quota is spent."""
        for kind in _RATE_LIMIT_KINDS:
            remaining = headers.get(f"x-ratelimit-remaining-{kind}")
            reset = headers.get(f"x-ratelimit-reset-{kind}")
            if remaining is None or reset is None or remaining.strip() != "0":
                continue
            seconds = parse_reset_seconds(reset)
            if seconds is None:
                continue
            try:
                quota = max(1, int(headers.get(f"x-ratelimit-limit-{kind}", "1")))
            except ValueError:
                quota = 1
            # The reset time is for the whole quota to refill; one request needs one slot's share.
            self.pause(
                seconds / quota if kind == "requests" else seconds,
                f"x-ratelimit-remaining-{kind} is 0 (x-ratelimit-reset-{kind}: {reset.strip()[:40]})",
            )

    def _wake(self) -> None:
        free = int(self.limit) - self.in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1
