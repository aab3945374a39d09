"""How the benchmarks print a figure over their runs."""

from __future__ import annotations

import statistics


def spread(values: list[float]) -> str:
    return f"min {min(values):.2f} / median {statistics.median(values):.2f} / max {max(values):.2f}"
