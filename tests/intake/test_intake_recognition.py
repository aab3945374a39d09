"""Recognition and the spec variants that break UWEC in other ways: renamed headers, blanked lookups, overrides."""

from __future__ import annotations

import pytest

from app.intake import Action, Severity, SpecKind, StatusMapping, UploadedFile, intake_files

pytestmark = [pytest.mark.unit, pytest.mark.intake]

F = "UWEC_Fields.csv"


def _replace_header(kit, name: str, old: str, new: str) -> list[UploadedFile]:
    rows = kit.uwec_rows(name)
    rows[0] = [new if h == old else h for h in rows[0]]
    return kit.uwec_with(name, kit.csv_bytes(rows))


def _blank_column(kit, name: str, column: str) -> list[UploadedFile]:
    rows = kit.uwec_rows(name)
    index = rows[0].index(column)
    for row in rows[1:]:
        row[index] = ""
    return kit.uwec_with(name, kit.csv_bytes(rows))


@pytest.mark.parametrize(
    ("old", "new"),
    [("Req'd", "REQUIRED"), ("Vals.", "Cardinality"), ("Field label", "label"), ("Machine name", "  machine NAME ")],
)
def test_header_synonyms_and_case(kit, old, new):
    result = intake_files(_replace_header(kit, F, old, new))
    assert next(f for f in result.files if f.name == F).kind is SpecKind.FIELDS
    assert len(result.model.fields) == 546
    assert len(kit.only(result, "storage_cardinality_conflict")) == 5


def test_renamed_key_column_blocks_with_suggestion(kit):
    result = intake_files(_replace_header(kit, F, "Field type", "Kind of field"))
    (missing,) = kit.only(result, "missing_column", F)
    assert missing.severity is Severity.BLOCKING and missing.column == "field type"
    assert result.blocking and not result.model.fields


def test_extra_and_hidden_columns_are_tolerated(kit):
    rows = kit.uwec_rows("UWEC_CustomViews.csv")
    for i, row in enumerate(rows):
        row.insert(2, "Hidden" if i == 0 else "secret")
    result = intake_files(kit.uwec_with("UWEC_CustomViews.csv", kit.csv_bytes(rows)))
    facts = result.model.view_by_key["facts"]
    assert facts.cells["Hidden"] == "secret" and facts.label == "Facts"


@pytest.mark.parametrize(
    ("name", "column", "code"),
    [
        (F, "Bundle machine name", "lookup_blank"),
        ("UWEC_CustomViewsDisplays.csv", "View ID", "lookup_blank"),
        ("UWEC_ResponsiveImageStyles.csv", "Fallback machine name", "lookup_blank"),
    ],
)
def test_each_lookup_column_blanked(kit, uwec, name, column, code):
    result = intake_files(_blank_column(kit, name, column))
    blanks = kit.only(result, code, name)
    assert blanks and all(f.column == column and f.severity is Severity.INFO for f in blanks)
    # The references come from the labels, so the model is unchanged.
    assert result.model.counts() == uwec.model.counts()
    assert [f.bundle for f in result.model.fields] == [f.bundle for f in uwec.model.fields]


def test_lookup_disagreeing_with_label(kit):
    rows = kit.uwec_rows(F)
    rows[2][-1] = "college"  # Academic Program's Meta Description row
    result = intake_files(kit.uwec_with(F, kit.csv_bytes(rows)))
    (mismatch,) = kit.only(result, "lookup_mismatch")
    assert (mismatch.record, mismatch.value, mismatch.suggestion) == (2, "college", "academic_program")


def test_file_name_decides_between_generic_headers_and_override(kit):
    data = kit.uwec_bytes("UWEC_Userroles.csv")
    assert intake_files([UploadedFile("UWEC_Userroles.csv", data)]).files[0].kind is SpecKind.ROLES
    # Name + Machine name fit roles, image styles and menus alike; the values (administrator, content_editor, no
    # dimensions) decide, and the runner-up is shown.
    unnamed = intake_files([UploadedFile("export (3).csv", data)])
    assert (unnamed.files[0].kind, unnamed.files[0].runner_up) == (SpecKind.ROLES, SpecKind.IMAGE_STYLES)
    overridden = intake_files([UploadedFile("export (3).csv", data)], type_overrides={"export (3).csv": "roles"})
    assert (overridden.files[0].kind, overridden.files[0].basis) == (SpecKind.ROLES, "override")
    assert len(overridden.model.roles) == 8


