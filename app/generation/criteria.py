"""Success criteria derived from the spec rows a ticket delivers: one checkable statement per item, deterministic.

Each criterion names the item by label and machine name and states what a reviewer can check in Drupal's UI or
configuration export: a field's type, required flag, number of values, widget and reference targets (a type, widget,
display plugin or base table with the Drupal id intake mapped its label to: "Autocomplete
[entity_reference_autocomplete]"); a bundle's
settings in words; a view's base table and each display's plugin; a workflow's states and transitions; an image
style's effects; a responsive style's fallback and mapped styles; a role's machine name; what a removal removes.
Notes from the spec travel with the item they are written on, so "render as H2" reaches the criterion it concerns.
The writer (model or offline) only adds the user story and criteria for what notes say in prose.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence

from app.generation.naming import noun_of
from app.generation.tables import KIND_OF, cell_by_role
from app.intake import Code, Finding
from app.intake import model as spec
from app.intake.names import machine_name_problem, split_list, to_machine_name

# Bundle settings columns, as a lead would say them. A "y"/"n" cell turns the setting on/off; anything else is quoted.
BUNDLE_SETTINGS: tuple[tuple[str, str], ...] = (
    ("moderated", "content moderation"),
    ("layout", "Layout Builder"),
    ("translated", "translation"),
    ("migrated", "content migration from the current site"),
    ("meta", "metatags"),
    ("scheduled", "scheduled publishing"),
    ("searched", "site search indexing"),
)
YES = frozenset({"y", "yes", "x", "true", "1", "on"})
NO = frozenset({"n", "no", "false", "0", "off", "-"})


def named(item: spec.SpecItem) -> str:
    """ "Degree Level (field_degree_level)"; base fields have no machine name of their own; a machine name Drupal
    would refuse is named with the valid one intake suggests, so the criterion can be checked once that is agreed."""
    label = " ".join(item.label.split())
    if isinstance(item, spec.FieldInstance) and item.is_base_field:
        return f"{label} (base field)"
    if not item.machine_name:
        return label
    kind = KIND_OF[type(item)]
    if machine_name_problem(item.machine_name, kind) is not None:
        suggested = to_machine_name(item.machine_name, kind)
        return f"{label} ({item.machine_name!r} is not a valid machine name; {suggested} suggested)"
    return f"{label} ({item.machine_name})"


# Inline formatting a spec author pasted from help text: a criterion says what it means, the table keeps it exact.
_FORMATTING = re.compile(r"</?(?:strong|b|em|i|u|span|small|code|a|p|br|div)\b[^<>]*>", re.IGNORECASE)
_BREAK = re.compile(r"<(?:br|/?p|/?div)\b", re.IGNORECASE)


def readable(text: str) -> str:
    """A note on one line, as prose: formatting tags dropped (a line break or paragraph becomes a space) and
    entities decoded when the note is HTML; any other tag (`<h2>`) stays, and the description shows it as code."""
    if _FORMATTING.search(text):
        text = html.unescape(_FORMATTING.sub(lambda m: " " if _BREAK.match(m.group()) else "", text))
    return " ".join(text.split())


def _with_notes(text: str, item: spec.SpecItem) -> str:
    notes = readable(item.notes).rstrip(".")
    return f"{text}; the spec notes: {notes}" if notes else text


def _held(item: spec.SpecItem, text: str) -> str:
    return f"On hold, confirm first: {text}" if item.action is spec.Action.HOLD else text


def bundle_label(model: spec.SpecModel, key: spec.BundleKey) -> str:
    bundle = model.bundle_by_key.get(key)
    return f"{bundle.label} ({noun_of(bundle)})" if bundle else f"{key[1]} ({key[0]})"


def setting_words(item: spec.Bundle) -> list[str]:
    """The bundle's flags in words: "content moderation on", "Layout Builder off", "translation: 'partial'"."""
    words = []
    for role, name in BUNDLE_SETTINGS:
        value = cell_by_role(item, role)
        if not value:
            continue
        if value.lower() in YES:
            words.append(f"{name} on")
        elif value.lower() in NO:
            words.append(f"{name} off")
        else:
            words.append(f"{name}: '{value}'")
    return words


