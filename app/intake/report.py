"""The readable findings report, grouped by file, for the command line."""

from __future__ import annotations

from app.intake.findings import Finding, Severity
from app.intake.pipeline import IntakeResult

_ORDER = {Severity.BLOCKING: 0, Severity.WARNING: 1, Severity.INFO: 2}


def render_text(result: IntakeResult) -> str:
    """Files with their detected kind and counts, each followed by its findings (blocking first)."""
    lines: list[str] = []
    general = [f for f in result.findings if not f.file]
    if general:
        lines.append("Upload set")
        lines.extend(_finding_line(f) for f in _sorted(general))
        lines.append("")
    for report in result.files:
        runner_up = f", runner-up {report.runner_up.value}" if report.runner_up else ""
        kind = (
            f"{report.kind.value} ({report.basis}, confidence {report.confidence:.2f}{runner_up})"
            if report.kind
            else "?"
        )
        lines.append(
            f"{report.name}: {kind}; {report.record_count} records on {report.physical_line_count} lines"
            + (f"; {report.encoding}, delimiter {report.delimiter!r}" if report.encoding else "")
        )
        lines.extend(_finding_line(f) for f in _sorted(result.findings_for(report.name)))
        lines.append("")
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    verdict = "BLOCKED" if result.blocking else "OK"
    lines.append(
        f"{verdict}: {counts[Severity.BLOCKING]} blocking, {counts[Severity.WARNING]} warnings, "
        f"{counts[Severity.INFO]} info."
    )
    return "\n".join(lines)


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (_ORDER[f.severity], f.record))


def _finding_line(finding: Finding) -> str:
    where = (
        f"record {finding.record} (line {finding.line}{f', cell {finding.cell}' if finding.cell else ''})"
        if finding.record
        else (f"line {finding.line}" if finding.line else "file")
    )
    column = f", {finding.column}" if finding.column else ""
    value = f" = {finding.value!r}" if finding.value else ""
    suggestion = f" Suggestion: {finding.suggestion}." if finding.suggestion else ""
    return (
        f"  {finding.severity.value.upper():8} {finding.code.value} at {where}{column}{value}: {finding.message}"
        f"{suggestion} [fix: {finding.who_can_fix.value}]"
    )
