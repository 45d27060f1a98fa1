"""Running one cell (a workload at one concurrency on several systems): warm-up, then
repetitions with the systems interleaved, so that a noisy neighbour hurts them all alike.
Each run records the load generator's figures and, from /proc, the server's CPU time and
peak resident memory (its child processes included).

Runs are time-bounded. A system that needs more than a quarter of a second per operation
(Isso on the 1,000-comment thread takes seconds) would complete next to nothing in a two-second
run, so its runs are bounded by count as well: they end when ``slow_ops`` operations have
completed, or after ``slow_max_seconds``, driven by the asyncio client (at a few operations a
second the client costs nothing). A run that ends with such a server still working through
queued connections (a synchronous worker answers them after the client is gone) is followed
by a restart of that server, by PID, so it does not steal the next run's core.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness import pyload
from harness.load import Plan, run_wrk
from harness.servers import PeakSampler, Server, cpu_seconds, snapshot
from harness.workloads import PlanFactory

SLOW_OP_S = 0.25  # above this per operation, a warm-up run is only a wait


@dataclass
class Settings:
    seconds: int
    warmup: int
    repetitions: int
    wrk: str | None  # None: the asyncio client
    client_pin: list[str]
    slow_ops: int = 2
    slow_max_seconds: float = 20.0
    idle_wait: float = 10.0
    servers: list[Server] = field(default_factory=list)  # every running server


@dataclass
class Target:
    server: Server
    plan: PlanFactory
    op_seconds: float = 0.0  # estimated time of one operation on an idle server


def _busy(server: Server, interval: float = 0.15) -> bool:
    pids = server.pids()
    before = cpu_seconds(pids)
    time.sleep(interval)
    return cpu_seconds(pids) - before > 0.08 * interval


def settle(settings: Settings, only: Server | None = None) -> float:
    """Wait until no server (or ``only`` this one) is working on a previous run's requests;
    restart one that would keep at it (Isso), wait for the others up to ``idle_wait``."""
    start = time.monotonic()
    for server in [only] if only else settings.servers:
        if not server.alive():
            continue
        if server.restartable:
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and _busy(server):
                pass
            if _busy(server):
                server.restart()
            continue
        deadline = time.monotonic() + settings.idle_wait
        while time.monotonic() < deadline and _busy(server):
            pass
    return time.monotonic() - start


def repetitions(settings: Settings, op_seconds: float, connections: int) -> int:
    """A slow system (seconds an operation) gets two runs at concurrency 16, where the goals
    are set, and one elsewhere: its throughput does not move with concurrency anyway (one
    synchronous worker), and each of its runs costs more than all of townhall's."""
    if op_seconds >= SLOW_OP_S:
        return min(2 if connections == 16 else 1, settings.repetitions)
    return settings.repetitions


def expected_seconds(settings: Settings, op_seconds: float) -> float:
    """How long one measured run of a system lasts."""
    if op_seconds >= SLOW_OP_S:
        return min(settings.slow_max_seconds, settings.slow_ops * op_seconds * 1.2)
    return float(settings.seconds)


