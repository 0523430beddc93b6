"""Identical servers behind one engine: each with its own client, limiter and health.

A request goes to the healthy endpoint with the most free slots under its own limit
(ties to the one picked least), so a fleet of vLLM replicas shares the work by what
each can take. An endpoint whose request failed with a transient error (dropped
connection, timeout, 5xx) is left out for a while — one second, doubling with each
further failure, at most a minute — and its retry goes to another; a success brings
it back. With every endpoint out, the one due back first is tried. Which replica
answered is not part of the cache key: the fleet serves one model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Endpoint", "Fleet"]

_FIRST_PAUSE = 1.0
_LONGEST_PAUSE = 60.0


@dataclass
class Endpoint:
    """One server: ``url`` (None: the SDK's default), its client and its limiter."""

    url: str | None
    client: Any
    limiter: Any
    failures: int = 0
    out_until: float = 0.0
    picked: int = 0


class Fleet:
    """Picks an endpoint per request and keeps each one's health."""

    def __init__(self, endpoints: Sequence[Endpoint], clock: Callable[[], float] = time.monotonic):
        if not endpoints:
            raise ValueError("a fleet needs at least one endpoint")
        self.endpoints = list(endpoints)
        self._clock = clock

    def pick(self) -> Endpoint:
        now = self._clock()
        healthy = [endpoint for endpoint in self.endpoints if endpoint.out_until <= now]
        if not healthy:
            healthy = [min(self.endpoints, key=lambda endpoint: endpoint.out_until)]
        chosen = max(healthy, key=lambda endpoint: (int(endpoint.limiter.limit) - endpoint.limiter.in_flight, -endpoint.picked))
        chosen.picked += 1
        return chosen

    def failed(self, endpoint: Endpoint) -> None:
        """A transient failure at ``endpoint``: leave it out for a while, longer each time."""
        endpoint.failures += 1
        pause = min(_LONGEST_PAUSE, _FIRST_PAUSE * 2 ** (endpoint.failures - 1))
        endpoint.out_until = self._clock() + pause

    def succeeded(self, endpoint: Endpoint) -> None:
        endpoint.failures = 0
        endpoint.out_until = 0.0
