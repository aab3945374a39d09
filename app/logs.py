"""Logging in one place: JSON lines (or text) with the request id and tenant of the work, and secrets redacted.

Every entry point (`dtg serve`, `dtg worker`, `dtg scheduler`, `dtg demo`) calls `configure_logging` once. The
request id and tenant travel in context variables: set by the web middleware for a request, copied into the
Dramatiq messages it enqueues and restored in the worker that handles them (`workers/context.py`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

from app.settings import Settings

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("dtg_request_id", default=None)
tenant_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("dtg_tenant", default=None)

REDACTED = "[redacted]"
# What a secret looks like wherever it may end up in a message: a JWT (iframe URLs carry one in `jwt=`), an
# Authorization header value, an OpenAI/Anthropic style key, and any `secret`/`password`/`api_key`/`token` pair
# written as key=value or as JSON.
_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:(?:JWT|Bearer|Basic)\s+)?[^\s\"',}]+"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(
        r"(?i)((?:shared_?secret|secret_?key|secret|password|api_?key|access_?token|token|jwt)[\"']?\s*[:=]\s*"
        r"[\"']?)[^\s\"'&,}]{6,}"
    ),
)
# Standard LogRecord attributes; anything else on a record came from `extra=` and is written as a field.
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret value and every secret-looking token replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.re.groups else "") + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and its `extra` fields) so no handler ever writes a secret."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Exact values known to this process (the app's own keys); patterns catch the rest.
        self.secrets = tuple(s for s in secrets if s and len(s) >= 8)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        for name, value in list(vars(record).items()):
            if name not in _RECORD_FIELDS and isinstance(value, str):
                setattr(record, name, redact(value, self.secrets))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


class ContextFilter(logging.Filter):
    """Stamps each record with the request id and tenant of the work it belongs to."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.tenant = tenant_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, tenant, extras, exception."""

    def __init__(self, *, with_time: bool = True) -> None:
        super().__init__()
        self.with_time = with_time

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {}
        if self.with_time:
            entry["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        entry.update(
            level=record.levelname,
            logger=record.name,
            message=record.getMessage(),
            request_id=getattr(record, "request_id", None),
            tenant=getattr(record, "tenant", None),
        )
        entry.update({k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and k not in entry})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


def build_handler(log_format: str, *, secrets: Iterable[str] = (), stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler with the context and redaction filters and the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(settings: Settings, *, default_format: str, stream: IO[str] | None = None) -> None:
    """Replace the root handlers with ours; `DTG_LOG_FORMAT` wins over the command's default format."""
    log_format = settings.log_format or default_format
    if log_format not in ("json", "text"):
        raise ValueError(f"DTG_LOG_FORMAT must be json or text, not {log_format!r}")
    secrets = [settings.secret_key, settings.llm_api_key or ""]
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(build_handler(log_format, secrets=secrets, stream=stream))
    root.setLevel(settings.log_level.upper())
    # Uvicorn's loggers keep handlers of their own unless told otherwise; route them through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq", "apscheduler"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # One line per HTTP call to Jira or the model is noise at INFO; it stays available at DEBUG.
    if root.level > logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.WARNING)
