"""The export: a session's reviewed tickets become linked Jira issues, exactly once, whatever fails.

One module per step, run in this order by `run.py` on one `ExportContext`:
- `plan.py`: creation order and links, decided before any call (pure).
- `issues.py`: bulk creates carrying the `dtg-ticket` property, so a search finds what a lost answer made.
- `attachments.py`: each ticket's files, compared with the issue's first when this run did not create it.
- `links.py`: "Blocks" and "Relates" links, recorded `sent` before posting and `done` after.
A run may be killed at any instant and run again; every write whose answer is lost goes through
`app.retries.Retrier.create_once` (look for it before creating it again).
"""

from app.pipeline.export.context import ExportConfigurationError, ExportContext
from app.pipeline.export.results import ExportResults, TicketResult, export_csvs, export_results
from app.pipeline.export.run import PERMANENT_ERRORS, resume_exports_waiting_for_token, run_export, start_export
from app.pipeline.issue_requests import PROPERTY_KEY

__all__ = [
    "PERMANENT_ERRORS",
    "PROPERTY_KEY",
    "ExportConfigurationError",
    "ExportContext",
    "ExportResults",
    "TicketResult",
    "export_csvs",
    "export_results",
    "resume_exports_waiting_for_token",
    "run_export",
    "start_export",
]