def run_once(
    settings: Settings,
    server: Server,
    plan: Plan,
    connections: int,
    seconds: float,
    max_ops: int | None = None,
) -> dict[str, Any]:
    before = snapshot(server)
    with PeakSampler(before["pids"]) as sampler:
        if max_ops is not None:  # count-bounded: a slow system
            result = pyload.run(
                plan, port=server.port, connections=connections, seconds=seconds, max_ops=max_ops
            )
        elif settings.wrk:
            result = run_wrk(
                settings.wrk,
                plan,
                port=server.port,
                connections=connections,
                seconds=int(seconds),
                pin=settings.client_pin,
            )
        else:
            result = pyload.run(plan, port=server.port, connections=connections, seconds=seconds)
    after = snapshot(server)
    cpu = after["cpu"] - before["cpu"]
    result["server_cpu_s"] = round(cpu, 3)
    result["server_cpu_util"] = round(cpu / result["seconds"], 3) if result["seconds"] else None
    result["cpu_ms_per_op"] = round(cpu * 1000 / result["ops"], 4) if result["ops"] else None
    result["peak_rss_mb"] = round(sampler.peak / 2**20, 1)
    result["hwm_mb"] = round(after["hwm"] / 2**20, 1)
    result["settled_s"] = round(settle(settings, server), 2)
    return result


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(values: list[float | None]) -> float | None:
        clean = [v for v in values if v is not None]
        return round(statistics.median(clean), 4) if clean else None

    ops = [r["ops_per_s"] for r in runs]
    median_ops = statistics.median(ops)
    errors: dict[str, int] = {}
    statuses: dict[int, int] = {}
    for r in runs:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
        for code, v in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + v
    p99s = [r["latency_ms"]["p99"] for r in runs if r["latency_ms"]["p99"] is not None]
    total_ops = sum(r["ops"] for r in runs)
    return {
        "ops_per_s": round(median_ops, 2),
        "ops_per_s_min": round(min(ops), 2),
        "ops_per_s_max": round(max(ops), 2),
        "spread_pct": round((max(ops) - min(ops)) / median_ops * 100, 1) if median_ops else None,
        "p50_ms": med([r["latency_ms"]["p50"] for r in runs]),
        "p99_ms": med([r["latency_ms"]["p99"] for r in runs]),
        "p99_ms_max": max(p99s) if p99s else None,
        "cpu_ms_per_op": med([r["cpu_ms_per_op"] for r in runs]),
        "server_cpu_util": med([r["server_cpu_util"] for r in runs]),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "hwm_mb": max(r["hwm_mb"] for r in runs),
        "run_seconds": [r["seconds"] for r in runs],
        "ops": round(total_ops, 1),
        "errors": errors,
        "statuses": statuses,
        "low_sample": total_ops < 30,
        "runs": runs,
    }


def measure_cell(
    settings: Settings,
    targets: dict[str, Target],
    connections: int,
    on_run: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Warm each system up, then run the repetitions round-robin over the systems."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    failed: dict[str, str] = {}
    settle(settings)
    for name, t in targets.items():
        # nginx has nothing to warm; a slow system's warm-up would only be a wait
        if settings.warmup > 0 and t.op_seconds < SLOW_OP_S and name != "ceiling":
            try:
                run_once(settings, t.server, t.plan(0), connections, settings.warmup)
            except Exception as exc:  # a system that fails is reported, the others go on
                failed[name] = f"{type(exc).__name__}: {exc}"
    names = [n for n in targets if n not in failed]
    reps = {n: repetitions(settings, targets[n].op_seconds, connections) for n in names}
    for rep in range(1, settings.repetitions + 1):
        order = names[rep % len(names) :] + names[: rep % len(names)] if names else []
        for name in order:
            if name in failed or rep > reps[name]:
                continue
            t = targets[name]
            slow = t.op_seconds >= SLOW_OP_S
            seconds = settings.slow_max_seconds if slow else settings.seconds
            max_ops = settings.slow_ops if slow else None
            try:
                result = run_once(settings, t.server, t.plan(rep), connections, seconds, max_ops)
                if slow and result["ops"] and result["seconds"] / result["ops"] < SLOW_OP_S / 2:
                    # it only looked slow (its first request paid a one-off cost): that run
                    # was its warm-up; measure it as the fast system it is
                    t.op_seconds = result["seconds"] / result["ops"]
                    slow = False
                    result = run_once(
                        settings, t.server, t.plan(rep + 1000), connections, settings.seconds
                    )
            except Exception as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"
                continue
            if result["ops"]:  # what an operation really takes here, for the next run
                t.op_seconds = result["seconds"] / result["ops"]
            result["count_bounded"] = slow
            runs[name].append(result)
            if on_run:
                on_run(name, result)
    out: dict[str, dict[str, Any]] = {}
    for name in targets:
        if runs[name]:
            out[name] = aggregate(runs[name])
            if name in failed:
                out[name]["failure"] = failed[name]
        elif name in failed:
            out[name] = {"failure": failed[name]}
    return out
