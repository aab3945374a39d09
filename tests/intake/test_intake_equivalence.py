"""Property: the same spec written another way (columns shuffled, headers renamed by synonyms, another encoding or
delimiter) gives the same model and the same findings."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.intake import IntakeResult, UploadedFile, intake_files
from app.intake.columns import kind_columns, map_headers, normalise_header
from app.intake.model import SpecKind

pytestmark = [pytest.mark.unit, pytest.mark.intake, pytest.mark.slow]

FILES = {
    "UWEC_Bundles.csv": SpecKind.BUNDLES,
    "UWEC_Fields.csv": SpecKind.FIELDS,
    "UWEC_CustomViews.csv": SpecKind.VIEWS,
    "UWEC_CustomViewsDisplays.csv": SpecKind.VIEW_DISPLAYS,
}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]


def _unique_synonyms(kind: SpecKind) -> dict[str, list[str]]:
    """Role -> the synonyms no other column of the kind also answers to (renaming to one cannot steal a column)."""
    columns = kind_columns(kind)
    owners: dict[str, set[str]] = {}
    for column in columns:
        for synonym in column.synonyms:
            owners.setdefault(synonym, set()).add(column.role)
    return {c.role: [s for s in c.synonyms if owners[s] == {c.role}] for c in columns}


def rewrite(kit, name: str, seed: int, encoding: str, delimiter: str) -> bytes:
    """The file with its columns in a random order and each known header replaced by a random synonym."""
    chooser = random.Random(seed)
    header, *rows = kit.uwec_rows(name)
    roles, _ = map_headers(FILES[name], tuple(header))
    synonyms = _unique_synonyms(FILES[name])
    renamed = list(header)
    for role, index in roles.items():
        choices = synonyms.get(role) or [normalise_header(header[index])]
        pick = chooser.choice(choices)
        renamed[index] = chooser.choice([pick, pick.upper(), pick.title(), f" {pick} "])
    order = list(range(len(header)))
    chooser.shuffle(order)
    table = [[row[i] if i < len(row) else "" for i in order] for row in [renamed, *rows]]
    text = kit.csv_bytes(table, delimiter=delimiter).decode("utf-8")
    return text.encode(encoding, errors="strict")


def _model(result: IntakeResult) -> dict[str, object]:
    # Items compare on every normalised attribute and their source (file, record, line); the verbatim `cells`,
    # keyed by the renamed headers, are left out of the comparison by the model itself.
    return {name: getattr(result.model, name) for name in result.model.counts()}


def _findings(result: IntakeResult) -> list[tuple[str, str, int, str]]:
    return sorted((str(f.code), f.file, f.record, f.value) for f in result.findings if f.code != "encoding_detected")


@pytest.fixture(scope="module")
def original(kit) -> IntakeResult:
    return intake_files([UploadedFile(name, kit.uwec_bytes(name)) for name in FILES])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seeds=st.lists(st.integers(0, 10**6), min_size=len(FILES), max_size=len(FILES)),
    encoding=st.sampled_from(ENCODINGS),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_shuffled_renamed_reencoded_spec_gives_the_same_model(kit, original, seeds, encoding, delimiter):
    files = [
        UploadedFile(name, rewrite(kit, name, seed, encoding, delimiter))
        for name, seed in zip(FILES, seeds, strict=True)
    ]
    result = intake_files(files)
    assert [f.kind for f in result.files] == list(FILES.values())
    assert _model(result) == _model(original)
    assert _findings(result) == _findings(original)
