"""Issue 12's measure (tests/bench/bench_ticket_quality.py) on the UWEC sample: the numbers the closing note gives."""

from __future__ import annotations

import pytest

from app.generation import DraftSet, GenerationResult
from tests.bench.bench_ticket_quality import measure

pytestmark = [pytest.mark.unit, pytest.mark.generation]


def test_every_field_row_is_inline_no_criterion_is_generic_and_every_description_fits(
    uwec_drafts: DraftSet, uwec_result: GenerationResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert measure(uwec_result, {d.key: d for d in uwec_drafts.drafts}) is True
    printed = capsys.readouterr().out
    assert "Tickets: 109" in printed
    assert "Field rows with label, machine name and type inline: 484/484 = 100.0%" in printed
    assert "Generic criteria (10 phrases): 0" in printed
    assert "Descriptions invalid ADF: 0; over 32,767 characters: 0" in printed
    # Personas come from the data: more than the kinds' defaults (a marketing editor, from the access notes).
    assert "a marketing editor 6" in printed
