"""Acceptance tests in the Drupal Spec Tool's own Behat format: its step phrases and the table headers its contexts
expect (acquia/drupal-spec-tool, src/Context/*Context.php), with one row per spec row.

Each ticket carries the scenarios for what it builds; `spec_feature` is the whole spec as one `.feature` file, the
form the Spec Tool's "exactly the following ..." steps are meant for (they compare against the whole site). Kinds
the Spec Tool has no step for (responsive image styles, view modes) get no scenario.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.generation.tables import cell_by_role
from app.intake import model as spec

_UNLIMITED = "Unlimited"
# The statuses whose rows exist on the site once the spec is done: built (a, c, w) or there already (x).
_EXISTING = frozenset({spec.Action.BUILD, spec.Action.CHANGE, spec.Action.HOLD})


@dataclass(frozen=True)
class Step:
    """One Spec Tool step: its scenario name, phrase and the exact header its context expects."""

    scenario: str
    phrase: str
    header: tuple[str, ...]


def _step(scenario: str, phrase: str, header: str) -> Step:
    """A step with its header written as its Gherkin heading row reads ("| Name | Machine name |")."""
    return Step(
        scenario,
        f"Then exactly the following {phrase} should exist",
        tuple(h.strip() for h in header.strip("| ").split("|")),
    )


BUNDLES = _step("Bundles", "content entity type bundles", "| Name | Machine name | Type | Description |")
FIELDS = _step(
    "Fields",
    "fields",
    "| Bundle | Field label | Machine name | Field type | Required | Cardinality | Form widget | Translatable "
    "| Help text |",
)
VIEWS = _step("Views", "views", "| Name | Machine name | Base table | Status | Description |")
VIEW_DISPLAYS = _step("Views displays", "views displays", "| View | Title | Machine name | Display plugin |")
IMAGE_STYLES = _step("Image styles", "image styles", "| Style name | Machine name |")
IMAGE_EFFECTS = _step("Image effects", "image effects", "| Image style | Effect | Summary |")
ROLES = _step("Roles", "roles", "| Name | Machine name |")
MENUS = _step("Menus", "menus", "| Name | Machine name | Description |")
WORKFLOWS = _step("Workflows", "workflows", "| Label | Machine name | Type |")
WORKFLOW_STATES = _step("Workflow states", "workflow states", "| Workflow | Label | Machine name |")
WORKFLOW_TRANSITIONS = _step(
    "Workflow transitions", "workflow transitions", "| Workflow | Label | Machine name | From state | To state |"
)
STEPS = (
    BUNDLES,
    FIELDS,
    VIEWS,
    VIEW_DISPLAYS,
    IMAGE_STYLES,
    IMAGE_EFFECTS,
    ROLES,
    MENUS,
    WORKFLOWS,
    WORKFLOW_STATES,
    WORKFLOW_TRANSITIONS,
)

Row = tuple[str, ...]


def _flag(item: spec.SpecItem, role: str, word: str) -> str:
    return word if cell_by_role(item, role).lower() in ("y", "yes", "x", "true", "1") else ""


class _Rows:
    """Spec rows -> Spec Tool table rows, per step; references are written by label, as the contexts compare."""

    def __init__(self, model: spec.SpecModel) -> None:
        self.model = model

    def bundle_name(self, key: spec.BundleKey | None) -> str:
        bundle = self.model.bundle_by_key.get(key) if key else None
        return f"{bundle.label} ({bundle.entity_type_label})" if bundle else ""

    def of(self, item: spec.SpecItem) -> list[tuple[Step, Row]]:
        if isinstance(item, spec.Bundle):
            return [(BUNDLES, (item.label, item.machine_name, item.entity_type_label, item.description))]
        if isinstance(item, spec.FieldInstance):
            return [] if item.is_base_field else [(FIELDS, self.field(item))]
        if isinstance(item, spec.View):
            return [(VIEWS, (item.label, item.machine_name, item.base_table, item.enabled, item.description))]
        if isinstance(item, spec.ViewDisplay):
            view = self.model.view_by_key.get(item.view)
            return [
                (
                    VIEW_DISPLAYS,
                    (view.label if view else item.view_label, item.label, item.machine_name, item.display_plugin),
                )
            ]
        if isinstance(item, spec.ImageStyle):
            return [(IMAGE_STYLES, (item.label, item.machine_name))]
        if isinstance(item, spec.ImageEffect):
            style = self.model.image_style_by_key.get(item.image_style)
            return [
                (IMAGE_EFFECTS, (style.label if style else item.image_style, item.effect or item.label, item.settings))
            ]
        if isinstance(item, spec.Role):
            return [(ROLES, (item.label, item.machine_name))]
        if isinstance(item, spec.Menu):
            return [(MENUS, (item.label, item.machine_name, item.description))]
        if isinstance(item, spec.Workflow):
            return [(WORKFLOWS, (item.label, item.machine_name, item.workflow_type))]
        if isinstance(item, spec.WorkflowState):
            return [(WORKFLOW_STATES, (self.workflow_label(item.workflow), item.label, item.machine_name))]
        if isinstance(item, spec.WorkflowTransition):
            return [(WORKFLOW_TRANSITIONS, row) for row in self.transition(item)]
        return []

    def field(self, item: spec.FieldInstance) -> Row:
        cardinality = (
            _UNLIMITED
            if item.cardinality == spec.UNLIMITED
            else ""
            if item.cardinality is None
            else str(item.cardinality)
        )
        return (
            self.bundle_name(item.bundle),
            item.label,
            item.machine_name,
            item.field_type,
            "Required" if item.required else "",
            cardinality,
            item.widget,
            _flag(item, "translated", "Translatable"),
            cell_by_role(item, "help_text"),  # as written: the context compares the stored description, markup and all
        )

    def workflow_label(self, machine_name: str) -> str:
        workflow = self.model.workflow_by_key.get(machine_name)
        return workflow.label if workflow else machine_name

    def transition(self, item: spec.WorkflowTransition) -> list[Row]:
        """One row per from-state, as the context lists them."""
        states = {s.machine_name: s.label for s in self.model.states_of(item.workflow)}
        to = states.get(item.to_state, item.to_state)
        workflow = self.workflow_label(item.workflow)
        return [(workflow, item.label, item.machine_name, states.get(s, s), to) for s in item.from_states]


def tables_for(items: Iterable[spec.SpecItem], model: spec.SpecModel) -> dict[Step, list[Row]]:
    """The Spec Tool tables for `items`, in step order, rows in spec order, duplicates dropped."""
    rows = _Rows(model)
    found: dict[Step, dict[Row, None]] = {}
    for item in items:
        for step, row in rows.of(item):
            found.setdefault(step, {})[tuple(cell.strip() for cell in row)] = None
    return {step: list(found[step]) for step in STEPS if step in found}


def _cell(text: str) -> str:
    # Gherkin table cells escape the pipe, the backslash and newlines.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n")


_MAX_PAD = 40  # columns are aligned up to this width; padding long help texts would only cost description space


def _table(header: Sequence[str], rows: Sequence[Row], indent: str) -> list[str]:
    grid = [tuple(header), *rows]
    widths = [min(_MAX_PAD, max(len(_cell(line[i])) for line in grid)) for i in range(len(header))]
    return [
        (indent + "| " + " | ".join(_cell(v).ljust(w) for v, w in zip(line, widths, strict=True)) + " |").rstrip()
        for line in grid
    ]


def feature(title: str, tables: dict[Step, list[Row]]) -> str:
    """A `.feature` text with one scenario per table; "" when there is nothing the Spec Tool can check."""
    if not tables:
        return ""
    lines = ["@api", f"Feature: {' '.join(title.split())}"]
    for step, rows in tables.items():
        lines += ["", f"  Scenario: {step.scenario}", f"    {step.phrase}", *_table(step.header, rows, "      ")]
    return "\n".join(lines) + "\n"


def ticket_feature(title: str, items: Iterable[spec.SpecItem], model: spec.SpecModel) -> str:
    """The Behat check of what one ticket builds: every row it delivers but those marked for removal (the steps
    check what exists)."""
    return feature(title, tables_for((i for i in items if i.action is not spec.Action.REMOVE), model))


def _exists_when_done(item: spec.SpecItem) -> bool:
    return item.action in _EXISTING or item.status.strip().lower() == "x"


def spec_feature(model: spec.SpecModel, title: str = "Drupal Spec Tool acceptance tests") -> str:
    """The whole spec as one feature: every row that exists once the work is done (to build, changed, on hold, or
    implemented already), so that each "exactly" step sees the site as a whole. Children of a removed parent go."""
    bundles = {b.key for b in model.bundles if _exists_when_done(b)}
    views = {v.key for v in model.views if _exists_when_done(v)}
    items = [
        *model.bundles,
        *(f for f in model.fields if f.bundle in bundles),
        *model.views,
        *(d for d in model.displays if d.view in views),
        *model.image_styles,
        *model.image_effects,
        *model.roles,
        *model.menus,
        *model.workflows,
        *model.states,
        *model.transitions,
    ]
    return feature(title, tables_for((i for i in items if _exists_when_done(i)), model))
