"""Ticket generation: an intake result -> one ticket per deliverable unit, with ADF descriptions and links.

Public API::

    drafts = draft_tickets(intake, existing_site=False)  # DraftSet: .drafts, .findings, .cycles (pure, synchronous)
    ticket = finish_ticket(draft, prose)           # description = f(draft, prose); attachments when oversize
    result = await generate_tickets(intake, writer=None, site_name="", site_description="", concurrency=8,
                                    on_ticket=None, is_cancelled=None, existing_site=False)
    result.tickets, result.findings, result.usage, result.cycles, result.not_written, result.to_dict()
    topological_order(result.tickets)              # keys, blockers first; always succeeds for a result
    validate_adf(document) -> list[str]            # schema violations; empty when valid

Keys are scoped identities ("bundle.node.academic_program.build"), never row numbers, so a re-run of the same spec
matches earlier tickets. `dtg generate` lives in app.generation.command, which only app/cli.py
loads, so importing the library never loads click or a language-model SDK.
"""

from __future__ import annotations

from app.adf import MAX_DESCRIPTION
from app.generation.adf import validate as validate_adf
from app.generation.dependencies import TicketCycle, topological_order
from app.generation.generate import (
    DraftSet,
    GenerationBlockedError,
    GenerationResult,
    draft_tickets,
    finish_from_result,
    finish_ticket,
    generate_tickets,
)
from app.generation.tables import Cell, Table
from app.generation.tickets import Attachment, Ticket, TicketDraft

__all__ = [
    "MAX_DESCRIPTION",
    "Attachment",
    "Cell",
    "DraftSet",
    "GenerationBlockedError",
    "GenerationResult",
    "Table",
    "Ticket",
    "TicketCycle",
    "TicketDraft",
    "draft_tickets",
    "finish_from_result",
    "finish_ticket",
    "generate_tickets",
    "topological_order",
    "validate_adf",
]
