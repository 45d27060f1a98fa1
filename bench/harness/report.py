"""Ratios, goals and the Markdown report (also printed at the end of a run)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

SYSTEM_LABELS = {"townhall": "townhall", "isso": "Isso", "ceiling": "nginx (ceiling)"}


def _ratio(a: float | None, b: float | None) -> float | None:
    if not a or not b:
        return None
    return round(a / b, 3)


def ratios(cell: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """townhall against Isso and the ceiling: throughput (higher is better for townhall) and
    CPU per operation (the other system's cost divided by townhall's: higher is better)."""
    th, isso, ceil = cell.get("townhall", {}), cell.get("isso", {}), cell.get("ceiling", {})
    return {
        "vs_isso": _ratio(th.get("ops_per_s"), isso.get("ops_per_s")),
        "vs_ceiling": _ratio(th.get("ops_per_s"), ceil.get("ops_per_s")),
        "cpu_vs_isso": _ratio(isso.get("cpu_ms_per_op"), th.get("cpu_ms_per_op")),
        "cpu_vs_ceiling": _ratio(ceil.get("cpu_ms_per_op"), th.get("cpu_ms_per_op")),
    }


def scale_ratio(cell: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """Large database against small: throughput (small ÷ large) and CPU per operation
    (large ÷ small); 1.0 means size costs nothing."""
    small, large = cell.get("small", {}), cell.get("large", {})
    return {
        "slowdown": _ratio(small.get("ops_per_s"), large.get("ops_per_s")),
        "cpu_cost": _ratio(large.get("cpu_ms_per_op"), small.get("cpu_ms_per_op")),
    }


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def _x(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10:
        return f"{value:.0f}×"
    return f"{value:.2f}×"


def cell_summary(cell: dict[str, dict[str, Any]]) -> str:
    parts = []
    for name, s in cell.items():
        if "failure" in s and "ops_per_s" not in s:
            parts.append(f"{name}: FAILED {s['failure'][:120]}")
            continue
        errs = sum(s["errors"].values())
        parts.append(
            f"{name} {_fmt(s['ops_per_s'])}/s p50 {_fmt(s['p50_ms'], 2)} ms "
            f"p99 {_fmt(s['p99_ms'], 2)} ms cpu {_fmt(s['cpu_ms_per_op'], 3)} ms/op "
            f"rss {_fmt(s['peak_rss_mb'])} MB" + (f" ERRORS {errs}" if errs else "")
        )
    return " | ".join(parts)


def _cell(results: dict[str, Any], wid: str, conc: int) -> dict[str, Any] | None:
    for w in results.get("workloads", []):
        if w["id"] == wid:
            for row in w["results"]:
                if row.get("concurrency") == conc and "systems" in row:
                    return row  # type: ignore[no-any-return]
    return None


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's goals, each with what was measured and whether it is met (None: the run
    did not measure it)."""
    out: list[dict[str, Any]] = []

    def ratio_goal(wid: str, label: str, target: float) -> None:
        row = _cell(results, wid, 16)
        r = row["ratios"] if row else {}
        th = row["systems"].get("townhall", {}) if row else {}
        measured = r.get("vs_isso")
        out.append(
            {
                "goal": f"{label}: at least {target:.0f}× Isso's throughput at concurrency 16",
                "target": target,
                "measured": measured,
                "detail": f"{_fmt(th.get('ops_per_s'))} vs "
                f"{_fmt(row['systems'].get('isso', {}).get('ops_per_s')) if row else '–'} ops/s; "
                f"CPU per op {_x(r.get('cpu_vs_isso'))} less than Isso"
                if row
                else "not measured",
                "met": None if measured is None else measured >= target,
            }
        )

    ratio_goal("whole_big", "Whole 1,000-comment thread", 100)
    row = _cell(results, "whole_big", 16)
    p99 = row["systems"].get("townhall", {}).get("p99_ms") if row else None
    out.append(
        {
            "goal": "Whole 1,000-comment thread: p99 under 20 ms at concurrency 16",
            "target": 20,
            "measured": p99,
            "detail": "latency of the 4 pipelined pages" if p99 is not None else "not measured",
            "met": None if p99 is None else p99 < 20,
        }
    )
    ratio_goal("page_50", "Page view of a 50-comment thread", 20)
    ratio_goal("counts", "Counts of 100 threads", 20)

    best = None
    detail = "not measured"
    for w in results.get("workloads", []):
        if w["id"] != "post":
            continue
        for row in w["results"]:
            th = row.get("systems", {}).get("townhall")
            if th and "ops_per_s" in th and (best is None or th["ops_per_s"] > best):
                best = th["ops_per_s"]
                detail = f"concurrency {row['concurrency']}, statuses {th.get('statuses')}"
    out.append(
        {
            "goal": "Posting: at least 500 comments/s (full moderation pipeline)",
            "target": 500,
            "measured": best,
            "detail": detail,
            "met": None if best is None else best >= 500,
        }
    )

    scaling = results.get("scaling") or {}
    worst = None
    worst_detail = "not measured"
    for w in scaling.get("workloads", []):
        # cost = server CPU per operation; throughput on a shared machine is shown, not judged
        cost = w["ratio"].get("cpu_cost")
        slow = w["ratio"].get("slowdown")
        if cost is not None and (worst is None or cost > worst):
            worst = cost
            worst_detail = (
                f"{w['id']}: CPU per op large ÷ small {_x(cost)} (throughput small ÷ large "
                f"{_x(slow)})"
            )
    large = scaling.get("large_comments")
    out.append(
        {
            "goal": "Database size: cost on the large database within 1.2× of the small one",
            "target": 1.2,
            "measured": worst,
            "detail": f"{large:,} comments; worst case {worst_detail}" if large else worst_detail,
            "met": None if worst is None else worst <= 1.2,
        }
    )

    rss = None
    rss_detail = "not measured"
    skipped = []
    for w in results.get("workloads", []):
        for row in w["results"]:
            if row.get("concurrency") == 64 and row.get("skipped"):
                skipped.append(w["id"])
            th = row.get("systems", {}).get("townhall")
            if not (row.get("concurrency") == 64 and th and "peak_rss_mb" in th):
                continue
            if rss is None or th["peak_rss_mb"] > rss:
                rss = th["peak_rss_mb"]
                rss_detail = f"highest during {w['id']} at concurrency 64"
    if skipped:  # a goal met only because the heaviest cell did not run is not met
        rss_detail += f"; not measured: {', '.join(skipped)} at concurrency 64 (skipped)"
    out.append(
        {
            "goal": "Server RSS at most 150 MB under concurrency 64",
            "target": 150,
            "measured": rss,
            "detail": rss_detail,
            "met": None if rss is None else rss <= 150,
        }
    )
    return out


