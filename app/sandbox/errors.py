"""Errors of the sandbox itself (not the Jira errors its REST API answers; those are responses)."""

from __future__ import annotations

from app.errors import AppError, NotFoundError


class SandboxError(AppError):
    """Something the person running the sandbox must look at; the sandbox answers it with `status_code`."""

    status_code = 400


class InstallError(SandboxError):
    """The app could not be installed: descriptor unreachable or invalid, or the app refused the callback."""

    status_code = 502


class NotInstalledError(NotFoundError, SandboxError):
    """No installed app with that key."""

    status_code = 404


class NoSuchIssueError(NotFoundError, SandboxError):
    """A control endpoint named an issue the sandbox does not have."""

    status_code = 404
