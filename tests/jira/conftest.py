"""Jira adapter tests run against the in-process sandbox, installed for one tenant: the export tests' `world`."""

from tests.export.conftest import world

__all__ = ["world"]
