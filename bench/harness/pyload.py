"""A small load generator on raw asyncio streams, for machines without wrk.

Same contract as the wrk driver: each connection sends a batch of (pipelined) requests, reads
all of its responses, records the batch's latency and goes on until the time is up. It parses
just enough HTTP/1.1 (status line, Content-Length, chunked, Connection: close). Python on one
core saturates long before nginx does, so with this client the ceiling is the client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any

from harness.load import LATENCY_PERCENTILES, Plan


class _Stats:
    def __init__(self) -> None:
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


async def _connection(plan: Plan, port: int, index: int, deadline: float, stats: _Stats) -> None:
    batches = plan.batches
    i = index * 7919 % len(batches)
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while time.monotonic() < deadline:
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
        except (OSError, asyncio.IncompleteReadError, ValueError):
            stats.error("read")
            close = True
        else:
            stats.latencies.append(time.perf_counter() - start)
        if close:
            writer.close()
            conn = None


async def _run(plan: Plan, port: int, connections: int, seconds: int) -> tuple[_Stats, float]:
    stats = _Stats()
    start = time.monotonic()
    deadline = start + seconds
    tasks = [
        asyncio.create_task(_connection(plan, port, i, deadline, stats)) for i in range(connections)
    ]
    await asyncio.wait(tasks, timeout=seconds + 30)
    for task in tasks:
        task.cancel()
    return stats, time.monotonic() - start


def run(
    plan: Plan, *, port: int, connections: int, seconds: int, core: int | None = None
) -> dict[str, Any]:
    old = os.sched_getaffinity(0)
    cores = sorted(old)
    if core is None and len(cores) >= 2:
        core = cores[1]
    if core is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {core})
    try:
        stats, elapsed = asyncio.run(_run(plan, port, connections, seconds))
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, old)
    lat = sorted(stats.latencies) or [0.0]

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p / 100))] * 1000

    ops = stats.requests / plan.per_batch
    return {
        "seconds": round(elapsed, 3),
        "requests": stats.requests,
        "ops": round(ops, 2),
        "ops_per_s": round(ops / elapsed, 2),
        "mb_per_s": round(stats.bytes / elapsed / 2**20, 2),
        "latency_ms": {
            "min": round(lat[0] * 1000, 3),
            "mean": round(sum(lat) / len(lat) * 1000, 3),
            "max": round(lat[-1] * 1000, 3),
            **{f"p{p}": round(pct(p), 3) for p in LATENCY_PERCENTILES},
        },
        "errors": stats.errors,
        "statuses": stats.statuses if plan.count_statuses else {},
        "client": "python-asyncio",
    }
