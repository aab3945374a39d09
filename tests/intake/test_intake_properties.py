"""Property-based: arbitrary bytes and arbitrary CSV shapes never raise, and every problem is a finding."""

from __future__ import annotations

import gc
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.intake import Severity, SpecKind, UploadedFile, intake_files
from app.intake.columns import kind_columns

pytestmark = [pytest.mark.unit, pytest.mark.intake]

_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "a",
            "x",
            "d",
            "w",
            "?",
            "#N/A",
            "#VALUE!",
            "-",
            "*",
            "1",
            "y",
            "n",
            " Image (Media type) ",
            "Academic Program (Content type)",
            "field_x",
            "Bad Name",
            '"',
            "\n",
            ";",
            ",",
        ]
    ),
    st.text(max_size=12),
)
_HEADERS = st.sampled_from([s for kind in SpecKind for c in kind_columns(kind) for s in c.synonyms] + ["", "?"])


def _check(result) -> None:
    json.dumps(result.to_dict())
    for finding in result.findings:
        assert finding.message and finding.severity in set(Severity)
    assert result.blocking == any(f.severity is Severity.BLOCKING for f in result.findings)


@_SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["a.csv", "Fields.csv", "b.txt", ""]), st.binary(max_size=600)), max_size=4))
def test_arbitrary_bytes(files):
    result = intake_files([UploadedFile(name, data) for name, data in files])
    _check(result)
    assert len(result.files) == len(files)


@_SETTINGS
@given(
    name=st.sampled_from(["Fields.csv", "Bundles.csv", "Workflowtransitions.csv", "RIS.csv", "x.csv"]),
    header=st.lists(_HEADERS, min_size=1, max_size=10),
    rows=st.lists(st.lists(_CELLS, max_size=12), max_size=15),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_arbitrary_csv_shapes(kit, name, header, rows, delimiter, encoding):
    text = kit.csv_bytes([header, *rows], delimiter=delimiter).decode("utf-8")
    data = text.encode(encoding, errors="replace")
    result = intake_files([UploadedFile(name, data)])
    _check(result)
    (report,) = result.files
    if not result.blocking:
        assert report.kind is not None and report.record_count <= len(rows)


@_SETTINGS
@given(
    cut=st.integers(min_value=1, max_value=20_000),
    kind_name=st.sampled_from(["UWEC_Fields.csv", "UWEC_ResponsiveImageStyles.csv", "UWEC_Workflowtransitions.csv"]),
)
def test_truncated_reference_files(kit, cut, kind_name):
    data = kit.uwec_bytes(kind_name)[:cut]
    result = intake_files([UploadedFile(kind_name, data)])
    _check(result)


def test_an_intake_leaves_no_deferred_collection_behind(kit):
    # The collector is paused during an intake. Were its objects left in the young generations, the next allocation
    # after it would traverse the whole result (seconds at 100x); they must come back as old objects instead.
    assert gc.isenabled()
    result = intake_files(kit.uwec_files())
    assert gc.isenabled()
    young = {id(o) for generation in (0, 1) for o in gc.get_objects(generation=generation)}
    assert id(result.model) not in young
    assert not [f for f in result.model.fields if id(f) in young]
    gc.disable()
    try:
        intake_files(kit.uwec_files()[:1])
        assert not gc.isenabled()  # a caller's own pause is kept
    finally:
        gc.enable()
