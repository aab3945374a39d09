"""The one way async code runs blocking work (the database, a lock, a file): `await offload(call, *args)`.

Web handlers and actors share one event loop per process; a synchronous repository call or a PostgreSQL advisory
lock made on it would stall every other request or run in that process. `offload` runs the call in AnyIO's worker
threads (the pool Starlette uses), so every caller shares one bounded pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def offload(call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    return await anyio.to_thread.run_sync(functools.partial(call, *args, **kwargs))


class TenantSlots:
    """At most `per_tenant` CPU-heavy calls (intake, graph layout, the spec download) per tenant at once in this
    process; a tenant's further calls wait here, in the event loop, holding no worker thread. So one tenant's 50
    panel loads take 2 of the shared threads (and their share of the CPU) while another tenant's requests still find
    threads and run: the heavy tenant waits on itself.

        async with services.heavy.slot(tenant_id):
            result = await offload(validate_session, ...)
    """

    def __init__(self, per_tenant: int = 2) -> None:
        self.per_tenant = per_tenant
        self._running: dict[int, int] = {}
        self._waiting: dict[int, deque[asyncio.Future[None]]] = {}

    @contextlib.asynccontextmanager
    async def slot(self, tenant_id: int) -> AsyncIterator[None]:
        if self._running.get(tenant_id, 0) < self.per_tenant:
            self._running[tenant_id] = self._running.get(tenant_id, 0) + 1
        else:
            handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(tenant_id, deque()).append(handed)
            try:
                await handed  # a finishing call hands its slot over (first come, first served)
            except asyncio.CancelledError:
                if handed.done() and not handed.cancelled():
                    self._release(tenant_id)  # handed a slot as it was cancelled: pass it on
                raise
        try:
            yield
        finally:
            self._release(tenant_id)

    def running(self, tenant_id: int) -> int:
        return self._running.get(tenant_id, 0)

    def _release(self, tenant_id: int) -> None:
        waiting = self._waiting.get(tenant_id)
        while waiting:
            handed = waiting.popleft()
            if not handed.done():
                handed.set_result(None)
                return
        self._waiting.pop(tenant_id, None)
        self._running[tenant_id] -= 1
        if not self._running[tenant_id]:
            del self._running[tenant_id]
