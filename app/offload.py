"""The one way async code runs blocking work (the database, a lock, a file): `await offload(call, *args)`.

Web handlers and actors share one event loop per process; a synchronous repository call or a PostgreSQL advisory
lock made on it would stall every other request or run in that process. `offload` runs the call in AnyIO's worker
threads (the pool Starlette uses), so every caller shares one bounded pool.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def offload(call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    return await anyio.to_thread.run_sync(functools.partial(call, *args, **kwargs))
