"""The columns each kind of spec file has: roles, header synonyms, which are keys, which are computed lookups."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.intake.model import SpecKind


def normalise_header(text: str) -> str:
    """Header text for matching: lowercase, punctuation dropped, spaces collapsed ("Req'd" -> "reqd")."""
    text = text.replace("\ufeff", "").lower().replace("/", " ").replace("_", " ")
    text = re.sub(r"[^a-z0-9 ]+", "", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Column:
    """One column role of a kind.

    `key`: the file cannot be modelled without it (missing column blocks). `required`: must be filled on rows that
    are to be built. `weight`: how strongly the header points at this kind. `lookup`: a computed spreadsheet
    column, used only as a hint.
    """

    role: str
    synonyms: tuple[str, ...]
    key: bool = False
    required: bool = False
    weight: int = 1
    lookup: bool = False


# Columns every Drupal Spec Tool tab has; they say nothing about the kind.
COMMON = (
    Column("id", ("id", "jira", "issue", "ticket")),
    Column("status", ("x", "impl", "status x", "implementation status")),
    Column("dev", ("dev", "developer")),
    Column("qa", ("qa",)),
    Column("notes", ("notes", "settings notes", "settings", "comments", "note")),
)

_MACHINE = ("machine name", "machine", "id name", "machinename")
_KIND_SPECS: dict[SpecKind, tuple[Column, ...]] = {
    SpecKind.BUNDLES: (
        Column("label", ("name", "label", "bundle", "bundle name"), key=True, required=True),
        Column("machine_name", _MACHINE, key=True, required=True),
        Column("entity_type", ("type", "entity type", "bundle type"), key=True, required=True, weight=2),
        Column("description", ("description",)),
        Column("url_alias", ("url alias pattern", "url alias", "pathauto", "path pattern"), weight=3),
        Column("moderated", ("mod", "moderation", "moderated"), weight=2),
        Column("layout", ("layout", "layout builder"), weight=2),
        Column("translated", ("trns", "translated", "translation")),
        Column("migrated", ("migr", "migrated", "migration"), weight=2),
        Column("meta", ("meta", "metatags"), weight=2),
        Column("scheduled", ("sched", "scheduled", "scheduling"), weight=2),
        Column("searched", ("srch", "search", "searchable"), weight=2),
        Column("commented", ("cmnt", "commenting", "commented"), weight=2),
        Column("examples", ("examples", "example"), weight=1),
    ),
    SpecKind.FIELDS: (
        Column("bundle", ("bundle", "content type", "entity bundle"), key=True, required=True, weight=2),
        Column("label", ("field label", "label", "name", "field name"), key=True, required=True),
        Column("machine_name", (*_MACHINE, "field machine name"), key=True, required=True),
        Column("reused", ("reused field", "reused", "reuse"), weight=3),
        Column("field_group", ("field group", "group"), weight=2),
        Column("field_type", ("field type", "type"), key=True, required=True, weight=3),
        Column("ref_bundle", ("ref bundle", "reference bundle", "target bundle", "references"), weight=3),
        Column("required", ("reqd", "req", "required"), required=True, weight=3),
        Column("cardinality", ("vals", "cardinality", "values", "number of values"), required=True, weight=3),
        Column("widget", ("form widget", "widget"), weight=3),
        Column("translated", ("trns", "translated", "translatable")),
        Column("help_text", ("help text", "help", "description"), weight=2),
        Column("bundle_lookup", ("bundle machine name",), lookup=True, weight=2),
    ),
    SpecKind.VIEWS: (
        Column("label", ("view name", "name", "label", "view"), key=True, required=True),
        Column("machine_name", (*_MACHINE, "view id"), key=True, required=True),
        Column("base_table", ("base table", "base", "show", "view type"), weight=3),
        Column("enabled", ("status", "enabled"), weight=1),
        Column("description", ("description",)),
    ),
    SpecKind.VIEW_DISPLAYS: (
        Column("view", ("view", "view name"), key=True, required=True, weight=2),
        Column(
            "label", ("title", "display", "display name", "display title", "label", "name"), key=True, required=True
        ),
        Column("machine_name", (*_MACHINE, "display id", "display machine name"), key=True, required=True),
        Column("display_plugin", ("display plugin", "display type", "plugin", "type"), weight=3),
        Column("view_lookup", ("view id", "view machine name"), lookup=True, weight=2),
    ),
    SpecKind.VIEW_MODES: (
        Column("label", ("view modes", "view mode", "name", "label"), key=True, required=True, weight=2),
        Column("machine_name", _MACHINE),
        Column("entity_type", ("entity type", "type"), key=True, required=True, weight=2),
        Column("used_on", ("entities used on", "used on", "bundles", "applies to"), weight=3),
        Column("format", ("format",), weight=1),
    ),
    SpecKind.IMAGE_STYLES: (
        Column("label", ("style name", "image style", "name", "label"), key=True, required=True, weight=2),
        Column("machine_name", _MACHINE, key=True, required=True),
    ),
    SpecKind.IMAGE_EFFECTS: (
        Column("image_style", ("image style", "style", "style name"), key=True, required=True, weight=2),
        Column("label", ("effect", "effect name", "label", "name"), key=True, required=True, weight=2),
        Column("machine_name", _MACHINE),
        Column("weight", ("weight", "order"), weight=2),
        Column("settings", ("effect settings", "summary", "configuration", "width height", "dimensions"), weight=2),
    ),
    SpecKind.RESPONSIVE_IMAGE_STYLES: (
        Column(
            "label", ("responsive style", "responsive image style", "name", "label"), key=True, required=True, weight=3
        ),
        Column("machine_name", _MACHINE, key=True, required=True),
        Column("breakpoint_group", ("breakpoint group",), weight=3),
        Column("breakpoints", ("breakpoints used", "breakpoints"), weight=3),
        Column("fallback", ("fallback style", "fallback image style", "fallback"), required=True, weight=3),
        Column("image_styles", ("image style groups", "image style group", "image styles", "styles"), weight=3),
        Column("fallback_lookup", ("fallback machine name",), lookup=True, weight=2),
    ),
    SpecKind.ROLES: (
        Column("label", ("name", "role", "role name", "label"), key=True, required=True, weight=2),
        Column("machine_name", _MACHINE, key=True, required=True),
        Column("permissions", ("permissions",), weight=3),
    ),
    SpecKind.WORKFLOWS: (
        Column("label", ("label", "name", "workflow", "workflow name"), key=True, required=True),
        Column("machine_name", _MACHINE, key=True, required=True),
        Column("workflow_type", ("type", "workflow type"), weight=2),
        Column("bundles", ("bundles", "applies to", "moderated bundles", "used on", "content types"), weight=3),
    ),
    SpecKind.WORKFLOW_STATES: (
        Column("workflow", ("workflow",), key=True, required=True, weight=3),
        Column("label", ("label", "state", "name", "state name"), key=True, required=True),
        Column("machine_name", _MACHINE, key=True, required=True),
    ),
    SpecKind.WORKFLOW_TRANSITIONS: (
        Column("workflow", ("workflow",), key=True, required=True, weight=3),
        Column("label", ("label", "transition", "name"), key=True, required=True),
        Column("machine_name", _MACHINE, key=True, required=True),
        Column("from_state", ("from state", "from", "from states"), key=True, required=True, weight=3),
        Column("to_state", ("to state", "to"), key=True, required=True, weight=3),
    ),
    SpecKind.MENUS: (
        Column("label", ("menu name", "menu", "name", "label", "title"), key=True, required=True, weight=2),
        Column("machine_name", _MACHINE, key=True, required=True),
        Column("description", ("description",)),
        Column("link", ("link", "path", "url"), weight=2),
        Column("parent", ("parent", "parent item"), weight=2),
    ),
}

# File name hints, most specific first: the first pattern found in the squashed lowercase stem wins.
FILE_HINTS: tuple[tuple[str, SpecKind], ...] = (
    (r"responsive", SpecKind.RESPONSIVE_IMAGE_STYLES),
    (r"effect", SpecKind.IMAGE_EFFECTS),
    (r"imagestyle|image", SpecKind.IMAGE_STYLES),
    (r"viewmode|displaymode", SpecKind.VIEW_MODES),
    (r"viewsdisplay|viewdisplay|display", SpecKind.VIEW_DISPLAYS),
    (r"view", SpecKind.VIEWS),
    (r"transition", SpecKind.WORKFLOW_TRANSITIONS),
    (r"state", SpecKind.WORKFLOW_STATES),
    (r"workflow", SpecKind.WORKFLOWS),
    (r"role", SpecKind.ROLES),
    (r"menu", SpecKind.MENUS),
    (r"field", SpecKind.FIELDS),
    (r"bundle|contenttype|entit", SpecKind.BUNDLES),
)


def kind_columns(kind: SpecKind) -> tuple[Column, ...]:
    """The columns of a kind, its own before the common ones (own synonyms take precedence)."""
    return _KIND_SPECS[kind] + COMMON


def kind_specific_columns(kind: SpecKind) -> tuple[Column, ...]:
    return _KIND_SPECS[kind]


def map_headers(kind: SpecKind, header: tuple[str, ...]) -> tuple[dict[str, int], list[int]]:
    """Role -> column index for a header row, and the indexes of repeated headers (the first one wins)."""
    normalised = [normalise_header(h) for h in header]
    roles: dict[str, int] = {}
    used: set[int] = set()
    duplicates = [i for i, h in enumerate(normalised) if h and h in normalised[:i]]
    for column in kind_columns(kind):
        for synonym in column.synonyms:
            index = next((i for i, h in enumerate(normalised) if h == synonym and i not in used), None)
            if index is not None and index not in duplicates:
                roles[column.role] = index
                used.add(index)
                break
    return roles, duplicates
