"""Model building: recognised sheets -> the SpecModel, resolving label references kind by kind."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from app.intake.findings import Code, Findings, Severity
from app.intake.model import (
    UNLIMITED,
    Bundle,
    BundleKey,
    FieldInstance,
    ImageEffect,
    ImageStyle,
    Menu,
    ResponsiveImageStyle,
    Role,
    SourceRef,
    SpecItem,
    SpecKind,
    SpecModel,
    View,
    ViewDisplay,
    ViewMode,
    Workflow,
    WorkflowState,
    WorkflowTransition,
)
from app.intake.names import (
    NameIndex,
    entity_type_label,
    entity_type_of,
    is_error_literal,
    split_list,
    split_reference,
    to_machine_name,
)
from app.intake.rows import NUMBER, Flag, Row, Sheet, lenient, rows
from app.intake.status import StatusMapping
from app.intake.storages import build_storages
from app.intake.vocabulary import (
    base_table_id,
    display_plugin_id,
    field_type_id,
    parse_cardinality,
    parse_enabled,
    parse_flag,
    widget_id,
)

Item = TypeVar("Item", bound=SpecItem)
Key = TypeVar("Key", bound=Hashable)


class ModelBuilder:
    """Builds the model in dependency order, so every reference finds its target's index already filled."""

    def __init__(self, sheets: dict[SpecKind, list[Sheet]], findings: Findings, mapping: StatusMapping) -> None:
        self.sheets = sheets
        self.findings = findings
        self.mapping = mapping
        self.index: dict[SpecKind, NameIndex] = {kind: NameIndex() for kind in SpecKind}
        self._unchecked_reported: set[tuple[str, SpecKind]] = set()
        self._collisions_reported: set[tuple[SpecKind, str]] = set()
        self._sources: dict[tuple[SpecKind, Hashable], SourceRef] = {}
        # Resolved references: what a reference resolved to and the flags it raised, per distinct input (see `_memo`).
        self._resolved: dict[Hashable, tuple[Any, list[Flag]]] = {}

    def build(self) -> SpecModel:
        # Each kind after the kinds it refers to: `_memo` relies on a target's index being complete.
        bundles = self._build(SpecKind.BUNDLES, self._bundle, scope=lambda b: b.entity_type)
        image_styles = self._build(SpecKind.IMAGE_STYLES, self._simple(ImageStyle))
        views = self._build(SpecKind.VIEWS, self._view)
        workflows = self._build(SpecKind.WORKFLOWS, self._workflow)
        fields = self._build(SpecKind.FIELDS, self._field, scope=lambda f: f.bundle)
        states = self._build(SpecKind.WORKFLOW_STATES, self._state, scope=lambda s: s.workflow)
        transitions = self._build(SpecKind.WORKFLOW_TRANSITIONS, self._transition, duplicates=False)
        _check_transitions(transitions, self.findings)
        return SpecModel(
            bundles=bundles,
            fields=fields,
            storages=build_storages(fields, self.findings, self._column_names(SpecKind.FIELDS)),
            views=views,
            displays=self._build(SpecKind.VIEW_DISPLAYS, self._display, scope=lambda d: d.view),
            view_modes=self._build(SpecKind.VIEW_MODES, self._view_mode, scope=lambda m: m.entity_type),
            image_styles=image_styles,
            image_effects=self._build(SpecKind.IMAGE_EFFECTS, self._effect, scope=lambda e: e.image_style),
            responsive_image_styles=self._build(SpecKind.RESPONSIVE_IMAGE_STYLES, self._responsive),
            roles=self._build(SpecKind.ROLES, self._simple(Role)),
            workflows=workflows,
            states=states,
            transitions=transitions,
            menus=self._build(SpecKind.MENUS, self._simple(Menu)),
        )

    def _build(
        self,
        kind: SpecKind,
        make: Callable[[Row], Item],
        *,
        scope: Callable[[Item], Hashable] | None = None,
        duplicates: bool = True,
    ) -> tuple[Item, ...]:
        seen_keys: dict[Hashable, SpecItem] = {}
        seen_labels: dict[tuple[Hashable, str], SpecItem] = {}
        items: list[Item] = []
        for row in (row for sheet in self.sheets.get(kind, ()) for row in rows(sheet, self.findings, self.mapping)):
            item = make(row)
            items.append(item)
            item_scope = scope(item) if scope else None
            key = item.key  # a property that builds a tuple: once per item
            self.index[kind].add(item_scope, item.label, item.machine_name, key)
            self._sources.setdefault((kind, key), item.source)
            if not duplicates:
                continue
            first = seen_keys.setdefault(key, item)
            if first is not item:
                row.flag(
                    Code.DUPLICATE_KEY,
                    Severity.WARNING,
                    # The other row by what it is, not where: a ticket shows this message, and positions move.
                    f"{kind.value} {item.machine_name or item.label!r} is already defined on an earlier row of "
                    f"{first.source.file}.",
                    "machine_name" if item.machine_name else "label",
                )
            elif item.label:
                first = seen_labels.setdefault((item_scope, item.label.casefold()), item)
                if first is not item:
                    row.flag(
                        Code.DUPLICATE_LABEL,
                        Severity.WARNING,
                        f"The label {item.label!r} is also used by {first.machine_name or first.label!r} in "
                        f"{first.source.file}; references to it are ambiguous.",
                        "label",
                    )
        return tuple(items)

    def _column_names(self, kind: SpecKind) -> dict[str, str]:
        sheet = next(iter(self.sheets.get(kind, ())), None)
        return {role: sheet.column_name(role) for role in sheet.roles} if sheet else {}

    # Rows -> items, one method per kind

    def _simple(self, cls: type[Item]) -> Callable[[Row], Item]:
        return lambda row: cls(**_base(row))

    def _bundle(self, row: Row) -> Bundle:
        type_label = row.get("entity_type")
        entity_type = entity_type_of(type_label)
        if entity_type is None and type_label:
            row.flag(Code.INVALID_VALUE, Severity.WARNING, f"Unknown entity type {type_label!r}.", "entity_type")
        return Bundle(
            **_base(row),
            entity_type=entity_type or to_machine_name(type_label),
            entity_type_label=type_label,
            description=row.get("description"),
        )

    def _view(self, row: Row) -> View:
        enabled, understood = parse_enabled(row.get("enabled"))
        if not understood:
            _unexpected(row, "enabled", "Enabled or Disabled")
        return View(
            **_base(row),
            base_table=row.get("base_table"),
            enabled=row.get("enabled"),
            description=row.get("description"),
            base_table_id=_mapped(row, "base_table", base_table_id(row.get("base_table")), "base table"),
            is_enabled=enabled,
        )

    def _workflow(self, row: Row) -> Workflow:
        bundles = [self._bundle_ref(row, "bundles", text) for text in split_list(row.get("bundles"))]
        return Workflow(**_base(row), workflow_type=row.get("workflow_type"), bundles=_present(bundles))

    def _field(self, row: Row) -> FieldInstance:
        bundle = self._bundle_ref(row, "bundle", row.get("bundle"))
        self._check_lookup(row, "bundle_lookup", bundle[1] if bundle else None)
        targets = [self._bundle_ref(row, "ref_bundle", text) for text in split_list(row.get("ref_bundle"))]
        base = _base(row)
        if base["machine_name"] == "-":
            base["machine_name"] = ""
        field_type, widget = row.get("field_type"), row.get("widget")
        type_id = _mapped(row, "field_type", field_type_id(field_type), "field type")
        return FieldInstance(
            **base,
            bundle=bundle,
            field_type=field_type,
            required=_flag(row, "required"),
            cardinality=_cardinality(row),
            widget=widget,
            reference_targets=_present(targets),
            reused=_flag(row, "reused"),
            field_group=row.get("field_group"),
            help_text=row.get("help_text"),
            field_type_id=type_id,
            widget_id=_mapped(row, "widget", widget_id(widget, type_id), "widget"),
            translatable=_flag(row, "translated"),
        )

    def _display(self, row: Row) -> ViewDisplay:
        view = self._resolve(row, "view", SpecKind.VIEWS, [None], hint_role="view_lookup")
        self._check_lookup(row, "view_lookup", view)
        plugin = row.get("display_plugin")
        return ViewDisplay(
            **_base(row),
            view=view or "",
            view_label=row.get("view"),
            display_plugin=plugin,
            display_plugin_id=_mapped(row, "display_plugin", display_plugin_id(plugin), "display plugin"),
        )

    def _view_mode(self, row: Row) -> ViewMode:
        type_label = row.get("entity_type")
        entity_type = entity_type_of(type_label) or to_machine_name(type_label)
        base = _base(row)
        base["machine_name"] = base["machine_name"] or to_machine_name(base["label"], SpecKind.VIEW_MODES)
        used_on = [
            self._resolve(row, "used_on", SpecKind.BUNDLES, [entity_type], text=text)
            for text in split_list(row.get("used_on"))
        ]
        return ViewMode(
            **base,
            entity_type=entity_type,
            entity_type_label=type_label,
            used_on=_present(used_on),
            format=row.get("format"),
        )

    def _responsive(self, row: Row) -> ResponsiveImageStyle:
        fallback = self._resolve(row, "fallback", SpecKind.IMAGE_STYLES, [None], hint_role="fallback_lookup")
        self._check_lookup(row, "fallback_lookup", fallback)
        styles = [
            self._resolve(row, "image_styles", SpecKind.IMAGE_STYLES, [None], text=text)
            for text in split_list(row.get("image_styles"))
        ]
        return ResponsiveImageStyle(
            **_base(row),
            breakpoint_group=row.get("breakpoint_group"),
            breakpoints=row.get("breakpoints"),
            fallback_style=fallback or "",
            image_styles=_present(styles),
        )

    def _effect(self, row: Row) -> ImageEffect:
        style = self._resolve(row, "image_style", SpecKind.IMAGE_STYLES, [None])
        weight = row.get("weight")
        base = _base(row)
        base["machine_name"] = base["machine_name"] or f"{row.record.number}"
        return ImageEffect(
            **base,
            image_style=style or "",
            effect=row.get("label"),
            weight=int(weight) if re.fullmatch(r"-?\d+", weight) else None,
            settings=row.get("settings"),
        )

    def _state(self, row: Row) -> WorkflowState:
        workflow = self._resolve(row, "workflow", SpecKind.WORKFLOWS, [None])
        return WorkflowState(**_base(row), workflow=workflow or "")

    def _transition(self, row: Row) -> WorkflowTransition:
        workflow = self._resolve(row, "workflow", SpecKind.WORKFLOWS, [None]) or ""
        from_states = [
            self._resolve(row, "from_state", SpecKind.WORKFLOW_STATES, [workflow], text=text)
            for text in split_list(row.get("from_state"))
        ]
        to_state = self._resolve(row, "to_state", SpecKind.WORKFLOW_STATES, [workflow])
        return WorkflowTransition(
            **_base(row),
            workflow=workflow,
            from_states=tuple(k[1] for k in _present(from_states)),
            to_state=to_state[1] if to_state else "",
        )

    # References

    def _bundle_ref(self, row: Row, role: str, text: str) -> BundleKey | None:
        """A bundle named "Label (Entity type)", or by its label or machine name alone when only one entity type has
        a bundle of that name. When several have ("Image": a media type and a paragraph type), the row's bundle
        machine name hint decides if it names one of them; otherwise the reference is reported with the candidates
        and assigned to none (never silently to the first)."""
        if SpecKind.BUNDLES not in self.sheets:  # unchecked: its note is raised once per file, so never replayed
            return self._find_bundle(row, role, text)
        hint = row.get("bundle_lookup") if role != "ref_bundle" else ""
        key: BundleKey | None = self._memo(
            row, ("bundle reference", role, text, hint), lambda: self._find_bundle(row, role, text)
        )
        return key

    def _find_bundle(self, row: Row, role: str, text: str) -> BundleKey | None:
        label, entity_type = split_reference(text)
        scopes = [entity_type] if entity_type else list(self.index[SpecKind.BUNDLES].scopes())
        if entity_type is None and len(scopes) > 1 and SpecKind.BUNDLES in self.sheets:
            index = self.index[SpecKind.BUNDLES]
            found = {s: index.find(s, label) for s in scopes}
            matching = [s for s, (key, _) in found.items() if key is not None]
            by_label = [s for s in matching if found[s][1] is not None]  # a label wins over a machine name
            if len(by_label) == 1:
                scopes = by_label
            elif len(by_label) > 1 or len(matching) > 1:
                return self._ambiguous_bundle(row, role, label, by_label or matching)
        key: BundleKey | None = self._resolve(
            row, role, SpecKind.BUNDLES, scopes, text=label, hint_role="bundle_lookup"
        )
        return key

    def _ambiguous_bundle(self, row: Row, role: str, label: str, entity_types: list[Hashable]) -> BundleKey | None:
        index = self.index[SpecKind.BUNDLES]
        keys = [key for s in entity_types if isinstance(key := index.find(s, label)[0], tuple)]
        hint = row.get("bundle_lookup").casefold() if role != "ref_bundle" else ""
        if hint and len(chosen := [k for k in keys if k[1].casefold() == hint]) == 1:
            return chosen[0]
        candidates = ", ".join(f"{label} ({entity_type_label(k[0])})" for k in keys)
        row.flag(
            Code.AMBIGUOUS_REFERENCE,
            Severity.WARNING,
            f"{label!r} names a bundle of {len(keys)} entity types ({candidates}), so this row is assigned to none "
            "of them. Write the entity type in brackets, as in the candidates.",
            role,
            value=label,
            suggestion=candidates,
        )
        return None

    def _resolve(
        self,
        row: Row,
        role: str,
        kind: SpecKind,
        scopes: Iterable[Hashable],
        *,
        text: str | None = None,
        hint_role: str = "",
    ) -> Any:
        """The key a label (or machine name) refers to, reporting unknown names and case differences."""
        name = row.get(role) if text is None else text
        if not name:
            return None
        scopes = list(scopes)
        hint = row.get(hint_role) if hint_role and role != "ref_bundle" else ""
        if kind not in self.sheets:
            return self._unchecked(row, role, kind, scopes, hint or to_machine_name(name, kind))
        return self._memo(
            row, (kind, role, name, tuple(scopes), hint), lambda: self._find(row, role, kind, scopes, name, hint)
        )

    def _memo(self, row: Row, key: Hashable, resolve: Callable[[], Any]) -> Any:
        """`resolve()` once per distinct reference (`key` holds every input it reads); a later row with the same one
        gets its outcome and raises the same flags, each quoting that row's own cell. Sound because every kind is
        built after the kinds it refers to, so the index a reference reads no longer changes; findings raised once
        (a label collision) are raised by the first resolution, as they were."""
        if (done := self._resolved.get(key)) is not None:
            for flag in done[1]:
                flag.replay(row)
            return done[0]
        flags: list[Flag] = []
        outer, row.recording = row.recording, flags
        try:
            outcome = resolve()
        finally:
            row.recording = outer
        if outer is not None:  # a reference resolved within another's first resolution: the outer one raised these too
            outer.extend(flags)
        self._resolved[key] = (outcome, flags)
        return outcome

    def _find(self, row: Row, role: str, kind: SpecKind, scopes: list[Hashable], text: str, hint: str) -> Any:
        index = self.index[kind]
        for scope in scopes:
            key, canonical = index.find(scope, text)
            sharing = index.sharing_label(scope, text) if canonical is not None else []
            if sharing:
                return self._by_hint(row, role, kind, sharing, text, hint)
            if key is not None:
                if canonical is not None and canonical != " ".join(text.split()):
                    row.flag(
                        Code.LABEL_CASE_MISMATCH,
                        Severity.INFO,
                        f"{text!r} matches {canonical!r} only when case is ignored.",
                        role,
                        suggestion=canonical,
                    )
                return key
        suggestions = ([hint] if hint and any(index.find(s, hint)[0] for s in scopes) else []) + index.suggest(
            scopes, text
        )
        row.flag(
            Code.UNKNOWN_REFERENCE,
            Severity.WARNING,
            f"{text!r} does not exist in {kind.value}." + (f" Did you mean {suggestions[0]!r}?" if suggestions else ""),
            role,
            suggestion=", ".join(dict.fromkeys(suggestions)),
        )
        return None

    def _by_hint(self, row: Row, role: str, kind: SpecKind, sharing: list[Hashable], text: str, hint: str) -> Any:
        """A label several items share: the machine-name hint decides; without one, nothing is assigned."""
        names = {_machine_name_of(key): key for key in sharing}
        if hint.casefold() in names:
            return names[hint.casefold()]
        what = kind.value.replace("_", " ")
        listed = ", ".join(names)
        row.flag(
            Code.AMBIGUOUS_REFERENCE,
            Severity.WARNING,
            f"{text!r} is the label of {len(sharing)} {what} ({listed}), so this row is assigned to none of them. "
            "Give the machine name in a lookup column (View ID) or rename one.",
            role,
            suggestion=listed,
        )
        if (kind, text.casefold()) not in self._collisions_reported:
            self._collisions_reported.add((kind, text.casefold()))
            for key in sharing:
                source = self._sources[(kind, key)]
                others = ", ".join(n for n, k in names.items() if k != key)
                self.findings.add(
                    Code.AMBIGUOUS_REFERENCE,
                    Severity.WARNING,
                    f"This {what.rstrip('s')} shares its label {text!r} with {others}; rows that name it by label "
                    f"(first: {row.source}) are assigned to neither.",
                    file=source.file,
                    record=source.record,
                    line=source.line,
                    column=row.sheet.column_name(role),
                    value=text,
                    suggestion=_machine_name_of(key),
                )
        return None

    def _unchecked(self, row: Row, role: str, kind: SpecKind, scopes: list[Hashable], machine_name: str) -> Any:
        """Without the target's file a reference cannot be checked: keep it by machine name, say so once per file."""
        if (row.source.file, kind) not in self._unchecked_reported:
            self._unchecked_reported.add((row.source.file, kind))
            row.flag(
                Code.UNCHECKED_REFERENCES,
                Severity.INFO,
                f"No {kind.value} file was uploaded, so references to "
                f"{kind.value} in this file are taken as written and not checked.",
                role,
            )
        scope = scopes[0] if len(scopes) == 1 else None
        if kind in (SpecKind.BUNDLES, SpecKind.WORKFLOW_STATES):
            return (scope, machine_name) if scope is not None else None
        return machine_name

    def _check_lookup(self, row: Row, role: str, resolved: Any) -> None:
        """Compare a computed lookup column with the reference resolved from the label."""
        if role not in row.sheet.roles:
            return
        raw = row.raw(role).strip()
        machine_name = resolved[-1] if isinstance(resolved, tuple) else resolved
        if raw and raw == machine_name:  # the usual case (a machine name is never a spreadsheet error: those read "")
            return
        name = row.sheet.column_name(role)
        if not raw:
            row.flag(
                Code.LOOKUP_BLANK,
                Severity.INFO,
                f"The computed column {name} is blank.",
                role,
                suggestion=machine_name or "",
            )
        elif is_error_literal(raw):
            row.flag(
                Code.LOOKUP_ERROR,
                Severity.WARNING,
                f"The computed column {name} shows {raw}; the reference was taken from the label.",
                role,
                suggestion=machine_name or "",
            )
        elif machine_name and raw != machine_name:
            row.flag(
                Code.LOOKUP_MISMATCH,
                Severity.WARNING,
                f"The computed column {name} says {raw!r} but the label refers to {machine_name!r}.",
                role,
                suggestion=machine_name,
            )


