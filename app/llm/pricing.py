"""What a model's tokens cost, from a small table of list prices in USD per million tokens."""

from __future__ import annotations

import math

from app.llm.base import Usage

CHARS_PER_TOKEN = 4

# (input, output) USD per million tokens, vendors' list prices as of late 2025; update here when they change.
# Dated snapshots ("gpt-4o-mini-2024-07-18", "claude-sonnet-4-5-20250929") match the longest prefix below.
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "offline": (0.0, 0.0),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "o4-mini": (1.10, 4.40),
    "claude-opus-4": (15.00, 75.00),
    "claude-opus-4-5": (5.00, 25.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-7-sonnet": (3.00, 15.00),
}


def approx_tokens(text: str) -> int:
    """The usual rule of thumb for English text: about four characters per token."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def price_of(model: str) -> tuple[float, float] | None:
    """The (input, output) price per million tokens of `model`, or None when we do not know it."""
    matches = [prefix for prefix in PRICES_PER_MILLION if model == prefix or model.startswith(prefix + "-")]
    return PRICES_PER_MILLION[max(matches, key=len)] if matches else None


def usage_for(model: str, input_tokens: int, output_tokens: int) -> Usage:
    """Price a call; an unknown model costs 0 (see `pricing_note`)."""
    input_price, output_price = price_of(model) or (0.0, 0.0)
    return Usage(input_tokens, output_tokens, (input_tokens * input_price + output_tokens * output_price) / 1e6)


def pricing_note(models: set[str]) -> str | None:
    """A sentence to show beside a cost when some model's price is unknown, so $0 is not read as free."""
    unknown = sorted(model for model in models if price_of(model) is None)
    if not unknown:
        return None
    return f"No price is known for {', '.join(unknown)}; its cost is counted as $0."
