"""Jira adapter tests run against the in-process sandbox, installed for one tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.export.helpers import World


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    world = World(tmp_path)
    await world.install()
    yield world
    await world.aclose()