def _base(row: Row) -> dict[str, Any]:
    return {
        "label": row.get("label"),
        "machine_name": row.get("machine_name"),
        "status": row.status,
        "action": row.action,
        "source": row.source,
        "notes": row.get("notes"),
        "cells": row.cells,
    }


def _machine_name_of(key: Hashable) -> str:
    """The machine name in a key: the key itself, or its last part for scoped keys."""
    return str(key[-1] if isinstance(key, tuple) else key).casefold()


def _present(keys: Iterable[Key | None]) -> tuple[Key, ...]:
    return tuple(dict.fromkeys(k for k in keys if k is not None))


def _flag(row: Row, role: str) -> bool | None:
    """A yes/no cell; in a column written as a mark word or blank (`Required` / ""), blank means no."""
    if role not in row.sheet.roles:
        return None
    text = row.get(role)
    value, understood = parse_flag(text, role)
    if not understood:
        _unexpected(row, role, "y or n")
    elif value is None and not text and role in row.sheet.mark_roles:
        return False
    return value


def _cardinality(row: Row) -> int | None:
    value, understood = parse_cardinality(row.get("cardinality"))
    if not understood:
        _unexpected(row, "cardinality", "a number of values, * or Unlimited")
    return UNLIMITED if value == UNLIMITED else value


