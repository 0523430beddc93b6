"""Estimated cost of a run from its token counts and a price table for common models.

Prices are USD per million tokens (input, output), standard tier, as published on
openai.com/api/pricing **as of 2025-06**; providers change them, so costs shown
are estimates and the table is the one place to update. A model not in the table
(a local server, a fine-tune, a new release) has an unknown cost, shown as such,
never as a guess. The Batch API bills half the standard price.

``run_cost`` is the one place a run's cost is computed: ``pipeline runs``, the
morning report and ``--max-cost`` all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .models import Usage

__all__ = ["Price", "PRICES", "BATCH_DISCOUNT", "BATCH_ENGINE", "OFFLINE_ENGINE", "price_for", "estimate_cost", "run_cost", "ledger_cost"]


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float


# Longest matching prefix wins, so dated snapshots (gpt-4o-mini-2024-07-18) find their family.
PRICES: dict[str, Price] = {
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4-turbo": Price(10.00, 30.00),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "o1": Price(15.00, 60.00),
    "o1-mini": Price(1.10, 4.40),
    "o3": Price(2.00, 8.00),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
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


def estimate_cost(model: str, input_tokens: int, output_tokens: int, *, batch: bool = False) -> float | None:
    """Estimated USD for the tokens, None when the model's price is unknown."""
    price = price_for(model)
    if price is None:
        return None
    cost = (input_tokens * price.input_per_million + output_tokens * price.output_per_million) / 1_000_000
    return cost * BATCH_DISCOUNT if batch else cost


def run_cost(engine: str, model: str, usage: Usage) -> float | None:
    """Estimated USD of a run (or of any tokens) under ``engine``: nothing offline, the
    Batch API's discount for collected batches, None when the model's price is unknown."""
    if engine == OFFLINE_ENGINE:
        return 0.0
    # Tokens priced differently (cached input) are priced here, from fields of ``usage``.
    return estimate_cost(model, usage.input_tokens, usage.output_tokens, batch=engine == BATCH_ENGINE)


def ledger_cost(run: Mapping[str, Any]) -> float | None:
    """``run_cost`` of one line of the store's ``runs`` ledger."""
    usage = Usage(**{name: run.get(name) or 0 for name in Usage.model_fields})
    return run_cost(run["engine"], run["model"], usage)
