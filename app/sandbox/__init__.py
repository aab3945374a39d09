"""The Jira sandbox: a local stand-in for Jira Cloud that installs our app and serves the REST subset we call."""

from __future__ import annotations

from app.sandbox.app import create_sandbox_app
from app.sandbox.config import FaultConfig, SandboxConfig

__all__ = ["FaultConfig", "SandboxConfig", "create_sandbox_app"]
