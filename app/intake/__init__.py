"""Spec intake: uploaded CSV exports -> one validated, normalised spec model, a findings report and a dependency graph.

A pure library: no database, no web, no I/O beyond the bytes it is given. Public API (stable):

    from app.intake import UploadedFile, intake_files

    result = intake_files(
        [UploadedFile("UWEC_Fields.csv", data), ...],
        type_overrides={"Sheet3.csv": "roles"},      # optional: file name -> SpecKind (or its value)
        status_mapping=StatusMapping({"a": Action.BUILD, ...}),  # optional: defaults to the Spec Tool legend
        limits=IntakeLimits(),                        # optional: 2 MB per file, 25 files, 50 MB per set
    )
    result.files      # list[FileReport]: name, kind, confidence, candidates, basis, encoding, delimiter,
                      #   record_count, physical_line_count, used
    result.findings   # list[Finding]: code, severity, who_can_fix, message, file, record, line, column, value,
                      #   suggestion
    result.model      # SpecModel (app.intake.model): bundles, fields, storages, views, displays, ... with lookups
    result.graph      # DependencyGraph: .digraph (networkx), .bundle_graph(), .strongly_connected_components(),
                      #   .cycles()
    result.blocking   # True when any finding blocks
    result.to_dict()  # JSON-serialisable

`intake_files` never raises on bad input (only ValueError for an override naming an unknown kind): every problem is
a Finding. Record numbers count data records after the header (1-based); lines are physical lines (1-based, the
header is usually line 1). The command `validate` (app.intake.command, loaded only by
app/cli.py) wraps it for `dtg`, so importing the library never loads click.
"""

from __future__ import annotations

from app.intake.findings import Code, Finding, Severity
from app.intake.graph import Cycle, DependencyGraph
from app.intake.model import Action, SourceRef, SpecKind, SpecModel
from app.intake.pipeline import FileReport, IntakeResult, intake_files
from app.intake.reading import IntakeLimits, UploadedFile
from app.intake.status import SPEC_TOOL_LEGEND, StatusMapping

__all__ = [
    "SPEC_TOOL_LEGEND",
    "Action",
    "Code",
    "Cycle",
    "DependencyGraph",
    "FileReport",
    "Finding",
    "IntakeLimits",
    "IntakeResult",
    "Severity",
    "SourceRef",
    "SpecKind",
    "SpecModel",
    "StatusMapping",
    "UploadedFile",
    "intake_files",
]
