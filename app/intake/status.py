"""The status mapping: what an `X` cell asks for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from app.intake.model import Action

# The Drupal Spec Tool legend: a approved, c changed, w wait, d delete, x implemented already, blank undecided.
SPEC_TOOL_LEGEND: Mapping[str, Action] = MappingProxyType(
    {"a": Action.BUILD, "c": Action.CHANGE, "w": Action.HOLD, "d": Action.REMOVE, "x": Action.NONE, "": Action.NONE}
)


@dataclass(frozen=True)
class StatusMapping:
    """Status code -> action, matched case-insensitively after trimming; configurable per site."""

    actions: Mapping[str, Action] = field(default_factory=lambda: SPEC_TOOL_LEGEND)

    def action_for(self, status: str) -> Action | None:
        """The action for a raw status cell, or None when the code is unknown."""
        return self._normalised.get(status.strip().lower())

    @property
    def codes(self) -> list[str]:
        return sorted(code for code in self._normalised if code)

    @cached_property
    def _normalised(self) -> dict[str, Action]:
        return {code.strip().lower(): Action(action) for code, action in self.actions.items()}

    def to_dict(self) -> dict[str, str]:
        return {code: str(action) for code, action in self.actions.items()}
