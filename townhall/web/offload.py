"""Where the blocking parts of a request run: reads in the thread pool, writes where the
database wants them (one writer thread on SQLite, the pool on PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from townhall.store.database import Database

P = ParamSpec("P")
T = TypeVar("T")


async def run_write(db: Database, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn``, which writes through ``db``, off the event loop."""
    writer = db.writer
    if writer is None:
        return await run_in_threadpool(fn, *args, **kwargs)
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(writer, call)
