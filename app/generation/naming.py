"""How tickets are named: areas, nouns, plurals, verbs, labels and titles."""

from __future__ import annotations

import re

from app.domain.jira_limits import SUMMARY_MAX
from app.generation.tables import KIND_OF
from app.intake.model import Action, Bundle, SpecItem, SpecKind

MAX_TITLE = SUMMARY_MAX

AREAS: dict[SpecKind, str] = {
    SpecKind.BUNDLES: "Content model",
    SpecKind.FIELDS: "Content model",
    SpecKind.VIEWS: "Views",
    SpecKind.VIEW_DISPLAYS: "Views",
    SpecKind.RESPONSIVE_IMAGE_STYLES: "Images",
    SpecKind.IMAGE_STYLES: "Images",
    SpecKind.IMAGE_EFFECTS: "Images",
    SpecKind.VIEW_MODES: "Display",
    SpecKind.ROLES: "Access",
    SpecKind.WORKFLOWS: "Workflow",
    SpecKind.WORKFLOW_STATES: "Workflow",
    SpecKind.WORKFLOW_TRANSITIONS: "Workflow",
    SpecKind.MENUS: "Navigation",
}

_BUNDLE_NOUNS = {
    "node": "content type",
    "paragraph": "paragraph type",
    "block_content": "block type",
    "media": "media type",
    "taxonomy_term": "vocabulary",
}

_NOUNS: dict[SpecKind, str] = {
    SpecKind.BUNDLES: "bundle",
    SpecKind.FIELDS: "field",
    SpecKind.VIEWS: "view",
    SpecKind.VIEW_DISPLAYS: "display",
    SpecKind.VIEW_MODES: "view mode",
    SpecKind.IMAGE_STYLES: "image style",
    SpecKind.IMAGE_EFFECTS: "image effect",
    SpecKind.RESPONSIVE_IMAGE_STYLES: "responsive image style",
    SpecKind.ROLES: "user role",
    SpecKind.WORKFLOWS: "workflow",
    SpecKind.WORKFLOW_STATES: "state",
    SpecKind.WORKFLOW_TRANSITIONS: "transition",
    SpecKind.MENUS: "menu",
}

VERBS: dict[Action, str] = {
    Action.BUILD: "Build",
    Action.HOLD: "Build",
    Action.CHANGE: "Change",
    Action.REMOVE: "Remove",
}


def area_of(item: SpecItem) -> str:
    return AREAS[KIND_OF[type(item)]]


def noun_of(item: SpecItem) -> str:
    """What the item is, in words: "content type", "view mode", ..."""
    if isinstance(item, Bundle):
        return _BUNDLE_NOUNS.get(item.entity_type) or item.entity_type_label.strip().lower() or "bundle"
    return _NOUNS[KIND_OF[type(item)]]


def plural(noun: str, count: int) -> str:
    """ "1 field", "3 fields", "2 vocabularies", "no displays"."""
    if count == 1:
        return f"1 {noun}"
    many = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{count} {many}" if count else f"no {many}"


def labels_for(area: str, action: Action) -> tuple[str, ...]:
    """Jira labels may not contain spaces: "Content model" -> "content-model"; hold reads "on-hold"."""
    status = "on-hold" if action is Action.HOLD else str(action)
    return (slug(area), status)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


def title(area: str, verb: str, subject: str, counts: str, on_hold: bool) -> str:
    """ "Content model: Build Academic Program content type (40 fields)", clipped to Jira's limit."""
    text = f"{area}: {verb} {' '.join(subject.split())}"
    suffix = (f" ({counts})" if counts else "") + (" (on hold)" if on_hold else "")
    if len(text) + len(suffix) > MAX_TITLE:
        text = text[: MAX_TITLE - len(suffix) - 1].rstrip() + "…"
    return text + suffix
