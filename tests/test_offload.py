"""`offload` runs blocking work off the event loop: other coroutines keep running while it waits."""

from __future__ import annotations

import asyncio
import threading

import pytest

from app.offload import offload

pytestmark = [pytest.mark.unit, pytest.mark.web, pytest.mark.workers]


@pytest.mark.anyio
async def test_the_loop_keeps_running_while_offloaded_work_blocks() -> None:
    release = threading.Event()
    loop_thread = threading.get_ident()

    def held_lock(value: int, *, plus: int) -> tuple[int, int]:
        release.wait(timeout=10)  # stands for a database call or an advisory lock another worker holds
        return value + plus, threading.get_ident()

    work = asyncio.ensure_future(offload(held_lock, 40, plus=2))
    ticks = 0
    for _ in range(5):
        await asyncio.sleep(0.01)
        ticks += 1
    assert not work.done() and ticks == 5
    release.set()
    result, thread = await work
    assert result == 42 and thread != loop_thread