def test_two_halves_of_one_tab_are_both_kept(kit, uwec):
    header, *rows = kit.uwec_rows(F)
    halves = [kit.csv_bytes([header, *rows[:300]]), kit.csv_bytes([header, *rows[300:]])]
    files = [f for f in kit.uwec_files() if f.name != F]
    result = intake_files([*files, UploadedFile("Fields 1.csv", halves[0]), UploadedFile("Fields 2.csv", halves[1])])
    assert not result.blocking
    assert {f.name: f.kind for f in result.files if f.name.startswith("Fields")} == {
        "Fields 1.csv": SpecKind.FIELDS,
        "Fields 2.csv": SpecKind.FIELDS,
    }
    assert len(result.model.fields) == len(uwec.model.fields)
    assert {f.source.file for f in result.model.fields} == {"Fields 1.csv", "Fields 2.csv"}
    assert len(kit.only(result, "split_tab")) == 2


def test_a_second_file_of_one_type_with_other_headers_is_reported_with_its_best_other_type(kit):
    rows = kit.uwec_rows(F)
    rows[0] = [h for h in rows[0] if h != "Help text"]
    rows[1:] = [r[:16] + r[17:] for r in rows[1:]]
    result = intake_files([*kit.uwec_files(), UploadedFile("More fields.csv", kit.csv_bytes(rows))])
    (dup,) = kit.only(result, "duplicate_type")
    assert dup.file == "More fields.csv" and dup.severity is Severity.BLOCKING
    assert "UWEC_Fields.csv" in dup.message and dup.value == "fields"
    report = next(f for f in result.files if f.name == "More fields.csv")
    assert report.kind is None and not report.used and report.runner_up is not None


def test_status_mapping_is_configurable(kit):
    mapping = StatusMapping(
        {
            "a": Action.BUILD,
            "d": Action.REMOVE,
            "x": Action.NONE,
            "": Action.NONE,
            "w": Action.BUILD,
            "c": Action.CHANGE,
        }
    )
    result = intake_files(kit.uwec_files(), status_mapping=mapping)
    assert result.model.bundle_by_key[("taxonomy_term", "author")].action is Action.BUILD
    strict = intake_files(kit.uwec_files(), status_mapping=StatusMapping({"a": Action.BUILD, "": Action.NONE}))
    unknown = kit.only(strict, "unknown_status", "UWEC_Userroles.csv")
    assert [f.value for f in unknown] == ["x"] * 5
    assert all(r.action is Action.NONE for r in strict.model.roles if r.status == "x")


def test_required_cells_on_rows_to_build_and_lenient_removals(kit):
    rows = kit.uwec_rows("UWEC_Bundles.csv")
    rows[1][2] = ""  # Academic Program (a): machine name blank
    rows[6][2] = "Event Type"  # Event (d): invalid, but marked for removal
    result = intake_files(kit.uwec_with("UWEC_Bundles.csv", kit.csv_bytes(rows)))
    (missing,) = kit.only(result, "missing_value", "UWEC_Bundles.csv")
    assert (missing.record, missing.column, missing.severity) == (1, "Machine name", Severity.WARNING)
    event = next(f for f in kit.only(result, "invalid_machine_name") if f.value == "Event Type")
    assert event.severity is Severity.INFO


def test_the_best_match_keeps_its_kind_whatever_the_names_and_order(kit):
    # A roles file whose name says "image" comes first; the real image styles file (a perfect match) is unnamed.
    files = [
        UploadedFile("Image team roles.csv", kit.uwec_bytes("UWEC_Userroles.csv")),
        UploadedFile("export.csv", kit.uwec_bytes("UWEC_Imagestyles.csv")),
    ]
    result = intake_files(files)
    assert [f.kind for f in result.files] == [SpecKind.ROLES, SpecKind.IMAGE_STYLES]
    assert not result.blocking and len(result.model.image_styles) == 103
