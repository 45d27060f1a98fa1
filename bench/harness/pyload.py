"""A small load generator on raw asyncio streams: for machines without wrk, and for systems so
slow (seconds an operation) that a run is better bounded by a count of operations than by time.

Same contract as the wrk driver: each connection sends a batch of (pipelined) requests, reads
all of its responses, records the batch's latency and goes on until the time is up (or the
wanted number of operations has completed). It parses just enough HTTP/1.1 (status line,
Content-Length, chunked, Connection: close). Python on one core saturates long before nginx
does, so with this client the ceiling is the client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any

from harness.load import Plan, percentiles


class _Stats:
    def __init__(self, max_ops: int | None) -> None:
        self.max_ops = max_ops
        self.finished = 0.0  # when the last operation completed (monotonic)
        self.latencies: list[float] = []
        self.requests = 0
        self.bytes = 0
        self.statuses: dict[int, int] = {}
        self.errors: dict[str, int] = {}

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
    close = headers.get("connection") == "close"
    size = len(head)
    if "content-length" in headers:
        n = int(headers["content-length"])
        await reader.readexactly(n)
        size += n
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            chunk_head = await reader.readuntil(b"\r\n")
            n = int(chunk_head.split(b";")[0], 16)
            await reader.readexactly(n + 2)
            size += len(chunk_head) + n + 2
            if n == 0:
                break
    elif status not in (204, 304):
        size += len(await reader.read())
        close = True
    return status, close, size


async def _connection(
    plan: Plan,
    port: int,
    index: int,
    connections: int,
    deadline: float,
    stats: _Stats,
    done: asyncio.Event,
) -> None:
    batches = plan.batches
    i = index * (len(batches) // max(1, connections)) % len(batches)  # a slice of its own
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while time.monotonic() < deadline and not done.is_set():
        if conn is None:
            try:
                conn = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                stats.error("connect")
                await asyncio.sleep(0.01)
                continue
        reader, writer = conn
        batch = batches[i]
        i = (i + 1) % len(batches)
        start = time.perf_counter()
        close = False
        try:
            writer.write(batch)
            await writer.drain()
            for _ in range(plan.per_batch):
                status, close, size = await _response(reader)
                stats.requests += 1
                stats.bytes += size
                stats.statuses[status] = stats.statuses.get(status, 0) + 1
                if status > 399:
                    stats.error("status")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            stats.error("read")
            close = True
        else:
            stats.latencies.append(time.perf_counter() - start)
            stats.finished = time.monotonic()
            if stats.max_ops and len(stats.latencies) >= stats.max_ops:
                done.set()
        if close:
            writer.close()
            conn = None
    if conn is not None:
        conn[1].close()


async def _run(
    plan: Plan, port: int, connections: int, seconds: float, max_ops: int | None
) -> tuple[_Stats, float]:
    stats = _Stats(max_ops)
    done = asyncio.Event()
    start = time.monotonic()
    deadline = start + seconds
    tasks = [
        asyncio.create_task(_connection(plan, port, i, connections, deadline, stats, done))
        for i in range(connections)
    ]
    waiter: asyncio.Task[Any] = asyncio.create_task(done.wait())
    everyone: asyncio.Future[Any] = asyncio.gather(*tasks)
    # every connection stops at the deadline, or all stop once enough operations are done
    await asyncio.wait([waiter, everyone], return_when=asyncio.FIRST_COMPLETED)
    for task in [*tasks, waiter]:
        task.cancel()
    await asyncio.gather(*tasks, waiter, everyone, return_exceptions=True)
    if max_ops and done.is_set():  # a count-bounded run ends with its last operation
        return stats, stats.finished - start
    return stats, time.monotonic() - start


def run(
    plan: Plan,
    *,
    port: int,
    connections: int,
    seconds: float,
    max_ops: int | None = None,
    core: int | None = None,
) -> dict[str, Any]:
    """Run for ``seconds``, or until ``max_ops`` operations have completed if that is sooner;
    on the second core (the load generator's) unless told otherwise."""
    old = os.sched_getaffinity(0)
    cores = sorted(old)
    if core is None and len(cores) >= 2:
        core = cores[1]
    if core is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {core})
    try:
        stats, elapsed = asyncio.run(_run(plan, port, connections, seconds, max_ops))
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, old)
    ops = stats.requests / plan.per_batch
    return {
        "seconds": round(elapsed, 3),
        "requests": stats.requests,
        "ops": round(ops, 2),
        "ops_per_s": round(ops / elapsed, 3) if elapsed > 0 else 0.0,
        "mb_per_s": round(stats.bytes / elapsed / 2**20, 2) if elapsed > 0 else 0.0,
        "latency_ms": percentiles([round(x * 1e6) for x in stats.latencies]),
        "latency_samples": len(stats.latencies),
        "errors": stats.errors,
        "statuses": stats.statuses if plan.count_statuses else {},
        "client": "python-asyncio",
    }
