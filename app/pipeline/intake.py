"""Upload sessions: open one, add or replace spec files within the limits, and validate what is stored.

Files are stored byte for byte before they are read, so a crash or a bad file never loses an upload; intake runs
again over the stored set whenever something changes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Generic, TypeVar

from app.db.models import UploadSession
from app.db.sessions import StoredFile
from app.errors import AppError
from app.intake import IntakeLimits, IntakeResult, SpecKind, UploadedFile, intake_files
from app.intake.reading import is_workbook
from app.intake.status import StatusMapping
from app.intake.workbook import sheet_names, tab_name, tab_of
from app.pipeline.activity import record_step, record_tenant_step
from app.pipeline.configuration import effective_status_mapping
from app.pipeline.ports import ActivityPorts, Actor, IntakePorts, Scope, SessionPorts
from app.text_controls import BIDI_CONTROLS, CONTROL_CHARACTERS

LIMITS = IntakeLimits()


class UploadRejectedError(AppError):
    """An upload that breaks the session's limits; nothing of it is stored."""


class UnknownFileKindError(AppError):
    """A file type that does not exist, or a file that is not in the session."""


@dataclass(frozen=True)
class IncomingFile:
    name: str
    data: bytes


def safe_file_name(name: str) -> str:
    """The base name only: a browser or a hostile client may send a path (`../../etc/passwd`, `C:\\x.csv`).

    Control characters go, and so do bidirectional controls: U+202E would make `exe.csv` look like `vsc.exe`.
    """
    visible = BIDI_CONTROLS.sub("", CONTROL_CHARACTERS.sub("", name))
    base = PureWindowsPath(PurePosixPath(visible).name).name.strip()
    if not base or base in (".", ".."):
        raise UploadRejectedError("A file without a name cannot be uploaded.")
    return base[:255]


def open_session(
    ports: ActivityPorts, tenant_id: int, actor: Actor, *, project_key: str, project_id: str = ""
) -> UploadSession:
    """A new, empty upload session of `actor` in the project; audited as "opened"."""
    upload = ports.sessions.create(
        tenant_id=tenant_id, project_key=project_key, project_id=project_id, created_by=actor.account_id
    )
    assert upload.id is not None
    record_tenant_step(ports, tenant_id, actor, "opened", session_id=upload.id)
    return upload


def rename_session(ports: ActivityPorts, scope: Scope, actor: Actor, name: str | None) -> UploadSession:
    """Name the session as the director typed it; `None` or blank names it after its files again ("renamed")."""
    renamed = ports.sessions.rename(scope.session_id, tenant_id=scope.tenant_id, name=name)
    record_step(ports, scope, actor, "renamed", name=renamed.name)
    return renamed


def add_files(
    ports: SessionPorts, scope: Scope, actor: Actor, files: list[IncomingFile], *, limits: IntakeLimits = LIMITS
) -> list[str]:
    """Store the files (a file with the same name is replaced) and the "uploaded" audit event, all or nothing.
    Returns the stored names.

    Raises:
        UploadRejectedError: a file is too large, or the session would pass its file count or total size;
            nothing is stored then. The limits hold under concurrent uploads to the same session.
    """
    incoming = {safe_file_name(f.name): f.data for f in files}
    for name, data in incoming.items():
        if len(data) > limits.max_bytes_for(name):
            raise UploadRejectedError(
                f"{name} has {len(data):,} bytes; a {'workbook' if is_workbook(name) else 'CSV file'} may have at "
                f"most {limits.max_bytes_for(name):,}."
            )

    def within_limits(sizes: dict[str, int]) -> None:
        if len(sizes) > limits.max_files:
            raise UploadRejectedError(f"A session holds at most {limits.max_files} files; remove some first.")
        if (total := sum(sizes.values())) > limits.max_total_bytes:
            raise UploadRejectedError(
                f"The files would add up to {total:,} bytes; a session holds at most {limits.max_total_bytes:,}."
            )

    names = sorted(incoming)
    ports.sessions.put_files(
        scope.session_id,
        tenant_id=scope.tenant_id,
        files=incoming,
        check=within_limits,
        stage="validate",
        audit=(actor.account_id, "uploaded", {"files": names}),
    )
    return names