def bundle_criteria(item: spec.Bundle) -> list[str]:
    lines = [f"The {noun_of(item)} {named(item)} exists"]
    if description := " ".join(item.description.split()).rstrip("."):
        lines[0] += f" with the description '{description}'"
    lines[0] += "."
    if words := setting_words(item):
        lines.append(f"{item.label} settings: {', '.join(words)}.")
    if (alias := cell_by_role(item, "url_alias")) and alias.lower() not in NO:
        lines.append(f"New {item.label} items get URL aliases from the pattern {alias}.")
    return lines


def with_id(text: str, drupal_id: str) -> str:
    """A plugin as the spec names it with the Drupal id intake mapped it to: "Entity reference [entity_reference]"
    (brackets, as labels often have parentheses of their own); once when the spec wrote the id itself, the text
    alone when it maps to none."""
    text = " ".join(text.split())
    return f"{text} [{drupal_id}]" if drupal_id and drupal_id != text else text


def field_criterion(item: spec.FieldInstance, model: spec.SpecModel) -> str:
    parts = [with_id(item.field_type, item.field_type_id) or "type not given"]
    if item.required is not None:
        parts.append("required" if item.required else "optional")
    if item.cardinality == spec.UNLIMITED:
        parts.append("unlimited values")
    elif item.cardinality is not None:
        parts.append(f"{item.cardinality} value{'s' if item.cardinality != 1 else ''}")
    if item.widget:
        parts.append(f"widget {with_id(item.widget, item.widget_id)}")
    written = split_list(cell_by_role(item, "ref_bundle"))
    if item.reference_targets:
        parts.append("references " + ", ".join(bundle_label(model, t) for t in item.reference_targets))
    elif written:  # the developer still needs to know what it points at (a bundle deleted in a revision, a typo)
        parts.append(f"references {', '.join(written)} as the spec writes it (no bundle of the spec by that name)")
    if item.reused:
        parts.append("reuses the existing field storage")
    if item.help_text.strip():
        parts.append("help text as in the table")
    return _held(item, _with_notes(f"Field {named(item)}: {', '.join(parts)}", item) + ".")


def _display_criterion(item: spec.ViewDisplay) -> str:
    plugin = (
        f" uses the {with_id(item.display_plugin, item.display_plugin_id)} display plugin"
        if item.display_plugin
        else " exists"
    )
    return _held(item, _with_notes(f"Display {named(item)}{plugin}", item) + ".")


def _view_criteria(item: spec.View) -> list[str]:
    facts = [
        f"base table {with_id(item.base_table, item.base_table_id)}" if item.base_table else "",
        f"status {item.enabled}" if item.enabled else "",
    ]
    said = ", ".join(f for f in facts if f)
    return [f"The view {named(item)} exists" + (f" with {said}" if said else "") + "."]


def _workflow_criteria(item: spec.Workflow, model: spec.SpecModel) -> list[str]:
    kind = f" of type {item.workflow_type}" if item.workflow_type else ""
    lines = [f"The workflow {named(item)}{kind} exists."]
    if item.bundles:
        lines.append(f"{item.label} moderates exactly: {', '.join(bundle_label(model, b) for b in item.bundles)}.")
    return lines


def _transition_criteria(rows: Sequence[spec.WorkflowTransition], model: spec.SpecModel) -> list[str]:
    """One criterion per transition, its from-states joined over the rows that spell it out one per state."""
    by_name: dict[str, list[spec.WorkflowTransition]] = {}
    for row in rows:
        by_name.setdefault(row.machine_name, []).append(row)
    lines = []
    for group in by_name.values():
        first = group[0]
        states = {s.machine_name: s.label for s in model.states if s.workflow == first.workflow}
        sources = dict.fromkeys(states.get(s, s) for row in group for s in row.from_states)
        target = states.get(first.to_state, first.to_state) or "an unresolved state"
        notes = dict.fromkeys(readable(row.notes) for row in group if row.notes.strip())
        text = f"Transition {named(first)} goes from {', '.join(sources) or 'no resolved state'} to {target}"
        if notes:
            text += f"; the spec notes: {' / '.join(notes)}"
        lines.append(_held(first, text + "."))
    return lines