def _met(value: bool | None) -> str:
    return {True: "**met**", False: "**missed**", None: "not measured"}[value]


def goals_table(results: dict[str, Any]) -> list[str]:
    lines = ["| goal | measured | | detail |", "|---|---|---|---|"]
    for g in results.get("goals", []):
        m = g["measured"]
        shown = (
            "–"
            if m is None
            else (_x(m) if "×" in g["goal"] or "within" in g["goal"] else _fmt(m, 2))
        )
        if "MB" in g["goal"] and m is not None:
            shown = f"{m:.0f} MB"
        if "ms" in g["goal"] and m is not None:
            shown = f"{m:.2f} ms"
        if "comments/s" in g["goal"] and m is not None:
            shown = f"{m:,.0f}/s"
        lines.append(f"| {g['goal']} | {shown} | {_met(g['met'])} | {g['detail']} |")
    return lines


def results_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| workload | c | system | ops/s | spread | p50 ms | p99 ms | CPU ms/op | peak RSS MB "
        "| ÷ Isso: ops/s · CPU | ÷ ceiling: ops/s · CPU |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for w in results.get("workloads", []):
        for row in w["results"]:
            conc = row.get("concurrency")
            if "skipped" in row:
                lines.append(f"| {w['id']} | {conc} | – | skipped ({row['skipped']}) |||||||| ")
                continue
            r = row["ratios"]
            for name in ("townhall", "isso", "ceiling"):
                s = row["systems"].get(name)
                if s is None:
                    continue
                label = SYSTEM_LABELS[name]
                if "ops_per_s" not in s:
                    lines.append(
                        f"| {w['id']} | {conc} | {label} | failed: {s['failure'][:80]} |||||||| "
                    )
                    continue
                flags = []
                if sum(s["errors"].values()):
                    flags.append(f"errors {s['errors']}")
                if s.get("low_sample"):
                    flags.append(f"only {s['ops']:.0f} ops")
                ops = _fmt(s["ops_per_s"]) + (f" ({'; '.join(flags)})" if flags else "")
                vs_isso = vs_ceil = ""
                if name == "townhall":
                    vs_isso = f"{_x(r.get('vs_isso'))} · {_x(r.get('cpu_vs_isso'))}"
                    vs_ceil = f"{_x(r.get('vs_ceiling'))} · {_x(r.get('cpu_vs_ceiling'))}"
                lines.append(
                    f"| {w['id']} | {conc} | {label} | {ops} | ±{_fmt(s['spread_pct'])} % "
                    f"| {_fmt(s['p50_ms'], 2)} | {_fmt(s['p99_ms'], 2)} "
                    f"| {_fmt(s['cpu_ms_per_op'], 3)} | {_fmt(s['peak_rss_mb'])} "
                    f"| {vs_isso} | {vs_ceil} |"
                )
    return lines


