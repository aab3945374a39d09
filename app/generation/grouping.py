"""Grouping: spec items -> deliverable units, one ticket each, as PRODUCT.md "What one ticket is" describes.

Each unit owns the rows it delivers (`items`); a row is owned by at most one unit, which is what lets row-level
dependency edges fold into ticket links. Rows that are shown for context but delivered elsewhere (the bundle an
"update" ticket changes, the bundles a workflow moderates) appear in tables without being owned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.generation.behat import ticket_feature
from app.generation.briefs import facts_for, machine_names_for
from app.generation.citations import row_ref
from app.generation.criteria import Suggested, criteria_for
from app.generation.naming import VERBS, area_of, labels_for, noun_of, plural, title
from app.generation.personas import persona_for
from app.generation.tables import Table, cell_by_role, rows_table, settings_table
from app.generation.tickets import TicketAction, TicketDraft
from app.intake.model import Action, Bundle, ResponsiveImageStyle, SpecItem, SpecModel
from app.intake.names import split_list

WORK = frozenset({Action.BUILD, Action.CHANGE, Action.HOLD})
# What a developer needs to see of every field without opening an attachment.
FIELD_SUMMARY = ("label", "machine_name", "field_type", "required", "cardinality", "widget", "ref_bundle")

# Density and format variants of an image style, by this spec style's naming: 42x42 -> 42x42_1_5x, 42x42_2x,
# 42x42_non-webp. A responsive style's family is its mapped styles plus these variants.
_VARIANT = re.compile(r"(?:_\d+(?:_\d+)?x)?(?:[_-]non[-_]?webp)?")

# What a unit's action makes of its ticket; units are only built for work, so Action.NONE has no entry.
TICKET_ACTIONS: dict[Action, TicketAction] = {
    Action.BUILD: "build",
    Action.CHANGE: "change",
    Action.REMOVE: "remove",
    Action.HOLD: "hold",
}


@dataclass
class Unit:
    """One ticket in the making: what it delivers (`items`), what it shows (`tables`) and how it is named."""

    key: str
    action: Action
    verb: str
    kind: str
    subject: str
    items: list[SpecItem]
    tables: list[Table]
    counts: str = ""
    subjects: list[SpecItem] = field(default_factory=list)  # the items the ticket is about; their notes are shown
    shown: list[SpecItem] = field(default_factory=list)  # context rows delivered elsewhere
    remarks: list[str] = field(default_factory=list)
    dropped: list[SpecItem] = field(default_factory=list)  # rows marked d inside new work: not to be built
    uses: list[SpecItem] = field(default_factory=list)  # rows built elsewhere that this work needs first

    def draft(self, model: SpecModel, suggested: Suggested | None = None) -> TicketDraft:
        """The draft without findings and links (those need every unit)."""
        area = area_of(self.items[0] if self.items else self.shown[0])
        on_hold = self.action is Action.HOLD
        single = len(self.subjects) == 1
        notes = [item.notes if single else f"{item.label}: {item.notes}" for item in self.subjects if item.notes]
        held = [
            f"{item.label} ({item.source.file}, {row_ref(item).name})"
            for item in self.items
            if item.action is Action.HOLD and not on_hold
        ]
        heading = title(area, self.verb, self.subject, self.counts, on_hold)
        return TicketDraft(
            key=self.key,
            title=heading,
            area=area,
            action="hold" if on_hold else TICKET_ACTIONS[self.action],
            labels=labels_for(area, self.action),
            kind=self.kind,
            subject=self.subject,
            tables=tuple(self.tables),
            notes=tuple(notes),
            remarks=tuple(self.remarks),
            held=tuple(held),
            criteria=criteria_for(
                self.items, model, removal=self.action is Action.REMOVE, dropped=self.dropped, suggested=suggested
            ),
            persona=persona_for(self.kind, [*self.items, *self.shown], notes, model),
            behat="" if self.action is Action.REMOVE else ticket_feature(heading, self.items, model),
            on_hold=on_hold,
            facts=facts_for(self.subjects, self.tables),
            machine_names=machine_names_for([*self.items, *self.shown]),
            source=tuple(sorted({(i.source.file, i.source.record) for i in self.items})),
            rows=tuple(row_ref(i) for i in self.items),
        )


def _by_key(items: Iterable[SpecItem]) -> dict[Hashable, list[SpecItem]]:
    """Rows per scoped key, in first-seen order: duplicate rows join the first row's ticket."""
    groups: dict[Hashable, list[SpecItem]] = {}
    for item in items:
        groups.setdefault(item.key, []).append(item)
    return groups