def _style_criterion(item: spec.ImageStyle, effects: Sequence[spec.ImageEffect]) -> str:
    mine = [e for e in effects if e.image_style == item.machine_name]
    if mine:
        listed = "; ".join(
            " ".join(filter(None, (e.effect or e.label, f"({e.settings})" if e.settings else ""))) for e in mine
        )
        return _held(item, f"Image style {named(item)} applies, in order: {listed}.")
    if notes := readable(item.notes).rstrip("."):
        return _held(item, f"Image style {named(item)} applies: {notes}.")
    return _held(item, f"Image style {named(item)} exists.")


def _responsive_criteria(item: spec.ResponsiveImageStyle, model: spec.SpecModel) -> list[str]:
    def style(name: str) -> str:
        found = model.image_style_by_key.get(name)
        return named(found) if found else name

    parts = []
    if item.breakpoint_group:
        parts.append(f"breakpoint group {item.breakpoint_group}")
    if item.breakpoints:
        parts.append(f"breakpoints {item.breakpoints}")
    parts.append(
        f"fallback image style {style(item.fallback_style)}" if item.fallback_style else "no fallback resolved"
    )
    lines = [_with_notes(f"Responsive image style {named(item)} uses {', '.join(parts)}", item) + "."]
    if item.image_styles:
        lines.append(
            f"Each breakpoint of {item.label} maps to one of: {', '.join(style(s) for s in item.image_styles)}."
        )
    return lines


def _view_mode_criterion(item: spec.ViewMode, model: spec.SpecModel) -> str:
    text = f"View mode {named(item)} exists for {item.entity_type_label or item.entity_type}"
    if item.used_on:
        text += " and is enabled on " + ", ".join(bundle_label(model, b) for b in item.used_on)
    return _held(item, _with_notes(text, item) + ".")


def _simple(item: spec.SpecItem, noun: str) -> str:
    return _held(item, _with_notes(f"{noun} {named(item)} exists", item) + ".")


def removal_criterion(item: spec.SpecItem, model: spec.SpecModel, suggested: Suggested | None = None) -> str:
    """What one removal removes, by the item's own label and machine name and where it sits; a parent the spec
    names wrongly is named by intake's one suggestion, with what the spec wrote."""
    where = ""
    better = {text: name for _, text, name in (suggested or {}).get((item.source.file, item.source.record), ())}
    if isinstance(item, spec.FieldInstance) and item.bundle:
        where = f" from {bundle_label(model, item.bundle)}"
    elif isinstance(item, spec.ViewDisplay):
        view = model.view_by_key.get(item.view)
        written = item.view_label or item.view
        where = f" from the {view.label} view" if view else f" from the {written} view"
        if view is None and written in better:
            where = f" from the {better[written]} view ('{written}' in the spec, as intake suggests)"
    elif isinstance(item, spec.WorkflowState | spec.WorkflowTransition):
        flow = model.workflow_by_key.get(item.workflow)
        where = f" from the {flow.label if flow else item.workflow} workflow"
    elif isinstance(item, spec.ImageEffect):
        where = f" from the {item.image_style} image style"
    noun = noun_of(item)
    return f"{noun[0].upper()}{noun[1:]} {named(item)} is removed{where}, with nothing left referring to it."


def not_built_criterion(item: spec.SpecItem) -> str:
    return f"Do not build {noun_of(item)} {named(item)}: the spec marks it to be deleted (d) inside new work."


def _states_criterion(states: Sequence[spec.WorkflowState]) -> str:
    notes = "".join(f"; {s.label}: {readable(s.notes)}" for s in states if s.notes.strip())
    return f"The workflow has exactly the states {', '.join(named(s) for s in states)}{notes}."


