"""Errors of the sandbox itself (not the Jira errors its REST API answers; those are responses)."""

from __future__ import annotations

from app.errors import AppError, NotFoundError


class SandboxError(AppError):
    """Something the person running the sandbox must look at."""


class InstallError(SandboxError):
    """The app could not be installed: descriptor unreachable or invalid, or the app refused the callback."""

    status_code = 502


class NotInstalledError(NotFoundError, SandboxError):
    """No installed app with that key."""


class NoSuchIssueError(NotFoundError, SandboxError):
    """A control endpoint named an issue the sandbox does not have."""