def _group_action(items: Sequence[SpecItem]) -> Action:
    """The action of a grouped ticket: on hold only when all its work is; build when anything is new."""
    actions = {item.action for item in items if item.action in WORK}
    if actions == {Action.HOLD}:
        return Action.HOLD
    return Action.BUILD if actions & {Action.BUILD, Action.HOLD} else Action.CHANGE


def _key_action(action: Action) -> str:
    # Hold is build with a flag: a status change from w to a must keep the key, so re-runs match the ticket.
    return "change" if action is Action.CHANGE else "build"


def _distinct(items: Sequence[SpecItem]) -> int:
    return len({item.key for item in items})


@dataclass(frozen=True)
class _Section:
    """One kind of child rows of a parent (fields of a bundle, states of a workflow)."""

    title: str
    noun: str
    parent_role: str  # the child's column naming the parent: redundant inside the parent's ticket
    removal: str  # removal group for removed children of kept parents
    children: dict[Any, list[SpecItem]]
    summary_roles: tuple[str, ...] = ()  # the columns that stay inline when the table is attached


class Grouper:
    """Turns a spec model into units, in spec order: content model, views, images, display, access, workflow."""

    def __init__(self, model: SpecModel, *, existing_site: bool = False) -> None:
        self.model = model
        self.existing_site = existing_site
        self.units: list[Unit] = []
        self.removals: dict[str, list[SpecItem]] = {}

    def run(self) -> list[Unit]:
        m = self.model
        fieldless: list[SpecItem] = []
        self._families(
            m.bundles,
            [_Section("Fields", "field", "bundle", "fields", _children(m.fields, "bundle"), FIELD_SUMMARY)],
            "bundle",
            fieldless.extend,
        )
        if fieldless:
            self._group(
                fieldless,
                "vocabularies",
                subject=plural("vocabulary", _distinct(fieldless)),
                kind="vocabularies",
                counts="no fields",
            )
        self._families(
            m.views, [_Section("Displays", "display", "view", "view_displays", _children(m.displays, "view"))], "view"
        )
        self._images()
        self._flat(m.roles, "roles", "roles")
        self._families(
            m.workflows,
            [
                _Section("States", "state", "workflow", "workflow_states", _children(m.states, "workflow")),
                _Section(
                    "Transitions",
                    "transition",
                    "workflow",
                    "workflow_transitions",
                    _children(m.transitions, "workflow"),
                ),
            ],
            "workflow",
        )
        self._flat(m.menus, "menus", "menus")
        for name, items in self.removals.items():
            self._removal_unit(name, items)
        return self.units

    def _exists(self, parent: SpecItem) -> bool:
        """Whether removing a child of `parent` removes something: the parent exists today, or the admin said the
        spec describes an existing site, where a row marked d exists whatever its parent's status."""
        return self.existing_site or exists_today(parent)

    # Parents with children: bundles/fields, views/displays, workflows/states+transitions

    def _families(
        self,
        parents: Sequence[SpecItem],
        sections: list[_Section],
        prefix: str,
        fieldless: Callable[[list[SpecItem]], None] | None = None,
    ) -> None:
        for key, rows in _by_key(parents).items():
            parent = rows[0]
            children = [(s, s.children.pop(key, [])) for s in sections]
            if parent.action is Action.REMOVE:
                removal = f"bundle.{parent.entity_type}" if isinstance(parent, Bundle) else prefix + "s"
                self._remove(removal, [*rows, *(c for _, items in children for c in items)])
                continue
            removed = [c for _, items in children for c in items if c.action is Action.REMOVE]
            if self._exists(parent):
                for section, items in children:
                    self._remove(section.removal, [c for c in items if c.action is Action.REMOVE])
            kept = [(s, [c for c in items if c.action is not Action.REMOVE]) for s, items in children]
            if parent.action in WORK:
                if (
                    fieldless is not None
                    and getattr(parent, "entity_type", "") == "taxonomy_term"
                    and not any(items for _, items in kept)
                ):
                    fieldless(rows)
                    continue
                self._family_unit(prefix, rows, kept, update=False, dropped=[] if self._exists(parent) else removed)
            elif any(c.action in WORK for _, items in kept for c in items):
                self._family_unit(
                    prefix, rows, [(s, [c for c in items if c.action in WORK]) for s, items in kept], update=True
                )
        for section in sections:  # children whose parent the spec does not define
            orphans = [c for items in section.children.values() for c in items]
            self._remove(section.removal, [c for c in orphans if c.action is Action.REMOVE])
            if work := [c for c in orphans if c.action in WORK]:
                self._group(
                    work,
                    f"{section.removal}.unassigned",
                    kind=section.noun,
                    subject=f"{plural(section.noun, _distinct(work))} without a {prefix} in the spec",
                )

    def _family_unit(
        self,
        prefix: str,
        rows: list[SpecItem],
        sections: list[tuple[_Section, list[SpecItem]]],
        update: bool,
        dropped: Sequence[SpecItem] = (),
    ) -> None:
        parent = rows[0]
        noun = noun_of(parent)
        scope = f"{parent.entity_type}." if isinstance(parent, Bundle) else ""
        action = Action.CHANGE if update else parent.action
        tables = [
            settings_table(f"{parent.label} {noun} settings", parent, omit=("notes",))
            if len(rows) == 1
            else rows_table(f"{parent.label} {noun} rows", rows, omit=("notes",))
        ]
        tables += [
            rows_table(s.title, items, omit=(s.parent_role,), summary_roles=s.summary_roles)
            for s, items in sections
            if items
        ]
        children = [c for _, items in sections for c in items]
        shown: list[SpecItem] = []
        if bundles := [
            self.model.bundle_by_key[b] for b in getattr(parent, "bundles", ()) if b in self.model.bundle_by_key
        ]:
            tables.append(rows_table("Moderated bundles", bundles))
            shown = list(bundles)
        # An update changes an existing item: the parent row is context, not something this ticket delivers.
        owned = children if update else [*rows, *children]
        self.units.append(
            Unit(
                key=f"{prefix}.{scope}{parent.machine_name}.{'update' if update else _key_action(action)}",
                action=action,
                verb="Update" if update else VERBS[action],
                kind=noun,
                subject=f"{parent.label} {noun}",
                items=owned,
                tables=tables,
                counts=", ".join(plural(s.noun, _distinct(items)) for s, items in sections),
                subjects=[] if update else rows[:1],
                shown=[*shown, *(rows if update else [])],
                dropped=list(dropped),
            )
        )

    # Images: one ticket per responsive style with its style family and matching view mode; leftovers grouped

    def _images(self) -> None:
        m = self.model
        styles = _by_key(m.image_styles)
        effects = _children(m.image_effects, "image_style")
        claimed_modes: set[Hashable] = set()
        owners = _family_owners(m.responsive_image_styles, styles)
        claimed = set(owners)
        for rows in _by_key(m.responsive_image_styles).values():
            style = rows[0]
            if style.action is Action.REMOVE:
                self._remove("responsive_image_styles", rows)
            if style.action not in WORK:
                continue
            assert isinstance(style, ResponsiveImageStyle)
            seeds = _seeds(style, styles)
            family = [k for k in styles if owners.get(k) == style.key]
            modes = [
                v
                for v in m.view_modes
                if v.machine_name == style.machine_name and v.action in WORK and v.key not in claimed_modes
            ]
            claimed_modes.update(v.key for v in modes)
            family_rows = [s for k in family for s in styles[k]]
            tables = [settings_table(f"{style.label} responsive image style settings", style, omit=("notes",))]
            tables += self._style_tables(family_rows, effects, "Image style family")
            if modes:
                tables.append(rows_table("Matching view mode", modes))
            used = [styles[s][0] for s in seeds if s in styles and s not in family and styles[s][0].action in WORK]
            elsewhere = [s.label for s in used]
            remarks = [f"Also uses image styles built in other tickets: {', '.join(elsewhere)}."] if elsewhere else []
            self.units.append(
                Unit(
                    key=f"responsive_image_style.{style.machine_name}.{_key_action(style.action)}",
                    action=style.action,
                    verb=VERBS[style.action],
                    kind="responsive image style",
                    subject=f"{style.label} responsive image style",
                    items=[*rows, *family_rows, *modes, *self._effects_of(family_rows, effects)],
                    tables=tables,
                    counts=", ".join(
                        filter(
                            None, (plural("image style", len(family)), plural("view mode", len(modes)) if modes else "")
                        )
                    ),
                    subjects=rows[:1],
                    remarks=remarks,
                    uses=used,
                )
            )
        leftover: list[SpecItem] = []
        for key, rows in styles.items():
            if rows[0].action is Action.REMOVE:
                self._remove("image_styles", [*rows, *effects.pop(key, [])])
            elif rows[0].action in WORK and key not in claimed:
                leftover.extend(rows)
        # Effects of existing styles (status x) still need building: they join the leftover ticket.
        owned = claimed | {s.key for s in leftover}
        orphan_effects = [e for k, items in effects.items() if k not in owned for e in items if e.action in WORK]
        self._remove("image_effects", [e for items in effects.values() for e in items if e.action is Action.REMOVE])
        if leftover or orphan_effects:
            self._group(
                [*leftover, *self._effects_of(leftover, effects), *orphan_effects],
                "image_styles",
                kind="image styles",
                subject=plural("image style", _distinct(leftover)),
                tables=self._style_tables(leftover, effects, "Image styles", orphan_effects),
            )
        modes = [v for v in m.view_modes if v.key not in claimed_modes]
        self._flat(modes, "view_modes", "view modes")

    @staticmethod
    def _effects_of(styles: Sequence[SpecItem], effects: dict[Any, list[SpecItem]]) -> list[SpecItem]:
        keys = dict.fromkeys(s.key for s in styles)
        return [e for k in keys for e in effects.get(k, []) if e.action is not Action.REMOVE]

    def _style_tables(
        self,
        styles: Sequence[SpecItem],
        effects: dict[Any, list[SpecItem]],
        heading: str,
        extra_effects: Sequence[SpecItem] = (),
    ) -> list[Table]:
        tables = [rows_table(heading, styles)] if styles else []
        if chosen := [*self._effects_of(styles, effects), *extra_effects]:
            tables.append(rows_table("Image effects", chosen))
        return tables

    # Flat kinds: one grouped ticket for the work, removals grouped

    def _flat(self, items: Sequence[SpecItem], name: str, kind: str) -> None:
        self._remove(name, [i for i in items if i.action is Action.REMOVE])
        if work := [i for i in items if i.action in WORK]:
            self._group(work, name, kind=kind, subject=plural(noun_of(work[0]), _distinct(work)))

    def _group(
        self,
        items: list[SpecItem],
        name: str,
        *,
        kind: str,
        subject: str,
        counts: str = "",
        tables: list[Table] | None = None,
    ) -> None:
        action = _group_action(items)
        self.units.append(
            Unit(
                key=f"{name}.{_key_action(action)}",
                action=action,
                verb=VERBS[action],
                kind=kind,
                subject=subject,
                items=items,
                tables=tables or [rows_table(subject[0].upper() + subject[1:], items, omit=("notes",))],
                counts=counts,
                subjects=list(items) if tables is None else [],
            )
        )

    # Removals, grouped per kind

    def _remove(self, name: str, items: Sequence[SpecItem]) -> None:
        if items:
            self.removals.setdefault(name, []).extend(items)

    def _removal_unit(self, name: str, items: list[SpecItem]) -> None:
        by_noun: dict[str, list[SpecItem]] = {}
        for item in items:
            by_noun.setdefault(noun_of(item), []).append(item)
        (noun, primary), *others = by_noun.items()
        self.units.append(
            Unit(
                key=f"remove.{name}",
                action=Action.REMOVE,
                verb=VERBS[Action.REMOVE],
                kind="removal",
                subject=plural(noun, _distinct(primary)),
                items=items,
                tables=[
                    rows_table(
                        plural(n, _distinct(group)).split(" ", 1)[1].capitalize(),
                        group,
                        # Fields of several bundles: which bundle each is on stays in the summary too.
                        summary_roles=("bundle", *FIELD_SUMMARY) if n == "field" else (),
                    )
                    for n, group in by_noun.items()
                ],
                counts=", ".join(plural(n, _distinct(group)) for n, group in others),
            )
        )


