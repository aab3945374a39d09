"""The intake pipeline: uploaded files -> read -> recognised -> modelled -> graph, with every finding on the way."""

from __future__ import annotations

import gc
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from app.intake.builder import ModelBuilder
from app.intake.columns import kind_specific_columns, map_headers
from app.intake.findings import Code, Finding, Findings, Severity
from app.intake.graph import DependencyGraph, build_graph, report_cycles
from app.intake.model import Action, RowCells, SpecKind, SpecModel
from app.intake.names import closest
from app.intake.reading import (
    IntakeLimits,
    Table,
    UploadedFile,
    accept_uploads,
    is_workbook,
    read_table,
    remove_control_characters,
)
from app.intake.recognition import Candidate, Recognition, file_hint, recognise_all
from app.intake.rows import Sheet
from app.intake.status import StatusMapping
from app.intake.workbook import read_workbook

_SAMPLE_RECORDS = 50  # records whose values help recognise a file
# The model's collections that hold spec rows (storages are derived from fields).
_NOT_SPEC_TAB = re.compile(r"overview|settings|behat|legend|instructions|read ?me|changelog|about|cover|summary")
_ROW_COLLECTIONS = tuple(name for name in SpecModel.__dataclass_fields__ if name != "storages")


@dataclass(frozen=True)
class FileReport:
    """What the intake made of one file. `kind` is None when the file was not recognised or not readable."""

    name: str
    kind: SpecKind | None = None
    confidence: float = 0.0
    candidates: tuple[tuple[SpecKind, float], ...] = ()
    basis: str = "none"
    encoding: str = ""
    delimiter: str = ""
    record_count: int = 0
    physical_line_count: int = 0
    used: bool = False  # whether its rows went into the model
    runner_up: SpecKind | None = None  # the best other kind for the file
    workbook: str = ""  # for a tab: the workbook it came from (its name is "<workbook> [<tab>]")

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["kind"] = str(self.kind) if self.kind else None
        data["runner_up"] = str(self.runner_up) if self.runner_up else None
        data["candidates"] = [{"kind": str(k), "score": s} for k, s in self.candidates]
        return data


@dataclass
class IntakeResult:
    """Everything the intake found: per-file reports, findings, the model and the dependency graph."""

    files: list[FileReport]
    findings: list[Finding]
    model: SpecModel
    graph: DependencyGraph
    status_mapping: StatusMapping = field(default_factory=StatusMapping)

    @property
    def blocking(self) -> bool:
        return any(f.severity is Severity.BLOCKING for f in self.findings)

    def findings_for(self, file: str) -> list[Finding]:
        return [f for f in self.findings if f.file == file]

    def why_no_tickets(self) -> str:
        """Why a spec with these rows gives no ticket to draft, in words a director can act on."""
        used = [f.name for f in self.files if f.used]
        if not used:
            return "No file could be read as a spec file, so there is nothing to draft."
        items = [item for name in _ROW_COLLECTIONS for item in getattr(self.model, name)]
        if not items:
            return (
                f"The spec files ({', '.join(used)}) have no records, only headers or separator rows, so there is "
                "nothing to draft. Export the tabs with their rows."
            )
        statuses = Counter(item.status.strip().lower() or "blank" for item in items)
        listed = ", ".join(f"{count} {status!r}" for status, count in statuses.most_common())
        work = [i for i in items if i.action is not Action.NONE]
        if not work:
            return f"None of the {len(items)} rows is marked for work (statuses: {listed}); " + self._statuses_said(
                list(statuses)
            )
        return (
            f"{len(work)} of the {len(items)} rows are marked for work (statuses: {listed}), but none of them makes "
            "a ticket with the site's status mapping."
        )

    def _statuses_said(self, statuses: list[str]) -> str:
        """What the site's status mapping makes of the statuses found, and which codes would give tickets."""
        mapping = self.status_mapping
        actions = {s: mapping.action_for("" if s == "blank" else s) for s in statuses}
        none = [repr(s) for s, action in actions.items() if action is Action.NONE]
        unknown = [repr(s) for s, action in actions.items() if action is None]
        work = [c for c in mapping.codes if mapping.action_for(c) in (Action.BUILD, Action.CHANGE)]
        said = []
        if none:
            said.append(
                f"with the site's status mapping {', '.join(none)} {'gives' if len(none) == 1 else 'give'} no ticket"
            )
        if unknown:
            said.append(f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} no status code")
        hint = (
            f"Mark the rows to build with {' or '.join(repr(c) for c in work)}."
            if work
            else ("The site's status mapping drafts no status at all; an admin can change it.")
        )
        return "; ".join(said) + ". " + hint

    def to_dict(self, *, include_model: bool = True) -> dict[str, object]:
        data: dict[str, object] = {
            "blocking": self.blocking,
            "files": [f.to_dict() for f in self.files],
            "findings": [f.to_dict() for f in self.findings],
            "counts": self.model.counts(),
            "status_mapping": self.status_mapping.to_dict(),
        }
        if include_model:
            data["model"] = {
                name: [asdict(item, dict_factory=_plain_cells) for item in getattr(self.model, name)]
                for name in self.model.counts()
            }
            data["graph"] = self.graph.to_dict()
        return data


