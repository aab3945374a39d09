"""Field storages: one per (entity type, field name), shared by instances that must agree on type and cardinality."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from app.intake.findings import Code, Findings, Severity
from app.intake.model import UNLIMITED, FieldInstance, FieldStorage

Value = Callable[[FieldInstance], str]


def build_storages(
    fields: tuple[FieldInstance, ...], findings: Findings, columns: dict[str, str]
) -> tuple[FieldStorage, ...]:
    """Group instances into storages; report each storage whose instances disagree (one finding per storage).

    `columns` names the header of the "field_type" and "cardinality" roles, for the findings.
    """
    groups: dict[tuple[str, str], list[FieldInstance]] = defaultdict(list)
    for instance in fields:
        if instance.bundle is not None and not instance.is_base_field:
            groups[(instance.bundle[0], instance.machine_name)].append(instance)
    storages = []
    for (entity_type, name), instances in groups.items():
        types = {f.field_type.casefold(): f.field_type for f in instances if f.field_type}
        cardinalities = {f.cardinality: None for f in instances if f.cardinality is not None}
        storages.append(
            FieldStorage(
                entity_type, name, tuple(types.values()), tuple(cardinalities), tuple(f.source for f in instances)
            )
        )
        if len(types) > 1:
            _report(
                findings,
                Code.STORAGE_TYPE_CONFLICT,
                "field type",
                columns.get("field_type", ""),
                instances,
                lambda f: f.field_type,
            )
        if len(cardinalities) > 1:
            _report(
                findings,
                Code.STORAGE_CARDINALITY_CONFLICT,
                "cardinality",
                columns.get("cardinality", ""),
                instances,
                lambda f: _cardinality_text(f.cardinality),
            )
    return tuple(storages)


def _report(
    findings: Findings, code: Code, what: str, column: str, instances: list[FieldInstance], value: Value
) -> None:
    """One finding at the first instance that disagrees with the first, listing every value and where it is used."""
    filled = [f for f in instances if value(f)]
    first = filled[0]
    odd = next(f for f in filled if value(f).casefold() != value(first).casefold())
    uses: dict[str, list[str]] = defaultdict(list)
    for instance in filled:
        bundle = instance.bundle[1] if instance.bundle else "?"
        # Bundles, not positions: a ticket shows this message, and positions move when the spec gets a row above.
        uses[value(instance)].append(bundle)
    detail = "; ".join(f"{v} on {', '.join(where)}" for v, where in uses.items())
    entity_type = first.bundle[0] if first.bundle else "?"
    findings.add(
        code,
        Severity.WARNING,
        f"Field storage {entity_type}.{first.machine_name} is shared, so every bundle must use one {what}; found "
        f"{detail}.",
        file=odd.source.file,
        record=odd.source.record,
        line=odd.source.line,
        column=column,
        value=value(odd),
        suggestion=value(first),
    )


def _cardinality_text(cardinality: int | None) -> str:
    return "" if cardinality is None else "*" if cardinality == UNLIMITED else str(cardinality)