def exists_today(item: SpecItem) -> bool:
    """Whether the site has the item now (implemented, or changed since): only then is there anything to remove."""
    return item.status.strip().lower() in ("x", "c")


def _label_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _seeds(style: ResponsiveImageStyle, styles: dict[Hashable, list[SpecItem]]) -> list[str]:
    """The image styles a responsive style names: its fallback, the styles intake resolved, and for each group name
    every style whose label starts with it, punctuation aside ("Banner" -> "Banner Desk", "200x200 Non Crop" ->
    "200x200 (Non Crop) 2x"), which is what an image style group means."""
    seeds = [s for s in (style.fallback_style, *style.image_styles) if s]
    labels = {_label_key(rows[0].label): str(key) for key, rows in styles.items()}
    for text in split_list(cell_by_role(style, "image_styles")):
        if wanted := _label_key(text):
            seeds.extend(key for label, key in labels.items() if label.startswith(wanted))
    return list(dict.fromkeys(seeds))


def _seed_of(style: str, seeds: Iterable[str]) -> str | None:
    """The seed `style` is, or is a density/format variant of; None when it belongs to none of them."""
    return next((seed for seed in seeds if style.startswith(seed) and _VARIANT.fullmatch(style[len(seed) :])), None)


def _family_owners(responsive: Sequence[SpecItem], styles: dict[Hashable, list[SpecItem]]) -> dict[Hashable, str]:
    """Image style -> the responsive style whose ticket builds it.

    Several responsive styles may map one image style (492x492 maps 393x221); the owner must not depend on row
    order, or links would change between runs: the responsive style whose name the image style carries wins
    (874x492 owns 874x492_non-webp), then the one using it as fallback, then the first by name.
    """
    claims: dict[Hashable, list[tuple[bool, bool, str]]] = {}
    for style in responsive:
        if style.action not in WORK or not isinstance(style, ResponsiveImageStyle):
            continue
        seeds = _seeds(style, styles)
        for key, rows in styles.items():
            if rows[0].action in WORK and _seed_of(str(key), seeds) is not None:
                claims.setdefault(key, []).append(
                    (_seed_of(str(key), [style.machine_name]) is None, key != style.fallback_style, style.machine_name)
                )
    return {key: min(candidates)[2] for key, candidates in claims.items()}


def _children(items: Sequence[SpecItem], parent: str) -> dict[Any, list[SpecItem]]:
    """Items per parent key; a field's parent is its bundle key, a display's its view machine name, ..."""
    groups: dict[Any, list[SpecItem]] = {}
    for item in items:
        groups.setdefault(getattr(item, parent) or None, []).append(item)
    return groups


def group_units(model: SpecModel, *, existing_site: bool = False) -> list[Unit]:
    """The units of a spec model, in a deterministic order; `existing_site` is the Jira admin's setting (the spec
    describes a site that exists, so every row marked d is removal work)."""
    return Grouper(model, existing_site=existing_site).run()