def scaling_table(results: dict[str, Any]) -> list[str]:
    scaling = results.get("scaling")
    if not scaling:
        return ["Not measured."]
    lines = [
        f"townhall alone, concurrency {scaling['concurrency']}: the small database "
        f"({scaling['small_comments']:,} comments) against the large one "
        f"({scaling['large_comments']:,}), both servers up, runs interleaved.",
        "",
        "| workload | small: ops/s | large: ops/s | small: CPU ms/op | large: CPU ms/op "
        "| slowdown | CPU cost |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for w in scaling["workloads"]:
        s, big = w["systems"].get("small", {}), w["systems"].get("large", {})
        lines.append(
            f"| {w['id']} | {_fmt(s.get('ops_per_s'))} | {_fmt(big.get('ops_per_s'))} "
            f"| {_fmt(s.get('cpu_ms_per_op'), 3)} | {_fmt(big.get('cpu_ms_per_op'), 3)} "
            f"| {_x(w['ratio'].get('slowdown'))} | {_x(w['ratio'].get('cpu_cost'))} |"
        )
    return lines


def extras_lines(results: dict[str, Any]) -> list[str]:
    ex = results.get("extras") or {}
    lines: list[str] = []
    sizes = ex.get("widget_sizes") or {}
    if sizes:
        lines += ["| file | bytes | gzip -9 |", "|---|---:|---:|"]
        for name, s in sizes.items():
            lines.append(f"| {name} | {s['bytes']:,} | {s['gzip_bytes']:,} |")
        lines.append("")
    for key, b in (ex.get("benchmarks") or {}).items():
        if b["status"] == "ok" and "result" in b:
            leaves = _leaves(b["result"])
            shown = "; ".join(f"{k} = {v}" for k, v in leaves[:16])
            more = f" (+{len(leaves) - 16} more in latest.json)" if len(leaves) > 16 else ""
            command = _short(b["command"])
            lines.append(f"- **{key}** ({b['seconds']} s, `{command}`): {shown}{more}")
        elif b["status"] == "ok":
            shown = "<br>".join(b.get("output_tail", [])[-6:])
            lines.append(f"- **{key}** ({b['seconds']} s, `{_short(b['command'])}`): {shown}")
        else:
            note = b.get("note", "")
            tail = " / ".join(b.get("output_tail", [])[-2:])
            lines.append(f"- **{key}**: {b['status']} — {note}{(': ' + tail) if tail else ''}")
    return lines or ["Not run."]


def _leaves(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """The numbers (and short strings) in a nested result, as dotted paths."""
    out: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            out += _leaves(v, f"{prefix}{k}.")
    elif isinstance(data, list):
        if all(isinstance(x, (int, float)) for x in data) and len(data) <= 4:
            out.append((prefix[:-1], data))
        else:
            for i, v in enumerate(data[:4]):
                out += _leaves(v, f"{prefix}{i}.")
    elif isinstance(data, float):
        out.append((prefix[:-1], round(data, 3)))
    elif isinstance(data, (int, str)) and len(str(data)) <= 40:
        out.append((prefix[:-1], data))
    return out


def _short(command: str) -> str:
    """The command without the temporary --json path."""
    return re.sub(r"--json \S+", "--json …", command.replace(str(Path.cwd()) + "/", ""))


def markdown(results: dict[str, Any]) -> str:
    m = results.get("machine", {})
    s = results.get("settings", {})
    v = results.get("versions", {})
    ds = results.get("datasets", {}).get("small", {})
    out = [
        f"# townhall benchmark ({results.get('mode')}, {results.get('started_at')})",
        "",
        f"Machine: {m.get('cores')} cores ({m.get('cpu')}), Linux {m.get('kernel')}, "
        f"Python {m.get('python')}; {m.get('pinning')}; load generator: "
        f"{m.get('load_generator')}. Load average at start {m.get('loadavg_start')}, "
        f"at end {m.get('loadavg_end')}. Took {results.get('seconds')} s; status "
        f"{results.get('status')}.",
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        f"Dataset: {ds.get('comments', '?'):,} comments in {ds.get('threads', '?')} threads "
        f"(one of 1,000: {ds.get('big_thread')}); the same in Isso, replies folded to two "
        "levels.",
        "",
        "## Goals",
        "",
        *goals_table(results),
        "",
        "## Results",
        "",
        f"Each figure is the median of {s.get('repetitions')} runs of {s.get('seconds')} s "
        f"after a {s.get('warmup')} s warm-up, systems interleaved; spread = (max − min) ÷ "
        "median of ops/s. One op is one page view, one whole thread (4 requests for townhall, "
        "1 for Isso), one counts request or one post. CPU = server CPU time per op "
        "(/proc utime + stime, child processes included); RSS = peak resident memory of the "
        "server's processes during the runs. Ratios: townhall's ops/s ÷ the other's, then the "
        "other's CPU per op ÷ townhall's (above 1: townhall does the same work for less).",
        "",
        *results_table(results),
        "",
        "## Database size",
        "",
        *scaling_table(results),
        "",
        "## Widget and the other benchmarks",
        "",
        *extras_lines(results),
        "",
        "## What each system was asked",
        "",
    ]
    for w in results.get("workloads", []):
        out.append(f"- **{w['id']}** — {w['title']} (one op: {w['unit']})")
        for system, text in w["definitions"].items():
            out.append(f"  - {SYSTEM_LABELS.get(system, system)}: {text}")
        if w.get("checks"):
            out.append(f"  - checked before measuring: {w['checks']}")
    notes = results.get("notes") or []
    if notes:
        out += ["", "## Notes", ""]
        out += [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"
