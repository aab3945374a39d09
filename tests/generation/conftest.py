"""Fixtures for the generation tests: the UWEC intake, drafts and an offline generation run, computed once."""

from __future__ import annotations

import asyncio

import pytest

from app.generation import DraftSet, GenerationResult, draft_tickets, generate_tickets
from app.intake import IntakeResult
from tests.generation.helpers import intake, uwec_uploads


@pytest.fixture(scope="session")
def uwec_intake() -> IntakeResult:
    return intake(uwec_uploads())


@pytest.fixture(scope="session")
def uwec_drafts(uwec_intake: IntakeResult) -> DraftSet:
    return draft_tickets(uwec_intake)


@pytest.fixture(scope="session")
def uwec_result(uwec_intake: IntakeResult) -> GenerationResult:
    # Session-scoped and synchronous: an anyio fixture cannot be shared across tests; async paths have own tests.
    return asyncio.run(generate_tickets(uwec_intake))


@pytest.fixture(scope="session")
def uwec_tickets(uwec_result: GenerationResult) -> dict[str, object]:
    return {ticket.key: ticket for ticket in uwec_result.tickets}
