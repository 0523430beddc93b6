"""Where a run stops cleanly: an article limit, or a cost ceiling with what the articles in
flight may still cost held back, so a run stops before, not after, it overshoots."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.errors import ConfigError
from pipeline.models import Usage
from pipeline.pricing import run_cost

__all__ = ["Budget", "CostReservations"]


@dataclass(frozen=True)
class Budget:
    """Where a run stops cleanly: after ``limit`` articles sent to the engine, or at ``max_cost`` USD."""

    limit: int | None = None
    max_cost: float | None = None

    def check(self, engine: str, model: str) -> Budget:
        """Raise ConfigError when the budget cannot be enforced for this engine and model."""
        if self.limit is not None and self.limit < 0:
            raise ConfigError("--limit must be 0 or more")
        if self.max_cost is not None and self.max_cost < 0:
            raise ConfigError("--max-cost must be 0 or more")
        if self.max_cost is not None and run_cost(engine, model, Usage(requests=0, input_tokens=0, output_tokens=0)) is None:
            raise ConfigError(f"--max-cost needs a known price for model {model!r}: add it to pipeline/pricing.py")
        return self

    def stop_reason(self, sent: int, reserved: float, spent: float | None) -> str | None:
        """Why no further article may start, or None.

        ``spent`` is the run's estimated cost so far (None: unknown); ``reserved`` what the
        articles in flight and the next one may cost (``CostReservations``).
        """
        if self.limit is not None and sent >= self.limit:
            return f"limit of {self.limit} articles reached"
        if self.max_cost is not None and spent is not None and spent + reserved > self.max_cost:
            return (
                f"budget of ${self.max_cost:.4f} reached (spent ~${spent:.4f}, "
                f"~${reserved:.4f} held for articles in flight and the next one)"
            )
        return None


class CostReservations:
    """What the articles in flight may still cost: each reserves an estimate before it starts.

    Until an article has finished, the estimate is the worst case of one request (its
    prompt, about three characters a token, and ``max_tokens`` out); after, the
    largest article cost seen, or the same prompt estimate with the largest answer
    seen, whichever is more. A finished article's actual cost replaces its reservation.
    """

    def __init__(self, engine: str, model: str, max_tokens: int):
        self.engine = engine
        self.model = model
        self.max_tokens = max_tokens
        self.held: dict[str, float] = {}
        self.largest_cost = 0.0
        self.largest_output: int | None = None

    def estimate(self, prompt_chars: int) -> float:
        output = self.max_tokens if self.largest_output is None else self.largest_output
        worst = Usage(requests=1, input_tokens=prompt_chars // 3 + 1, output_tokens=output)
        return max(run_cost(self.engine, self.model, worst) or 0.0, self.largest_cost)

    def hold(self, key: str, amount: float) -> None:
        self.held[key] = amount

    def settle(self, key: str, usages: Iterable[Usage]) -> None:
        """Release the article's reservation; learn from what it actually cost."""
        self.held.pop(key, None)
        spent = sum(usages, Usage(requests=0, input_tokens=0, output_tokens=0))
        if spent.requests:
            self.largest_cost = max(self.largest_cost, run_cost(self.engine, self.model, spent) or 0.0)
            self.largest_output = max(self.largest_output or 0, spent.output_tokens)

    @property
    def total(self) -> float:
        return sum(self.held.values())
