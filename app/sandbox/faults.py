"""Injected faults of the REST API: errors, hangs, latency, and the issue created but its answer lost.

The RNG is seedable so a test with `seed=…` sees the same faults on every run.
"""

from __future__ import annotations

import random
from enum import StrEnum
from typing import Any

from app.sandbox.config import FaultConfig


class Fault(StrEnum):
    ERROR = "error"
    TIMEOUT = "timeout"
    DROP_AFTER_CREATE = "drop_after_create"


ERROR_STATUSES = (500, 502, 503)


class FaultInjector:
    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)

    def configure(self, values: dict[str, Any]) -> None:
        """Change settings at run time; a new `seed` restarts the RNG so the sequence is reproducible.

        Raises:
            ValueError: an unknown setting or a rate outside 0..1.
        """
        self.config.update(values)
        if "seed" in values:
            self._rng = random.Random(self.config.seed)

    def draw(self, *, creates_issues: bool) -> Fault | None:
        """At most one fault for this request; `drop_after_create` only for calls that create issues."""
        roll = self._rng.random()
        thresholds = [(Fault.ERROR, self.config.error_rate), (Fault.TIMEOUT, self.config.timeout_rate)]
        if creates_issues:
            thresholds.append((Fault.DROP_AFTER_CREATE, self.config.drop_after_create_rate))
        for fault, rate in thresholds:
            if roll < rate:
                return fault
            roll -= rate
        return None

    def error_status(self) -> int:
        return self._rng.choice(ERROR_STATUSES)
