"""One thing that would stop or spoil an export, with what to do about it and who can (readiness, project fit)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.errors import WhoCanFix


@dataclass(frozen=True)
class Check:
    """One readiness problem: `blocking` stops the export, a warning only informs."""

    code: str
    blocking: bool
    message: str
    todo: str
    who_can_fix: str = WhoCanFix.SPEC_AUTHOR.value
    tickets: list[str] = field(default_factory=list)
