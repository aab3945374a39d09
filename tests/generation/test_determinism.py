"""Same spec, same tickets: keys come from scoped identities, never from row numbers or order."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.generation import GenerationResult, draft_tickets, generate_tickets
from tests.generation.helpers import intake, rewrite, uwec_uploads

pytestmark = [pytest.mark.unit, pytest.mark.generation]


def test_two_runs_give_identical_json(uwec_result: GenerationResult) -> None:
    again = asyncio.run(generate_tickets(intake(uwec_uploads())))
    assert json.dumps(again.to_dict(), sort_keys=True) == json.dumps(uwec_result.to_dict(), sort_keys=True)


def _keys_and_links(uploads: list) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {d.key: (d.blocked_by, d.relates_to) for d in draft_tickets(intake(uploads)).drafts}


def test_keys_and_links_survive_reordered_rows(uwec_result: GenerationResult) -> None:
    reordered = [rewrite(u, lambda records: records[::-1]) for u in uwec_uploads()]
    expected = {t.key: (t.blocked_by, t.relates_to) for t in uwec_result.tickets}
    assert _keys_and_links(reordered) == expected


def test_keys_survive_unrelated_new_rows(uwec_result: GenerationResult) -> None:
    def add(upload):  # type: ignore[no-untyped-def]
        if upload.name == "UWEC_Bundles.csv":
            row = ["", "Newcomer", "newcomer", "a", "", "", "New.", "", "", "", "", "", "", "", "Content type", "", ""]
            return rewrite(upload, lambda records: [row, *records])
        if upload.name == "UWEC_CustomViews.csv":
            return rewrite(
                upload, lambda records: [*records, ["", "Extra", "extra", "a", "", "", "Content", "", "", ""]]
            )
        return upload

    keys = set(_keys_and_links([add(u) for u in uwec_uploads()]))
    assert keys - {t.key for t in uwec_result.tickets} == {"bundle.node.newcomer.build", "view.extra.build"}
    assert {t.key for t in uwec_result.tickets} <= keys
