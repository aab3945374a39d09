"""Spec defects that only show across rows, put on every ticket they concern.

- Statuses that contradict each other: a bundle or view still to be built whose children are marked implemented
  (x), or marked to be deleted (d): a new bundle has neither fields that exist nor fields to remove.
- A field storage shared by several bundles with conflicting types or cardinalities: intake reports it once, at the
  row that disagrees; every ticket holding an instance of that storage must know, since any of them may be the
  one to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from app.errors import WhoCanFix
from app.generation.criteria import BUNDLE_SETTINGS, NO, YES, named
from app.generation.grouping import Unit
from app.generation.naming import noun_of, plural
from app.generation.tables import cell_by_role, heading_of, role_of
from app.intake import Code, Finding, Severity
from app.intake.model import Action, Bundle, FieldInstance, SpecItem, SpecModel, View
from app.intake.vocabulary import field_type_id, widget_id

_STORAGE_CODES = frozenset({Code.STORAGE_TYPE_CONFLICT, Code.STORAGE_CARDINALITY_CONFLICT})


def _listed(items: Sequence[SpecItem]) -> str:
    shown = ", ".join(named(i) for i in items[:8])
    return shown + (f" and {len(items) - 8} more" if len(items) > 8 else "")


def _contradiction(parent: SpecItem, message: str, children: Sequence[SpecItem]) -> Finding:
    return Finding(
        Code.STATUS_CONTRADICTION,
        Severity.WARNING,
        WhoCanFix.SPEC_AUTHOR,
        message,
        file=parent.source.file,
        record=parent.source.record,
        line=parent.source.line,
        column="X",
        value=", ".join(sorted({c.status.strip() for c in children})),
    )


def contradictions(unit: Unit) -> list[Finding]:
    """Status contradictions inside one ticket: children marked x or d under a parent still to be built."""
    parent = next((i for i in unit.items if isinstance(i, Bundle | View)), None)
    if parent is None or parent.action not in (Action.BUILD, Action.HOLD):
        return []
    noun = noun_of(parent)
    children = [i for i in unit.items if i is not parent and not isinstance(i, Bundle | View)]
    # A base field (the title) comes with every bundle, so "implemented" is true of it even on a new one.
    built = [
        c
        for c in children
        if c.status.strip().lower() == "x" and not (isinstance(c, FieldInstance) and c.is_base_field)
    ]
    findings = []
    if built:
        if len(built) == len(children):
            rows = "its one row is" if len(built) == 1 else f"all {len(built)} of its rows are"
        else:
            rows = f"{len(built)} of its {len(children)} rows {'is' if len(built) == 1 else 'are'}"
        findings.append(
            _contradiction(
                parent,
                f"The {noun} {named(parent)} is marked to be built (status {parent.status.strip()}), but {rows} "
                f"marked implemented already (x): {_listed(built)}. A new {noun} has nothing built "
                f"yet: mark those rows a, or mark the {noun} x or c if it exists.",
                built,
            )
        )
    if unit.dropped:
        findings.append(
            _contradiction(
                parent,
                f"{plural(noun_of(unit.dropped[0]), len(unit.dropped)).capitalize()} of the new {noun} {named(parent)} "
                f"{'is' if len(unit.dropped) == 1 else 'are'} marked to be deleted (d): {_listed(unit.dropped)}. "
                f"Nothing of a new {noun} exists to delete; this ticket leaves "
                f"{'it' if len(unit.dropped) == 1 else 'them'} out. Clear the status, or mark the {noun} x or c if "
                "it exists.",
                unit.dropped,
            )
        )
    return findings


# What a bundle's notes say when they speak of one of its settings (criteria.BUNDLE_SETTINGS roles).
_SETTING_WORDS: dict[str, str] = {
    "moderated": r"moderat(?:ed|ion)",
    "layout": r"layout builder",
    "translated": r"translat\w*",
    "migrated": r"migrat\w*",
    "meta": r"meta ?tags?|no ?index|no ?follow",
    "scheduled": r"schedul\w*",
    "searched": r"search index\w*|searchable|indexed for search",
}
_NEGATION = r"\b(?:no|not|never|without|don't|do not|doesn't|does not)\s+(?:\w+\s+)?"
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def setting_contradictions(unit: Unit) -> list[Finding]:
    """A bundle setting the notes contradict: Metatags 'n' while a note says "set metatags for noindex", or a
    setting on while a note says "no translation". Which one is right only the spec author knows."""
    parent = unit.subjects[0] if len(unit.subjects) == 1 and isinstance(unit.subjects[0], Bundle) else None
    if parent is None or not parent.notes.strip():
        return []
    findings = []
    sentences = [" ".join(s.split()) for s in _SENTENCES.split(parent.notes) if s.strip()]
    for role, name in BUNDLE_SETTINGS:
        value = cell_by_role(parent, role)
        words = _SETTING_WORDS.get(role)
        if not value or words is None or value.lower() not in (*YES, *NO):
            continue
        on = value.lower() in YES
        for sentence in sentences:
            if not (mention := re.search(rf"\b(?:{words})\b", sentence, re.IGNORECASE)):
                continue
            negated = re.search(rf"{_NEGATION}(?:{words})\b", sentence, re.IGNORECASE) is not None
            if on != negated:
                continue
            header = next(h for h in parent.cells if role_of(parent, h) == role)
            shown = heading_of(parent, header)
            findings.append(
                Finding(
                    Code.SETTING_CONTRADICTION,
                    Severity.WARNING,
                    WhoCanFix.SPEC_AUTHOR,
                    f"The {noun_of(parent)} {named(parent)} has {shown} '{value}' ({name} {'on' if on else 'off'}), "
                    f"but its notes say: '{sentence}' ({mention.group()!r}). Set {shown} to "
                    f"{'n' if on else 'y'}, or change the note.",
                    file=parent.source.file,
                    record=parent.source.record,
                    line=parent.source.line,
                    column=header,
                    value=value,
                )
            )
            break
    return findings


_CHOICES = frozenset({"boolean", "entity_reference", "list_integer", "list_float", "list_string"})
# Core widgets and the field types Drupal offers them for (their plugin's field_types), as a lead would say them.
_WIDGET_TYPES: dict[str, tuple[frozenset[str], str]] = {
    "boolean_checkbox": (frozenset({"boolean"}), "Boolean fields"),
    "options_select": (_CHOICES, "list, Boolean and entity reference fields"),
    "options_buttons": (_CHOICES, "list, Boolean and entity reference fields"),
    "entity_reference_autocomplete": (frozenset({"entity_reference"}), "entity reference fields"),
    "entity_reference_autocomplete_tags": (frozenset({"entity_reference"}), "entity reference fields"),
    "media_library_widget": (frozenset({"entity_reference"}), "entity reference fields (to media)"),
    "paragraphs": (frozenset({"entity_reference_revisions"}), "Entity Reference Revisions (paragraphs) fields"),
    "entity_reference_paragraphs": (frozenset({"entity_reference_revisions"}), "Entity Reference Revisions fields"),
    "layout_paragraphs": (frozenset({"entity_reference_revisions"}), "Entity Reference Revisions fields"),
    "link_default": (frozenset({"link"}), "Link fields"),
    "datetime_default": (frozenset({"datetime"}), "Date fields"),
    "daterange_default": (frozenset({"daterange"}), "Date range fields"),
    "email_default": (frozenset({"email"}), "Email fields"),
    "text_textarea_with_summary": (frozenset({"text_with_summary"}), "Text (formatted, long, with summary) fields"),
}
# Field types of Drupal core (and paragraphs): a contrib type (Webform) may bring its own widget of the same label.
_CORE_TYPES = _CHOICES | {
    "string",
    "string_long",
    "text",
    "text_long",
    "text_with_summary",
    "link",
    "datetime",
    "daterange",
    "email",
    "integer",
    "decimal",
    "float",
    "entity_reference_revisions",
    "image",
    "file",
}


def widget_mismatches(unit: Unit) -> list[Finding]:
    """Fields this ticket builds whose widget Drupal does not offer for their type: a Single on/off checkbox on a
    List (integer) field, Paragraphs on an entity reference. The spec author decides which of the two is wrong."""
    findings = []
    for item in unit.items:
        if not isinstance(item, FieldInstance) or item.action is Action.REMOVE:
            continue
        field_type = field_type_id(item.field_type) or ""
        widget = widget_id(item.widget, field_type) or ""
        allowed, which = _WIDGET_TYPES.get(widget, (frozenset(), ""))
        if field_type not in _CORE_TYPES or not allowed or field_type in allowed:
            continue
        header = next((h for h in item.cells if role_of(item, h) == "widget"), "")
        findings.append(
            Finding(
                Code.WIDGET_MISMATCH,
                Severity.WARNING,
                WhoCanFix.SPEC_AUTHOR,
                f"Field {named(item)} is {item.field_type} [{field_type}], but its widget {item.widget} [{widget}] "
                f"works only on {which}. Choose a widget for {item.field_type}, or change the field type.",
                file=item.source.file,
                record=item.source.record,
                line=item.source.line,
                column=header,
                value=item.widget,
            )
        )
    return findings


def storage_conflicts(
    findings: Iterable[Finding], model: SpecModel, owner: dict[tuple[str, int], str]
) -> dict[str, list[Finding]]:
    """Each storage conflict, for every ticket owning an instance of the storage (not only the disagreeing row's)."""
    storage_of = {(s.file, s.record): storage for storage in model.storages for s in storage.sources}
    spread: dict[str, list[Finding]] = {}
    for finding in findings:
        storage = storage_of.get((finding.file, finding.record)) if finding.code in _STORAGE_CODES else None
        if storage is None:
            continue
        tickets = dict.fromkeys(owner[(s.file, s.record)] for s in storage.sources if (s.file, s.record) in owner)
        for key in tickets:
            if key != owner.get((finding.file, finding.record)):
                spread.setdefault(key, []).append(finding)
    return spread
