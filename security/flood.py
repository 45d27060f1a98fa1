"""Abuse under load: one client floods posts and reads from 127.0.0.2 while readers on
127.0.0.3 and 127.0.0.4 read at a steady pace. The flooder must get 429 with Retry-After; the
readers must get nothing but 200, and their p99 latency while the flood runs must stay within
2x of their p99 while it does not. Phases alternate (quiet, flood, quiet, flood...) so that
whatever else the machine is doing weighs on both sides alike. Each side runs in its own
process, so the clients' own work does not show up as server latency."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from security.servers import ORIGIN, Server, Target, percentile, prepare, seed_thread

SITE = "flood"
THREAD = "/flood/story"
FLOODER_ADDRESS = "127.0.0.2"
READER_ADDRESSES = ("127.0.0.3", "127.0.0.4")  # each reads below its own limit (20/s)


@dataclass
class FloodReport:
    database: str
    phase_seconds: float
    rounds: int
    reader_requests: int
    reader_statuses: dict[int, int]
    quiet_p99_ms: float
    flood_p99_ms: float
    quiet_p50_ms: float
    flood_p50_ms: float
    flood_requests: int
    flood_statuses: dict[int, int]
    flood_429_without_retry_after: int
    healthy_after: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.flood_p99_ms / self.quiet_p99_ms if self.quiet_p99_ms else float("inf")

    def line(self) -> str:
        rate = self.flood_requests / (self.phase_seconds * self.rounds)
        return (
            f"flood [{self.database}]: flooder sent {self.flood_requests} requests "
            f"(~{rate:.0f}/s), statuses {dict(sorted(self.flood_statuses.items()))}; readers: "
            f"{self.reader_requests} requests, "
            f"statuses {dict(sorted(self.reader_statuses.items()))}, "
            f"p99 {self.quiet_p99_ms:.1f} ms quiet vs {self.flood_p99_ms:.1f} ms under flood "
            f"(ratio {self.ratio:.2f}; p50 {self.quiet_p50_ms:.1f} vs {self.flood_p50_ms:.1f} ms)"
        )


def _reader(url: str, address: str, start: float, end: float, rps: float, out: Any) -> None:
    """Steady reads at ``rps`` from ``address``: (sent_at, seconds, status)."""
    samples: list[tuple[float, float, int]] = []
    transport = httpx.HTTPTransport(local_address=address)
    params = {"site": SITE, "thread": THREAD}
    with httpx.Client(base_url=url, transport=transport, timeout=30) as client:
        client.get("/api/v1/comments", params=params)  # connect before the clock starts
        n = 0
        while True:
            due = start + n / rps
            if due >= end:
                break
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent = time.monotonic()
            try:
                if n % 4 == 3:
                    r = client.get("/api/v1/counts", params={"site": SITE, "thread": THREAD})
                else:
                    r = client.get("/api/v1/comments", params=params)
                status = r.status_code
            except httpx.HTTPError:
                status = 0
            samples.append((sent, time.monotonic() - sent, status))
            n += 1
    out.put(samples)


async def _flood_windows(url: str, windows: list[tuple[float, float]], workers: int) -> Any:
    statuses: Counter[int] = Counter()
    missing_retry_after = 0
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)

    async def window(end: float) -> None:
        # New connections for every flood phase: kept idle through a quiet phase as long as the
        # server's keep-alive timeout (5 s), they would be closed by it just as they are used
        # again, and the flooder would count that race as an error of the server.
        transport = httpx.AsyncHTTPTransport(local_address=FLOODER_ADDRESS)
        async with httpx.AsyncClient(
            base_url=url, transport=transport, timeout=30, limits=limits
        ) as client:
            await asyncio.gather(*(worker(client, n, end) for n in range(workers)))

    async def worker(client: httpx.AsyncClient, n: int, end: float) -> None:
        nonlocal missing_retry_after
        i = 0
        while time.monotonic() < end:
            i += 1
            try:
                if (n + i) % 2:
                    r = await client.post(
                        "/api/v1/comments",
                        json={
                            "site": SITE,
                            "thread": THREAD,
                            "text": f"flood {n} {i} buy cheap watches",
                            "thread_url": ORIGIN + THREAD,
                        },
                    )
                else:
                    r = await client.get(
                        "/api/v1/comments", params={"site": SITE, "thread": THREAD}
                    )
                statuses[r.status_code] += 1
                if r.status_code == 429 and not r.headers.get("retry-after", "").isdigit():
                    missing_retry_after += 1
            except httpx.HTTPError as exc:
                statuses[0] += 1
                if statuses[0] <= 5:  # say what it was (the report counts them as status 0)
                    print(f"  flooder: {type(exc).__name__}: {exc!r}"[:300], flush=True)

    for start, end in windows:
        pause = start - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        await window(end)
    return dict(statuses), missing_retry_after


def _flooder(url: str, windows: list[tuple[float, float]], workers: int, out: Any) -> None:
    out.put(asyncio.run(_flood_windows(url, windows, workers)))


def run_flood(
    target: Target,
    *,
    phase_seconds: float = 5.0,
    rounds: int = 2,
    reader_rps: float = 16.0,
    flood_workers: int = 16,
    log: Callable[[str], None] = print,
) -> FloodReport:
    prepare(target, {SITE: {}})  # the default moderation policy
    seed_thread(target, SITE, THREAD, 40)
    # The production defaults for request rate limits (rate_limit_reads/writes).
    server = Server(target, settings={"rate_limit_reads": "1200", "rate_limit_writes": "120"})
    ctx = multiprocessing.get_context("spawn")
    with server:
        start = time.monotonic() + 3.0  # both processes are up by then
        quiet: list[tuple[float, float]] = []
        flood: list[tuple[float, float]] = []
        t = start
        for _ in range(rounds):
            quiet.append((t, t + phase_seconds))
            flood.append((t + phase_seconds, t + 2 * phase_seconds))
            t += 2 * phase_seconds
        end = t
        reader_out, flood_out = ctx.Queue(), ctx.Queue()
        procs = [
            ctx.Process(
                target=_reader, args=(server.url, address, start, end, reader_rps, reader_out)
            )
            for address in READER_ADDRESSES
        ]
        procs.append(
            ctx.Process(target=_flooder, args=(server.url, flood, flood_workers, flood_out))
        )
        for p in procs:
            p.start()
        samples: list[tuple[float, float, int]] = []
        for _ in READER_ADDRESSES:
            samples += reader_out.get(timeout=end - time.monotonic() + 120)
        flood_statuses, missing = flood_out.get(timeout=120)
        for p in procs:
            p.join(timeout=30)
        healthy = httpx.get(server.url + "/healthz", timeout=10).status_code == 200
        log_text = server.log_text()

    def window_latencies(windows: list[tuple[float, float]]) -> list[float]:
        margin = 0.25  # leave out the switch-over moments
        return [
            seconds * 1000
            for sent, seconds, _ in samples
            if any(a + margin <= sent < b - margin for a, b in windows)
        ]

    quiet_ms, flood_ms = window_latencies(quiet), window_latencies(flood)
    reader_statuses = Counter(status for _, _, status in samples)
    report = FloodReport(
        database=target.kind,
        phase_seconds=phase_seconds,
        rounds=rounds,
        reader_requests=len(samples),
        reader_statuses=dict(reader_statuses),
        quiet_p99_ms=percentile(quiet_ms, 99),
        flood_p99_ms=percentile(flood_ms, 99),
        quiet_p50_ms=percentile(quiet_ms, 50),
        flood_p50_ms=percentile(flood_ms, 50),
        flood_requests=sum(flood_statuses.values()),
        flood_statuses=flood_statuses,
        flood_429_without_retry_after=missing,
        healthy_after=healthy,
    )
    if set(reader_statuses) != {200}:
        report.problems.append(f"readers got {dict(reader_statuses)}")
    if not flood_statuses.get(429):
        report.problems.append("the flooder was never limited")
    if missing:
        report.problems.append(f"{missing} 429 answers without a Retry-After")
    if any(s >= 500 or s == 0 for s in flood_statuses):
        report.problems.append(f"the flood broke something: {flood_statuses}")
    if not healthy:
        report.problems.append("the server was not healthy after the flood")
    if "Traceback" in log_text:
        report.problems.append("the server logged a traceback")
    log(report.line())
    return report
