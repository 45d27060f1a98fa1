"""Slow clients (slowloris) against a real `townhall serve`: hundreds of connections that send
their headers or their body a byte per second, or nothing at all. The server keeps serving an
ordinary reader the whole time, and times each slow client out: 408 and a closed connection
once HEADER_TIMEOUT (headers) or BODY_TIMEOUT (body) has passed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from security.servers import Server, database, prepare
from townhall.web.serving import BODY_TIMEOUT, HEADER_TIMEOUT

pytestmark = pytest.mark.slow

SLOW_HEADERS = 200
IDLE = 50
SLOW_BODIES = 50
SLACK = 5.0  # seconds: timers, a loaded CI machine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir: Path = tmp_path_factory.mktemp("slow")
    with database("sqlite", workdir) as target:
        prepare(target, {"news": {}})
        with Server(target) as s:  # the default settings, rate limits included
            yield s


@dataclass
class Outcome:
    kind: str
    closed_after: float | None  # seconds until the server closed the connection
    answer: bytes


async def slow_client(host: str, port: int, kind: str, start: float) -> Outcome:
    reader, writer = await asyncio.open_connection(host, port)
    if kind == "headers":
        trickle = b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    elif kind == "body":
        writer.write(
            b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 400\r\n\r\n"
        )
        trickle = b'{"site": "news", "thread": "/slow", "text": "' + b"s" * 300
    else:
        trickle = b""
    answer = b""

    async def read_all() -> bytes:
        data = b""
        while chunk := await reader.read(4096):
            data += chunk
        return data

    reading = asyncio.ensure_future(read_all())
    sent = 0
    deadline = start + max(HEADER_TIMEOUT, BODY_TIMEOUT) + 3 * SLACK
    try:
        while not reading.done() and time.monotonic() < deadline:
            if sent < len(trickle):
                writer.write(trickle[sent : sent + 1])
                sent += 1
                try:
                    await writer.drain()
                except ConnectionError:
                    break
            await asyncio.wait([reading], timeout=1.0)
        if not reading.done():
            return Outcome(kind, None, b"")
        try:
            answer = reading.result()
        except ConnectionError:
            answer = b""
        return Outcome(kind, time.monotonic() - start, answer)
    finally:
        reading.cancel()
        writer.close()


async def ordinary_reader(url: str, until: float) -> list[tuple[int, float]]:
    results: list[tuple[int, float]] = []
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        while time.monotonic() < until:
            sent = time.monotonic()
            try:
                r = await client.get("/api/v1/comments", params={"site": "news", "thread": "/x"})
                results.append((r.status_code, time.monotonic() - sent))
            except httpx.HTTPError:
                results.append((0, time.monotonic() - sent))
            await asyncio.sleep(0.25)
    return results


async def siege(server: Server) -> tuple[list[Outcome], list[tuple[int, float]]]:
    start = time.monotonic()
    kinds = ["headers"] * SLOW_HEADERS + ["idle"] * IDLE + ["body"] * SLOW_BODIES
    clients = [slow_client(server.host, server.port, kind, start) for kind in kinds]
    until = start + BODY_TIMEOUT + SLACK
    outcomes, reads = await asyncio.gather(
        asyncio.gather(*clients), ordinary_reader(server.url, until)
    )
    return list(outcomes), reads


def test_slow_clients_are_timed_out_and_others_served(server: Server) -> None:
    outcomes, reads = asyncio.run(siege(server))
    statuses = [s for s, _ in reads]
    assert statuses and set(statuses) == {200}, statuses
    assert max(seconds for _, seconds in reads) < 2.0, reads
    limits = {"headers": HEADER_TIMEOUT, "idle": HEADER_TIMEOUT, "body": BODY_TIMEOUT}
    for o in outcomes:
        assert o.closed_after is not None, f"a slow {o.kind} client was never timed out"
        assert limits[o.kind] - 1 <= o.closed_after <= limits[o.kind] + SLACK, o
        if o.kind == "idle":
            assert o.answer == b"", o
        elif o.answer.startswith(b"HTTP/1.1 429 "):
            assert o.kind == "body", o  # refused by the write limit before its body was read
        else:
            assert o.answer.startswith(b"HTTP/1.1 408 "), o
            assert b'"request_timeout"' in o.answer
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
    log = server.log_text()
    assert "Traceback" not in log, log[-3000:]
    print(
        f"\nslow clients: {SLOW_HEADERS} slow headers, {IDLE} idle, {SLOW_BODIES} slow bodies, "
        f"all timed out; {len(reads)} ordinary reads, all 200, slowest "
        f"{max(s for _, s in reads) * 1000:.0f} ms"
    )
