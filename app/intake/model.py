"""The normalised spec model: what the spec says, independent of how the CSV files spelled it.

Every item is a frozen dataclass with
- its scoped identity (`key`) and a stable graph node id (`node_id`), e.g. "bundle:node:academic_program";
- `status` (the raw `X` cell) and `action` (what the status mapping made of it);
- `cells`: every original cell of its row, header -> raw text, verbatim, for exact copying into tickets;
- typed, normalised attributes (stripped text, resolved machine names, parsed cardinality, ...);
- `source`: the file, record number and physical line it came from.

References are stored resolved, as the target's key, when the intake could resolve them; the raw text stays in
`cells`. This module is a stable contract for ticket generation: fields are only ever added, never renamed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TypeVar

UNLIMITED = -1
"""Cardinality value for `*` (unlimited values)."""


class Action(StrEnum):
    """What the implementation status asks for."""

    BUILD = "build"
    CHANGE = "change"
    HOLD = "hold"  # build, but flagged on hold
    REMOVE = "remove"
    NONE = "none"  # implemented already or undecided: no ticket


class SpecKind(StrEnum):
    """The kinds of spec file (one spreadsheet tab each)."""

    BUNDLES = "bundles"
    FIELDS = "fields"
    VIEWS = "views"
    VIEW_DISPLAYS = "view_displays"
    VIEW_MODES = "view_modes"
    IMAGE_STYLES = "image_styles"
    IMAGE_EFFECTS = "image_effects"
    RESPONSIVE_IMAGE_STYLES = "responsive_image_styles"
    ROLES = "roles"
    WORKFLOWS = "workflows"
    WORKFLOW_STATES = "workflow_states"
    WORKFLOW_TRANSITIONS = "workflow_transitions"
    MENUS = "menus"


@dataclass(frozen=True, slots=True)  # one per row, 100,000 in a big spec: no instance dict
class SourceRef:
    """Where a row came from: file name, 1-based data record number (header excluded), 1-based physical line."""

    file: str
    record: int
    line: int

    def __str__(self) -> str:
        return f"{self.file} record {self.record} (line {self.line})"


BundleKey = tuple[str, str]
"""(entity type machine name, bundle machine name), e.g. ("node", "academic_program")."""


class RowCells(Mapping[str, str]):
    """A row's cells, header -> raw text, read-only. It shares its sheet's header index and its record's cell tuple,
    so a 100,000-row spec does not hold a dict per row (they were 40% of its intake's memory). Missing trailing cells
    read as empty; a repeated header name reads the last of its columns, as a dict built from the row would."""

    __slots__ = ("_cells", "_index")

    def __init__(self, index: Mapping[str, int], cells: tuple[str, ...]) -> None:
        self._index = index
        self._cells = cells

    def __getitem__(self, header: str) -> str:
        i = self._index[header]
        return self._cells[i] if i < len(self._cells) else ""

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return repr(dict(self))

    # Immutable, like a tuple: `dataclasses.asdict` and `copy` may keep it as it is.
    def __copy__(self) -> RowCells:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> RowCells:
        return self


@dataclass(frozen=True, kw_only=True, slots=True)
class SpecItem:
    """What every row-backed item has."""

    label: str
    machine_name: str
    status: str
    action: Action
    source: SourceRef
    notes: str = ""
    cells: Mapping[str, str] = field(default_factory=dict, compare=False)

    # Every kind of item defines both; declared here so code over any SpecItem is checked.
    @property
    def key(self) -> Hashable:
        raise NotImplementedError

    @property
    def node_id(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True, slots=True)
class Bundle(SpecItem):
    """A content type, paragraph type, media type, block type or vocabulary. Key: (entity type, machine name)."""

    entity_type: str  # machine name: node, paragraph, media, block_content, taxonomy_term, or the raw type text
    entity_type_label: str  # as written, e.g. "Content type"
    description: str = ""

    @property
    def key(self) -> BundleKey:
        return (self.entity_type, self.machine_name)

    @property
    def node_id(self) -> str:
        return f"bundle:{self.entity_type}:{self.machine_name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldInstance(SpecItem):
    """A field on one bundle. Key: (bundle key, field machine name).

    `machine_name` is "" for base fields written as "-" (e.g. the entity label "Title").
    """

    bundle: BundleKey | None  # None when the bundle reference could not be resolved
    field_type: str = ""  # as written: a label ("Entity reference") or a plugin id
    required: bool | None = None
    cardinality: int | None = None  # UNLIMITED for "*"
    widget: str = ""  # as written
    reference_targets: tuple[BundleKey, ...] = ()
    reused: bool | None = None
    field_group: str = ""
    help_text: str = ""
    field_type_id: str = ""  # Drupal's field type plugin id ("entity_reference"); "" when unknown or a base field
    widget_id: str = ""  # Drupal's widget plugin id ("entity_reference_autocomplete"); "" when unknown or hidden
    translatable: bool | None = None

    @property
    def is_base_field(self) -> bool:
        return not self.machine_name

    @property
    def key(self) -> tuple[BundleKey | None, str]:
        return (self.bundle, self.machine_name or self.label.lower())

    @property
    def node_id(self) -> str:
        entity_type, bundle = self.bundle or ("?", "?")
        return f"field:{entity_type}:{bundle}:{self.machine_name or self.label.lower()}"


@dataclass(frozen=True, slots=True)
class FieldStorage:
    """One field storage (entity type, field name) shared by its instances; derived, not a row of its own.

    `field_types` and `cardinalities` list every distinct value the instances give; more than one is a conflict.
    """

    entity_type: str
    field_name: str
    field_types: tuple[str, ...]
    cardinalities: tuple[int, ...]
    sources: tuple[SourceRef, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.entity_type, self.field_name)

    @property
    def field_type(self) -> str:
        return self.field_types[0] if self.field_types else ""

    @property
    def cardinality(self) -> int | None:
        return self.cardinalities[0] if self.cardinalities else None


@dataclass(frozen=True, kw_only=True, slots=True)
class View(SpecItem):
    """A view. Key: machine name."""

    base_table: str = ""  # as written ("Content")
    enabled: str = ""  # as written ("Enabled")
    description: str = ""
    base_table_id: str = ""  # Drupal's base table ("node_field_data"); "" when unknown
    is_enabled: bool | None = None  # the status cell read as Enabled / Disabled

    @property
    def key(self) -> str:
        return self.machine_name

    @property
    def node_id(self) -> str:
        return f"view:{self.machine_name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class ViewDisplay(SpecItem):
    """A display of a view. Key: (view machine name, display machine name); `view` is "" when unresolved."""

    view: str
    view_label: str = ""  # as written in the row
    display_plugin: str = ""  # as written ("Block")
    display_plugin_id: str = ""  # Drupal's display plugin id ("block"); "" when unknown

    @property
    def key(self) -> tuple[str, str]:
        return (self.view, self.machine_name)

    @property
    def node_id(self) -> str:
        return f"display:{self.view or '?'}:{self.machine_name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class ViewMode(SpecItem):
    """A view mode of an entity type. Key: (entity type, machine name); the machine name is derived from the label
    when the spec has no machine name column."""

    entity_type: str
    entity_type_label: str = ""
    used_on: tuple[BundleKey, ...] = ()
    format: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.entity_type, self.machine_name)

    @property
    def node_id(self) -> str:
        return f"view_mode:{self.entity_type}:{self.machine_name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class ImageStyle(SpecItem):
    """An image style. Key: machine name."""

    @property
    def key(self) -> str:
        return self.machine_name

    @property
    def node_id(self) -> str:
        return f"image_style:{self.machine_name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class ImageEffect(SpecItem):
    """One effect of an image style. Key: (image style, machine name of the effect or its position)."""

    image_style: str  # machine name, "" when unresolved
    effect: str = ""
    weight: int | None = None
    settings: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.image_style, self.machine_name)

    @property
    def node_id(self) -> str:
        return f"image_effect:{self.image_style or '?'}:{self.machine_name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class ResponsiveImageStyle(SpecItem):
    """A responsive image style. Key: machine name. Style references hold image style machine names."""

    breakpoint_group: str = ""
    breakpoints: str = ""
    fallback_style: str = ""  # "" when unresolved
    image_styles: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.machine_name

    @property
    def node_id(self) -> str:
        return f"responsive_image_style:{self.machine_name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Role(SpecItem):
    """A user role. Key: machine name."""

    @property
    def key(self) -> str:
        return self.machine_name

    @property
    def node_id(self) -> str:
        return f"role:{self.machine_name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Workflow(SpecItem):
    """A workflow. Key: machine name. `bundles` are the moderated bundles, when the spec lists them."""

    workflow_type: str = ""
    bundles: tuple[BundleKey, ...] = ()

    @property
    def key(self) -> str:
        return self.machine_name

    @property
    def node_id(self) -> str:
        return f"workflow:{self.machine_name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkflowState(SpecItem):
    """A state of a workflow. Key: (workflow machine name, state machine name)."""

    workflow: str  # "" when unresolved

    @property
    def key(self) -> tuple[str, str]:
        return (self.workflow, self.machine_name)

    @property
    def node_id(self) -> str:
        return f"state:{self.workflow or '?'}:{self.machine_name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkflowTransition(SpecItem):
    """One row of a transition. Key: (workflow, machine name).

    Specs often write one row per from-state, so several rows may share a key; `SpecModel.transition_groups` joins
    them. State references hold state machine names; unresolved ones are left out (`to_state` is then "").
    """

    workflow: str
    from_states: tuple[str, ...] = ()
    to_state: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.workflow, self.machine_name)

    @property
    def node_id(self) -> str:
        return f"transition:{self.workflow or '?'}:{self.machine_name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Menu(SpecItem):
    """A menu. Key: machine name."""

    description: str = ""

    @property
    def key(self) -> str:
        return self.machine_name

    @property
    def node_id(self) -> str:
        return f"menu:{self.machine_name}"


T = TypeVar("T", bound=SpecItem)
K = TypeVar("K", bound=Hashable)


def _first_by_key(items: tuple[T, ...], key: Callable[[T], K]) -> dict[K, T]:
    # The first row wins for lookups; later duplicates are reported as findings.
    index: dict[K, T] = {}
    for item in items:
        index.setdefault(key(item), item)
    return index


def _group_by(items: tuple[T, ...], owner: Callable[[T], K]) -> dict[K, tuple[T, ...]]:
    """Items grouped by owner, each group in spec order."""
    groups: dict[K, list[T]] = defaultdict(list)
    for item in items:
        groups[owner(item)].append(item)
    return {key: tuple(group) for key, group in groups.items()}


@dataclass(frozen=True)
class SpecModel:
    """The whole spec, in file order, with lookups by scoped key."""

    bundles: tuple[Bundle, ...] = ()
    fields: tuple[FieldInstance, ...] = ()
    storages: tuple[FieldStorage, ...] = ()
    views: tuple[View, ...] = ()
    displays: tuple[ViewDisplay, ...] = ()
    view_modes: tuple[ViewMode, ...] = ()
    image_styles: tuple[ImageStyle, ...] = ()
    image_effects: tuple[ImageEffect, ...] = ()
    responsive_image_styles: tuple[ResponsiveImageStyle, ...] = ()
    roles: tuple[Role, ...] = ()
    workflows: tuple[Workflow, ...] = ()
    states: tuple[WorkflowState, ...] = ()
    transitions: tuple[WorkflowTransition, ...] = ()
    menus: tuple[Menu, ...] = ()

    @cached_property
    def bundle_by_key(self) -> dict[BundleKey, Bundle]:
        return _first_by_key(self.bundles, lambda bundle: bundle.key)

    @cached_property
    def view_by_key(self) -> dict[str, View]:
        return _first_by_key(self.views, lambda view: view.key)

    @cached_property
    def image_style_by_key(self) -> dict[str, ImageStyle]:
        return _first_by_key(self.image_styles, lambda style: style.key)

    @cached_property
    def workflow_by_key(self) -> dict[str, Workflow]:
        return _first_by_key(self.workflows, lambda workflow: workflow.key)

    @cached_property
    def storage_by_key(self) -> dict[tuple[str, str], FieldStorage]:
        return {storage.key: storage for storage in self.storages}

    # Ticket generation asks these per bundle, view or workflow; scanning every item per call made that quadratic
    # in spec size, so each collection is grouped by its owner once, on first use.

    @cached_property
    def _fields_by_bundle(self) -> dict[BundleKey | None, tuple[FieldInstance, ...]]:
        return _group_by(self.fields, lambda f: f.bundle)

    @cached_property
    def _displays_by_view(self) -> dict[str, tuple[ViewDisplay, ...]]:
        return _group_by(self.displays, lambda d: d.view)

    @cached_property
    def _states_by_workflow(self) -> dict[str, tuple[WorkflowState, ...]]:
        return _group_by(self.states, lambda s: s.workflow)

    @cached_property
    def _transitions_by_workflow(self) -> dict[str, tuple[WorkflowTransition, ...]]:
        return _group_by(self.transitions, lambda t: t.workflow)

    def fields_of(self, bundle: BundleKey) -> tuple[FieldInstance, ...]:
        """The field instances of one bundle, in spec order."""
        return self._fields_by_bundle.get(bundle, ())

    def displays_of(self, view: str) -> tuple[ViewDisplay, ...]:
        return self._displays_by_view.get(view, ())

    def states_of(self, workflow: str) -> tuple[WorkflowState, ...]:
        return self._states_by_workflow.get(workflow, ())

    def transition_groups(self, workflow: str) -> dict[str, tuple[WorkflowTransition, ...]]:
        """Transitions of one workflow: machine name -> its rows (one per from-state)."""
        return _group_by(self._transitions_by_workflow.get(workflow, ()), lambda t: t.machine_name)

    def counts(self) -> dict[str, int]:
        """Item counts per collection, for summaries."""
        return {name: len(getattr(self, name)) for name in self.__dataclass_fields__}
