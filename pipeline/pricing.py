"""Estimated cost of a run from its token counts and a price table for common models.

Prices are USD per million tokens (input, cached input, output), standard tier, as
published on openai.com/api/pricing **as of 2025-06**; providers change them, so
costs shown are estimates and the table is the one place to update. Cached input
is what the provider reports in ``usage.prompt_tokens_details.cached_tokens`` (a
prompt prefix it has seen recently); a model without prompt caching lists its
input price there. A model not in the table (a local server, a fine-tune, a new
release) has an unknown cost, shown as such, never as a guess. The Batch API bills
half the standard price, but only the batch's own answers: a re-ask made while
collecting goes out live and is priced live.

``run_cost`` is the one place a run's cost is computed: ``pipeline runs``, the
morning report and ``--max-cost`` all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.models import Usage

__all__ = [
    "Price",
    "PRICES",
    "BATCH_DISCOUNT",
    "BATCH_ENGINE",
    "OFFLINE_ENGINE",
    "price_for",
    "estimate_cost",
    "run_cost",
    "ledger_cost",
]


@dataclass(frozen=True)
class Price:
    input_per_million: float
    cached_input_per_million: float
    output_per_million: float


# Longest matching prefix wins, so dated snapshots (gpt-4o-mini-2024-07-18) find their family.
PRICES: dict[str, Price] = {
    "gpt-4o": Price(2.50, 1.25, 10.00),
    "gpt-4o-mini": Price(0.15, 0.075, 0.60),
    "gpt-4.1": Price(2.00, 0.50, 8.00),
    "gpt-4.1-mini": Price(0.40, 0.10, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.025, 0.40),
    "gpt-4-turbo": Price(10.00, 10.00, 30.00),
    "gpt-3.5-turbo": Price(0.50, 0.50, 1.50),
    "o1": Price(15.00, 7.50, 60.00),
    "o1-mini": Price(1.10, 0.55, 4.40),
    "o3": Price(2.00, 0.50, 8.00),
    "o3-mini": Price(1.10, 0.55, 4.40),
    "o4-mini": Price(1.10, 0.275, 4.40),
}
BATCH_DISCOUNT = 0.5
# The engine names a run carries in the ledger that decide its price.
BATCH_ENGINE = "llm-batch"
OFFLINE_ENGINE = "offline"


def price_for(model: str) -> Price | None:
    """The price of ``model`` (or of the longest known prefix of it), None when unknown."""
    name = model.lower().removeprefix("openai/")
    matches = [prefix for prefix in PRICES if name == prefix or name.startswith(prefix + "-")]
    return PRICES[max(matches, key=len)] if matches else None


def estimate_cost(
    model: str, input_tokens: int, output_tokens: int, *, cached_input_tokens: int = 0, batch: bool = False
) -> float | None:
    """Estimated USD for the tokens (``cached_input_tokens`` of ``input_tokens`` at the
    cached price), None when the model's price is unknown."""
    price = price_for(model)
    if price is None:
        return None
    cached = min(cached_input_tokens, input_tokens)
    cost = (
        (input_tokens - cached) * price.input_per_million
        + cached * price.cached_input_per_million
        + output_tokens * price.output_per_million
    ) / 1_000_000
    return cost * BATCH_DISCOUNT if batch else cost


def run_cost(engine: str, model: str, usage: Usage) -> float | None:
    """Estimated USD of a run (or of any tokens) under ``engine``: nothing offline, the
    Batch API's discount for collected batches, cached input at the cached price, None
    when the model's price is unknown. A re-ask made while collecting a batch is live:
    its caller prices it under the live engine."""
    if engine == OFFLINE_ENGINE:
        return 0.0
    return estimate_cost(
        model,
        usage.input_tokens,
        usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        batch=engine == BATCH_ENGINE,
    )


def ledger_cost(run: Mapping[str, Any]) -> float | None:
    """``run_cost`` of one line of the store's ``runs`` ledger: the costs its outcomes were
    priced at when paid (``priced_cost``), plus ``run_cost`` of the tokens of outcomes
    recorded before costs were (a line without ``priced_cost``: all its tokens); None when
    a price is unknown."""
    if "priced_cost" in run:
        unpriced = Usage(
            requests=0, input_tokens=run.get("unpriced_input_tokens") or 0, output_tokens=run.get("unpriced_output_tokens") or 0
        )
    else:
        unpriced = Usage(**{name: run.get(name) or 0 for name in Usage.model_fields})
    estimate = run_cost(run["engine"], run["model"], unpriced)
    return None if estimate is None else (run.get("priced_cost") or 0.0) + estimate