def _plain_cells(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """`asdict`'s dict factory for the JSON: an item's `RowCells` become a plain dict."""
    return {key: dict(value) if isinstance(value, RowCells) else value for key, value in pairs}


def intake_files(
    files: list[UploadedFile],
    *,
    type_overrides: Mapping[str, str | SpecKind] | None = None,
    status_mapping: StatusMapping | None = None,
    limits: IntakeLimits | None = None,
) -> IntakeResult:
    """Read, recognise, validate and model an upload set. Never raises on bad input: problems become findings.

    `type_overrides` maps a file name to a kind (a SpecKind or its value) and skips recognition for that file.
    Raises ValueError only for an override naming an unknown kind (a caller error, not a spec error).
    """
    overrides = {name: SpecKind(kind) for name, kind in (type_overrides or {}).items()}
    with _cyclic_gc_paused():
        return _intake(files, overrides, status_mapping or StatusMapping(), limits or IntakeLimits())


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector for the duration of one intake, then restore its previous state.

    The intake allocates several long-lived container objects per record (items, source refs, findings, graph
    dicts) and frees almost nothing before it returns. The collector runs a full collection, re-traversing every
    live object, each time the long-lived population grows by a quarter: no full collection for the UWEC set, about
    a dozen over a heap of up to 800,000 objects for a spec 100 times its size, which was 45% of that run's time and
    the bulk of its super-linear cost. Nothing in the intake needs cycles collected while it runs; the few it makes
    (networkx views of the transient bundle graph) are collected after, as usual. The switch is process-wide, so
    other threads' cycles also wait for the seconds a big intake takes; memory, not correctness, is what that costs.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # Re-enabled as is, the collector would find every object of the intake young and traverse them all at
            # the next allocation (0.1 s at 30x, seconds at 100x). Freezing and unfreezing moves them to the oldest
            # generation without a traversal; they are examined at the next full collection, like any old object.
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _intake(
    files: list[UploadedFile], overrides: dict[str, SpecKind], mapping: StatusMapping, limits: IntakeLimits
) -> IntakeResult:
    findings = Findings()
    # The tables and sheets are gone once the model is made: their records are not held while the graph is built.
    reports, model = _read_and_model(files, overrides, mapping, limits, findings)
    graph = build_graph(model)
    report_cycles(graph, findings)
    return IntakeResult(reports, list(findings), model, graph, mapping)


def _read_and_model(
    files: list[UploadedFile],
    overrides: dict[str, SpecKind],
    mapping: StatusMapping,
    limits: IntakeLimits,
    findings: Findings,
) -> tuple[list[FileReport], SpecModel]:
    accepted = accept_uploads(files, limits, findings)
    tables: dict[str, list[Table]] = {upload.name: _tables(upload, limits, findings) for upload in accepted}
    readable = [t for upload_tables in tables.values() for t in upload_tables]
    recognitions = dict(
        zip(
            (t.name for t in readable),
            recognise_all([_candidate(t, overrides.get(t.name)) for t in readable]),
            strict=True,
        )
    )
    holders = {r.kind: name for name, r in recognitions.items() if r.kind is not None and not r.shares_with}
    holders |= {r.kind: name for name, r in recognitions.items() if r.kind is not None and r.kind not in holders}
    sheets: dict[SpecKind, list[Sheet]] = {}
    reports: list[FileReport] = []
    for upload in files:
        if not tables.get(upload.name):
            reports.append(FileReport(upload.name))
        for table in tables.get(upload.name, ()):
            recognition = recognitions[table.name]
            sheet = _accept_sheet(table, recognition, holders, findings)
            if sheet is not None:
                sheets.setdefault(sheet.kind, []).append(sheet)
            reports.append(
                FileReport(
                    table.name,
                    recognition.kind,
                    recognition.confidence,
                    recognition.candidates,
                    recognition.basis,
                    table.encoding,
                    table.delimiter,
                    len(table.records),
                    table.physical_lines,
                    used=sheet is not None,
                    runner_up=recognition.runner_up,
                    workbook=table.workbook,
                )
            )
    return reports, ModelBuilder(sheets, findings, mapping).build()


def _tables(upload: UploadedFile, limits: IntakeLimits, findings: Findings) -> list[Table]:
    """A CSV file is one table, a workbook one per visible tab; [] when nothing is readable."""
    if is_workbook(upload.name):
        tables = read_workbook(upload, limits, findings)
    else:
        tables = [table] if (table := read_table(upload, findings, limits)) is not None else []
    for table in tables:
        remove_control_characters(table, findings)
    return tables


def _candidate(table: Table, override: SpecKind | None) -> Candidate:
    header = table.header.cells if table.header else ()
    sample = tuple(r.cells for r in table.records[:_SAMPLE_RECORDS])
    # A tab is named by its tab name ("Fields"), not by its workbook's.
    return Candidate(table.tab or table.name, header, sample, override)


def _accept_sheet(
    table: Table, recognition: Recognition, holders: dict[SpecKind, str], findings: Findings
) -> Sheet | None:
    """Turn a recognised table into a sheet, or report why it cannot be used."""
    name = table.name
    candidates = ", ".join(f"{k.value} ({score:.2f})" for k, score in recognition.candidates) or "none"
    best = recognition.candidates[0][0] if recognition.candidates else None
    unusable = table.header is None or not recognition.header_found or recognition.kind is None
    lost_its_kind = unusable and table.header is not None and recognition.header_found and best in holders
    if table.tab and unusable and not lost_its_kind and not _meant_as_spec(table.tab):
        # A workbook carries tabs that are no spec (the Spec Tool's Overview, Settings, Behat): noted, not blocking.
        findings.add(
            Code.SKIPPED_TAB,
            Severity.INFO,
            f"Not a spec tab (closest kinds: {candidates}); skipped. Name the tab after its kind if it is one.",
            file=name,
            value=table.tab,
        )
        return None
    if table.header is None:
        findings.add(Code.EMPTY_FILE, Severity.BLOCKING, "The file has no rows.", file=name)
        return None
    if not recognition.header_found:
        findings.add(
            Code.NO_HEADER_ROW,
            Severity.BLOCKING,
            "The first row is not a header row (no ID, X, Dev or QA column and no known column names). "
            "Export the sheet with its header row.",
            file=name,
            record=0,
            line=table.header.line,
            value=",".join(table.header.cells)[:200],
            suggestion=candidates,
        )
        return None
    if lost_its_kind and best is not None:
        other = next(((k, s) for k, s in recognition.candidates if k is not best and k not in holders), None)
        findings.add(
            Code.DUPLICATE_TYPE,
            Severity.BLOCKING,
            f"{holders[best]} fits {best.value} better and is the {best.value} file; this file is not used."
            + (f" Its best other type is {other[0].value} ({other[1]:.2f})." if other else "")
            + " Remove one, or set this file's type. Two halves of one tab need the same headers.",
            file=name,
            value=best.value,
            suggestion=other[0].value if other else candidates,
        )
        return None
    if recognition.kind is None:
        findings.add(
            Code.UNRECOGNISED_FILE,
            Severity.BLOCKING,
            f"The columns do not match any kind of spec file; closest candidates: {candidates}. Set the "
            "file's type if you know it.",
            file=name,
            line=table.header.line,
            suggestion=candidates,
        )
        return None
    kind = recognition.kind
    if recognition.ambiguous:
        findings.add(
            Code.AMBIGUOUS_TYPE,
            Severity.WARNING,
            f"Read as {kind.value} (confidence {recognition.confidence:.2f}), but the columns fit other "
            f"kinds almost as well: {candidates}. Set the file's type if this is wrong.",
            file=name,
            value=kind.value,
            suggestion=candidates,
        )
    if recognition.shares_with:
        findings.add(
            Code.SPLIT_TAB,
            Severity.INFO,
            f"Read as one {kind.value} tab together with {recognition.shares_with} (same headers).",
            file=name,
            value=kind.value,
        )
    if not table.records:
        findings.add(
            Code.NO_RECORDS,
            Severity.WARNING,
            f"{name} has a header row but no records, so nothing from it goes into the tickets.",
            file=name,
            line=table.header.line,
            value=kind.value,
        )
    roles, duplicates = map_headers(kind, table.header.cells)
    for index in duplicates:
        findings.add(
            Code.DUPLICATE_COLUMN,
            Severity.WARNING,
            "This column name repeats; only the first is read.",
            file=name,
            line=table.header.line,
            column=table.header.cells[index].strip(),
        )
    missing = [c for c in kind_specific_columns(kind) if c.key and c.role not in roles]
    for column in missing:
        findings.add(
            Code.MISSING_COLUMN,
            Severity.BLOCKING,
            f"A {kind.value} file needs a {column.synonyms[0]!r} column (also accepted: "
            f"{', '.join(repr(s) for s in column.synonyms[1:]) or 'no other name'}).",
            file=name,
            line=table.header.line,
            column=column.synonyms[0],
            suggestion=_closest_header(table.header.cells, column.synonyms),
        )
    return None if missing else Sheet.of(table, kind, roles)


def _meant_as_spec(tab: str) -> bool:
    """Whether a tab's name says it is a spec tab ("Fields", "Image styles"), so failing to read it must block."""
    return file_hint(tab) is not None and not _NOT_SPEC_TAB.search(tab.lower())


def _closest_header(header: tuple[str, ...], synonyms: tuple[str, ...]) -> str:
    matches = [m for s in synonyms for m in closest(s, [h.strip() for h in header if h.strip()], 1)]
    return matches[0] if matches else ""
