"""What the language model may know about a ticket: facts, machine names and notes, all taken from its data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.generation.description import finding_line
from app.generation.tables import Table
from app.generation.tickets import TicketDraft
from app.intake.model import SpecItem
from app.llm import TicketBrief

_MAX_LISTED = 10  # labels named in one fact; the tables carry the rest


def facts_for(subjects: Sequence[SpecItem], tables: Sequence[Table]) -> tuple[str, ...]:
    """Short lines: the subject's description, then what each child table lists."""
    facts = [
        f"{item.label}: {description}" for item in subjects if (description := getattr(item, "description", "").strip())
    ][:3]
    for table in tables[1:] if len(subjects) == 1 else tables:
        labels = _labels(table)
        if labels:
            more = f" and {len(labels) - _MAX_LISTED} more" if len(labels) > _MAX_LISTED else ""
            facts.append(f"{table.title}: {', '.join(labels[:_MAX_LISTED])}{more}")
    return tuple(facts)


def _labels(table: Table) -> list[str]:
    """The distinct first-column values of a horizontal table (the labels of its rows)."""
    if not table.rows or not all(cell.is_heading for cell in table.rows[0]):
        return []
    return list(dict.fromkeys(row[0].text for row in table.rows[1:] if row and row[0].text))


def machine_names_for(items: Iterable[SpecItem]) -> tuple[str, ...]:
    """Every machine name in the items' data: their own and those they reference."""
    names: set[str] = set()
    for item in items:
        names.add(item.machine_name)
        for attribute in ("entity_type", "view", "workflow", "to_state", "fallback_style", "image_style"):
            names.add(getattr(item, attribute, ""))
        names.update(getattr(item, "from_states", ()))
        names.update(getattr(item, "image_styles", ()))
        for bundle in (
            getattr(item, "bundle", None),
            *getattr(item, "reference_targets", ()),
            *getattr(item, "used_on", ()),
            *getattr(item, "bundles", ()),
        ):
            if bundle:
                names.update(bundle)
    return tuple(sorted(name for name in names if name))


def names_for(draft: TicketDraft) -> tuple[str, ...]:
    """Per table, its rows as "label = machine_name"; a machine name a finding calls invalid is marked so."""
    invalid = {str(f.get("value", "")) for f in draft.findings if f.get("code") == "invalid_machine_name"}
    lines = []
    for table in draft.tables:
        if not table.rows or not all(cell.is_heading for cell in table.rows[0]):
            continue
        header = [cell.text.lower() for cell in table.rows[0]]
        if "machine name" not in header:
            continue
        machine = header.index("machine name")
        pairs = dict.fromkeys(
            f"{row[0].text} = {row[machine].text}" + (" (invalid machine name)" if row[machine].text in invalid else "")
            for row in table.rows[1:]
            if row[0].text
        )
        lines.append(f"{table.title}: {'; '.join(pairs)}")
    return tuple(lines)


def brief_for(draft: TicketDraft, *, site_name: str = "", site_description: str = "") -> TicketBrief:
    """The writer's brief for one draft."""
    return TicketBrief(
        key=draft.key,
        area=draft.area,
        action="hold" if draft.on_hold else draft.action,
        subject=draft.subject,
        kind=draft.kind,
        facts=draft.facts,
        machine_names=frozenset(draft.machine_names),
        notes=draft.notes,
        site_name=site_name,
        site_description=site_description,
        persona=draft.persona,
        criteria=draft.criteria,
        names=names_for(draft),
        findings=tuple(finding_line(f) for f in draft.findings),
        held=draft.held,
        blockers=draft.blockers,
    )