def _unexpected(row: Row, role: str, expected: str) -> None:
    """A cell outside its column's vocabulary, quoted exactly as the spec has it."""
    row.flag(Code.INVALID_VALUE, Severity.WARNING, f"Expected {expected}, found {row.raw(role)!r}.", role)


def _mapped(row: Row, role: str, plugin_id: str | None, what: str) -> str:
    """The Drupal id of a label; an unknown label is kept as written and noted once per cell."""
    if plugin_id is None and (label := row.get(role)) and not NUMBER.fullmatch(label):  # a number: misplaced instead
        row.flag(
            Code.UNMAPPED_VALUE,
            Severity.INFO,
            f"{row.raw(role)!r} is not a {what} this app knows; it is kept as written, without a Drupal id.",
            role,
        )
    return plugin_id or ""


def _check_transitions(transitions: tuple[WorkflowTransition, ...], findings: Findings) -> None:
    """Rows of one transition must agree on the target state and not repeat a from-state."""
    first: dict[tuple[str, str], WorkflowTransition] = {}
    seen: set[tuple[str, str, str]] = set()
    for transition in transitions:
        where = transition.source
        earlier = first.setdefault(transition.key, transition)
        if earlier.to_state != transition.to_state:
            findings.add(
                Code.TRANSITION_CONFLICT,
                lenient(Severity.WARNING, transition.action),
                f"Transition {transition.machine_name!r} goes to {transition.to_state!r} here but to "
                f"{earlier.to_state!r} on its row from {', '.join(earlier.from_states) or 'no state'!r}.",
                value=transition.to_state,
                file=where.file,
                record=where.record,
                line=where.line,
            )
        for state in transition.from_states:
            if (*transition.key, state) in seen:
                findings.add(
                    Code.DUPLICATE_KEY,
                    lenient(Severity.WARNING, transition.action),
                    f"Transition {transition.machine_name!r} from {state!r} is listed twice.",
                    value=state,
                    file=where.file,
                    record=where.record,
                    line=where.line,
                )
            seen.add((*transition.key, state))
