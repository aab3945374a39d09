"""The export tests' world: our app and the sandbox in this process, the app installed."""

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