def _item_criteria(item: spec.SpecItem, model: spec.SpecModel, effects: Sequence[spec.ImageEffect]) -> list[str]:
    """Criteria for one row of any kind but states and transitions (those are stated per workflow)."""
    if isinstance(item, spec.Bundle):
        return bundle_criteria(item)
    if isinstance(item, spec.FieldInstance):
        return [field_criterion(item, model)]
    if isinstance(item, spec.View):
        return _view_criteria(item)
    if isinstance(item, spec.ViewDisplay):
        return [_display_criterion(item)]
    if isinstance(item, spec.Workflow):
        return _workflow_criteria(item, model)
    if isinstance(item, spec.ImageStyle):
        return [_style_criterion(item, effects)]
    if isinstance(item, spec.ResponsiveImageStyle):
        return _responsive_criteria(item, model)
    if isinstance(item, spec.ViewMode):
        return [_view_mode_criterion(item, model)]
    if isinstance(item, spec.Role):
        return [_simple(item, "Role")]
    if isinstance(item, spec.Menu):
        return [_simple(item, "Menu")]
    return []  # image effects are stated with their style


# Where (file, record) -> what intake could not resolve there and the one name it suggests: (column, text, name).
Suggested = Mapping[tuple[str, int], Sequence[tuple[str, str, str]]]
_UNKNOWN = re.compile(r"""^(['"])(.*?)\1 does not exist""")
_A_SET = re.compile(r"(?:all|any|every)\b", re.IGNORECASE)


def unique_suggestions(findings: Iterable[Finding]) -> dict[tuple[str, int], list[tuple[str, str, str]]]:
    """Intake's unresolved references that have exactly one suggestion, by row: the ticket uses that name as intake
    wrote it (not a paraphrase), marked as a suggestion for the spec author to confirm."""
    found: dict[tuple[str, int], list[tuple[str, str, str]]] = {}
    for finding in findings:
        if finding.code != Code.UNKNOWN_REFERENCE or not finding.suggestion or ", " in finding.suggestion:
            continue
        text = match.group(2) if (match := _UNKNOWN.match(finding.message)) else finding.value
        if _A_SET.match(text):  # "All", "All except layout sections": a set of bundles, not a misspelt name
            continue
        found.setdefault((finding.file, finding.record), []).append((finding.column, text, finding.suggestion))
    return found


def suggestion_criteria(item: spec.SpecItem, suggested: Suggested) -> list[str]:
    """ "Entities Used On 'Program' of Content Thumbnail (content_thumbnail) names nothing in the spec: use Academic
    Program, intake's suggestion, once the spec author confirms it." """
    return [
        f"{column} '{text}' of {named(item)} names nothing in the spec: use {name}, intake's suggestion, once the "
        "spec author confirms it."
        for column, text, name in suggested.get((item.source.file, item.source.record), ())
    ]


def criteria_for(
    items: Iterable[spec.SpecItem],
    model: spec.SpecModel,
    *,
    removal: bool = False,
    dropped: Iterable[spec.SpecItem] = (),
    suggested: Suggested | None = None,
) -> tuple[str, ...]:
    """Criteria for the rows a ticket delivers (`items`), in their order, plus a "do not build" line per dropped row;
    each row intake could not resolve but has one suggestion for gets a line naming it (`unique_suggestions`)."""
    items = list(items)
    suggested = suggested or {}
    if removal:
        return tuple(dict.fromkeys(removal_criterion(item, model, suggested) for item in items))
    effects = [i for i in items if isinstance(i, spec.ImageEffect)]
    transitions = [i for i in items if isinstance(i, spec.WorkflowTransition)]
    states = [i for i in items if isinstance(i, spec.WorkflowState)]
    lines: list[str] = []
    for item in items:
        if isinstance(item, spec.WorkflowState):
            if item is states[0]:
                lines.append(_states_criterion(states))
        elif isinstance(item, spec.WorkflowTransition):
            if item is transitions[0]:
                lines.extend(_transition_criteria(transitions, model))
        else:
            lines.extend(_item_criteria(item, model, effects))
        lines.extend(suggestion_criteria(item, suggested))
    lines.extend(not_built_criterion(item) for item in dropped)
    return tuple(dict.fromkeys(lines))