def set_file_kind(ports: ActivityPorts, scope: Scope, actor: Actor, name: str, kind: str | None) -> None:
    """Override the detected type of a file or of a workbook's tab (`name` "<workbook> [<tab>]", as the intake
    report names it); None goes back to detection. Kept until the file is replaced; audited as "file_type_set".

    Raises: UnknownFileKindError for a kind that does not exist or a file or tab that is not in the session.
    """
    if kind is not None and kind not in {k.value for k in SpecKind}:
        raise UnknownFileKindError(f"Unknown file type {kind!r}; choose one of {', '.join(k.value for k in SpecKind)}.")
    stored = {f.name: f for f in ports.sessions.files(scope.session_id, tenant_id=scope.tenant_id)}
    if name in stored:
        file, tab_kinds = stored[name], dict(stored[name].tab_kinds)
        kind_override = kind
    else:
        file, tab = _tab_named(stored, name)
        tab_kinds = {t: k for t, k in file.tab_kinds.items() if t != tab} | ({tab: kind} if kind else {})
        kind_override = file.kind_override
    ports.sessions.put_file(
        scope.session_id,
        tenant_id=scope.tenant_id,
        name=file.name,
        data=file.data,
        kind_override=kind_override,
        tab_kinds=tab_kinds,
    )
    record_step(ports, scope, actor, "file_type_set", file=name, kind=kind)


def _tab_named(stored: dict[str, StoredFile], name: str) -> tuple[StoredFile, str]:
    for file in stored.values():
        tab = tab_of(file.name, name) if is_workbook(file.name) else None
        if tab is not None and tab in sheet_names(file.data):
            return file, tab
    raise UnknownFileKindError(f"No file or workbook tab named {name} in this session.")


def type_overrides(stored: list[StoredFile]) -> dict[str, str]:
    """Spec file name -> the kind the director set: files by their name, tabs as "<workbook> [<tab>]"."""
    overrides = {f.name: f.kind_override for f in stored if f.kind_override}
    return overrides | {tab_name(f.name, tab): kind for f in stored for tab, kind in f.tab_kinds.items()}


def validate_session(ports: IntakePorts, *, tenant_id: int, session_id: int) -> IntakeResult:
    """Read the stored files with their type overrides and the status mapping the tenant's admin set.

    The result is computed once per set of files: it is kept by the files' content hash (names, contents, chosen
    types) and the status mapping, so a panel load reads two small rows instead of reading and validating every
    file again; a change to any of them is a new key. The same set asked for by many requests at once is read by
    one of them while the others wait for its result. Callers must not change the result.
    """
    mapping = effective_status_mapping(ports.tenant_settings, tenant_id)
    fingerprint = ports.sessions.files_fingerprint(session_id, tenant_id=tenant_id)
    key = (tenant_id, fingerprint, tuple(sorted((code, str(action)) for code, action in mapping.actions.items())))
    return _RESULTS.get(key, lambda: _read_session(ports, tenant_id, session_id, mapping))


def _read_session(ports: IntakePorts, tenant_id: int, session_id: int, mapping: StatusMapping) -> IntakeResult:
    stored = ports.sessions.files(session_id, tenant_id=tenant_id)
    overrides: dict[str, str | SpecKind] = dict(type_overrides(stored))
    return intake_files(
        [UploadedFile(f.name, f.data) for f in stored], type_overrides=overrides, status_mapping=mapping
    )


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ComputedOnce(Generic[K, V]):
    """A small LRU of values that are costly to compute, each computed by one thread while others asking for the
    same key wait for it (no stampede of 50 identical panel loads)."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[K, threading.Lock] = {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        while True:
            with self._lock:
                if key in self._values:
                    self._values.move_to_end(key)
                    return self._values[key]
                running = self._computing.get(key)
                if running is None:
                    running = self._computing[key] = threading.Lock()
                    running.acquire()
                    break
            with running:  # wait for the thread computing it, then look again
                pass
        try:
            value = compute()
            with self._lock:
                self._values[key] = value
                while len(self._values) > self._max_entries:
                    self._values.popitem(last=False)
            return value
        finally:
            with self._lock:
                del self._computing[key]
            running.release()

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


# A 2 MB spec's result is tens of MB in memory: a few dozen sessions' worth per process.
_RESULTS: ComputedOnce[tuple[int, str, tuple[tuple[str, str], ...]], IntakeResult] = ComputedOnce(32)


def remove_file(ports: ActivityPorts, scope: Scope, actor: Actor, name: str) -> None:
    """Take a file out of the session; what is left must be validated again. Raises: AppError for no such file."""
    if not ports.sessions.remove_file(scope.session_id, tenant_id=scope.tenant_id, name=name):
        raise AppError(f"There is no file named {name} in this session.")
    ports.sessions.set_stage(scope.session_id, tenant_id=scope.tenant_id, stage="validate")
    record_step(ports, scope, actor, "file_removed", file=name)
