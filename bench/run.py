#!/usr/bin/env python3
"""townhall's benchmark, one command: ``python bench/run.py`` (``--quick`` for CI).

Builds the dataset, seeds townhall and Isso with the same threads, starts townhall, Isso
(from PyPI, in its own venv, under gunicorn) and nginx (the ceiling: the same bytes from a
file), runs every workload against each on loopback, stops everything by PID and writes
``bench/results/latest.json`` and ``latest.md``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from harness import dataset, extras, measure, report, seed, servers, workloads  # noqa: E402

SCHEMA = 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark townhall against Isso and an nginx ceiling (see bench/README.md)."
    )
    p.add_argument("--quick", action="store_true", help="a short run for CI (under 3 minutes)")
    p.add_argument("--million", action="store_true", help="large database of 1,000,000 comments")
    p.add_argument("--large-comments", type=int, help="comments in the large database")
    p.add_argument("--seconds", type=int, help="length of each measured run")
    p.add_argument("--warmup", type=int, help="length of the warm-up run")
    p.add_argument("--repetitions", type=int, help="measured runs per system and cell")
    p.add_argument("--concurrency", help="comma-separated connection counts, e.g. 1,16,64")
    p.add_argument("--workloads", help="comma-separated workload ids to run (default: all)")
    p.add_argument("--no-isso", action="store_true", help="skip Isso")
    p.add_argument("--no-ceiling", action="store_true", help="skip the nginx ceiling")
    p.add_argument("--no-scaling", action="store_true", help="skip the large-database runs")
    p.add_argument("--no-extras", action="store_true", help="skip the other benchmarks")
    p.add_argument(
        "--extras-full",
        action="store_true",
        help="run the other benchmarks in their own default (long) mode, not their short one",
    )
    p.add_argument("--python-client", action="store_true", help="use the asyncio client, not wrk")
    p.add_argument(
        "--budget", type=int, help="seconds for the whole run; cells that would not fit are skipped"
    )
    p.add_argument("--out", type=Path, default=BENCH / "results", help="results folder")
    p.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    args = p.parse_args(argv)
    quick = args.quick
    args.seconds = args.seconds or (1 if quick else 2)
    args.warmup = args.warmup if args.warmup is not None else 1
    args.repetitions = args.repetitions or (1 if quick else 3)
    conc = args.concurrency or ("16" if quick else "1,16,64")
    args.concurrency = [int(c) for c in conc.split(",")]
    args.post_concurrency = [c for c in args.concurrency if c in (1, 16)] or args.concurrency[:1]
    if args.large_comments is None:
        args.large_comments = 1_000_000 if args.million else (20_000 if quick else 100_000)
    args.budget = args.budget or (170 if quick else 885)
    # what the other benchmarks get at the end (quick: the widget's size only)
    args.extras_reserve = 0 if (quick or args.no_extras) else 170
    return args


def git_revision() -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return done.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class Runner:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.started = time.monotonic()
        self.notes: list[str] = []
        self.results: dict[str, Any] = {
            "schema": SCHEMA,
            "mode": "quick" if args.quick else "full",
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "settings": {
                "seconds": args.seconds,
                "warmup": args.warmup,
                "repetitions": args.repetitions,
                "concurrency": args.concurrency,
                "post_concurrency": args.post_concurrency,
                "large_comments": args.large_comments,
            },
            "machine": {
                "cores": os.cpu_count(),
                "cpu": cpu_model(),
                "kernel": platform.release(),
                "python": platform.python_version(),
                "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            },
            "versions": {"townhall": git_revision()},
            "datasets": {},
            "systems": {},
            "workloads": [],
            "scaling": None,
            "extras": {},
            "notes": self.notes,
        }
        self.servers: dict[str, servers.Server] = {}
        self.isso_python: Path | None = None

    # -- helpers -------------------------------------------------------------------------------

    def log(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.1f}s] {message}", flush=True)

    def time_left(self, reserve: bool = True) -> float:
        left = float(self.args.budget) - (time.monotonic() - self.started)
        return left - (float(self.args.extras_reserve) if reserve else 0.0)

    def cell_seconds(self, targets: dict[str, measure.Target], connections: int) -> float:
        """A cell's expected length: warm-up, runs, settling and Isso's restarts."""
        st = self.settings()
        total = 0.0
        for t in targets.values():
            length = measure.expected_seconds(st, t.op_seconds)
            fast = t.op_seconds < measure.SLOW_OP_S and t.server.name != "nginx"
            warm = st.warmup if fast else 0
            restart = 3.0 if t.server.restartable else 0.3
            reps = measure.repetitions(st, t.op_seconds, connections)
            total += warm + reps * (length + restart + 0.5)
        return total

    # -- setup ---------------------------------------------------------------------------------

    def setup_tools(self) -> None:
        log = self.work / "setup.log"
        self.server_pin, self.client_pin, note = servers.pinning()
        self.results["machine"]["pinning"] = note
        self.wrk: str | None = None
        if not self.args.python_client:
            self.wrk = servers.ensure_wrk(log)
            if self.wrk is None:
                self.notes.append("wrk could not be installed: the asyncio client measured")
        self.results["machine"]["load_generator"] = (
            servers.tool_version([self.wrk, "--version"]) if self.wrk else "python asyncio client"
        )
        self.nginx: str | None = None
        if not self.args.no_ceiling:
            self.nginx = servers.ensure_nginx(log)
            if self.nginx is None:
                self.notes.append("nginx could not be installed: no ceiling figures")
            else:
                self.results["versions"]["nginx"] = servers.tool_version([self.nginx, "-v"])
        if not self.args.no_isso:
            self.log("installing Isso and gunicorn from PyPI (bench/.cache/isso-venv)")
            try:
                self.isso_python = servers.ensure_isso(BENCH / ".cache" / "isso-venv", log)
                for name in ("isso", "gunicorn"):
                    self.results["versions"][name] = servers.package_version(self.isso_python, name)
            except (servers.SetupError, subprocess.SubprocessError, OSError) as exc:
                self.notes.append(f"Isso could not be installed, so it is left out: {exc}")
                self.isso_python = None

    def setup_data(self) -> None:
        a = self.args
        self.log("building the dataset")
        self.data = dataset.build()
        big = self.data.by_thread(self.data.group("big")[0].id)
        self.results["datasets"]["small"] = {
            "comments": len(self.data.comments),
            "threads": len(self.data.threads),
            "big_thread": dataset.shape_stats(big),
            "groups": {g: len(self.data.group(g)) for g in ("big", "read", "write", "mixed")},
        }
        self.origin = f"http://127.0.0.1:{servers.free_port()}"  # the article pages' origin
        log = self.work / "seed.log"
        template = self.work / "townhall-template"
        self.log("creating townhall's site: townhall site add bench --policy rate_burst=… ")
        seed.create_site(template, self.origin, log)
        self.log(f"seeding townhall ({len(self.data.comments)} comments)")
        info = seed.seed_townhall(template, self.work / "townhall-small", self.data, log)
        self.results["datasets"]["small"]["townhall_seed"] = info
        if self.isso_python is not None:
            self.log("seeding Isso (same comments, replies folded to two levels)")
            self.isso_cfg = self.work / "isso.cfg"
            self.isso_port = servers.free_port()
            servers.isso_config(self.isso_cfg, self.work / "isso.db", self.isso_port, self.origin)
            try:
                info = seed.seed_isso(self.isso_python, self.isso_cfg, self.data, self.work, log)
                self.results["datasets"]["small"]["isso_seed"] = info
            except subprocess.SubprocessError as exc:
                self.notes.append(f"Isso could not be seeded ({exc}); see {log}")
                self.isso_python = None
        if not a.no_scaling:
            self.large = dataset.build(total_comments=a.large_comments)
            self.log(f"seeding townhall's large database ({self.large.size} comments)")
            info = seed.seed_townhall(template, self.work / "townhall-large", self.large, log)
            self.results["datasets"]["large"] = {"comments": self.large.size, "townhall_seed": info}

    def start_servers(self) -> None:
        logs = self.work
        th_port = servers.free_port()
        th = servers.townhall_server(
            self.work / "townhall-small", th_port, logs / "townhall.log", self.server_pin
        )
        self.log("starting townhall")
        th.start()
        self.servers["townhall"] = th
        self.results["systems"]["townhall"] = {
            "command": " ".join(th.argv),
            "env": th.env,
            "processes": "1 (uvicorn, one worker)",
        }
        if self.isso_python is not None:
            isso = servers.isso_server(
                self.isso_python.parent.parent,
                self.isso_cfg,
                self.isso_port,
                logs / "isso.log",
                self.server_pin,
            )
            self.log("starting Isso (gunicorn, 1 sync worker)")
            try:
                isso.start()
                self.servers["isso"] = isso
                self.results["systems"]["isso"] = {
                    "command": " ".join(isso.argv),
                    "config": self.isso_cfg.read_text(),
                    "processes": "gunicorn master + 1 sync worker (townhall has 1 process)",
                }
            except servers.SetupError as exc:
                self.notes.append(f"Isso did not start, so it is left out: {exc}")
        if self.nginx is not None:
            self.work.chmod(0o711)  # nginx's worker (user nobody) reads the files below
            self.ceiling_root = self.work / "ceiling"
            (self.ceiling_root / "plain").mkdir(parents=True, exist_ok=True)
            (self.ceiling_root / "gzip").mkdir(parents=True, exist_ok=True)
            ng = servers.nginx_server(
                self.nginx,
                self.ceiling_root,
                self.work / "nginx",
                servers.free_port(),
                logs / "nginx.log",
                self.server_pin,
            )
            self.log("starting nginx (the ceiling)")
            try:
                ng.start()
                self.servers["ceiling"] = ng
                self.results["systems"]["ceiling"] = {
                    "command": " ".join(ng.argv),
                    "processes": "nginx master + 1 worker",
                }
            except servers.SetupError as exc:
                self.notes.append(f"nginx did not start, so there is no ceiling: {exc}")

    # -- measuring -----------------------------------------------------------------------------

    def settings(self) -> measure.Settings:
        return measure.Settings(
            seconds=self.args.seconds,
            warmup=self.args.warmup,
            repetitions=self.args.repetitions,
            wrk=self.wrk,
            client_pin=self.client_pin,
            slow_ops=2,
            slow_max_seconds=6.0 if self.args.quick else 20.0,
            servers=list(self.servers.values()),
        )

    def context(self, ports: dict[str, int], data: dataset.Dataset) -> workloads.Context:
        return workloads.Context(
            dataset=data,
            origin=self.origin,
            ports=ports,
            ceiling_root=getattr(self, "ceiling_root", None),
            seconds=self.args.seconds,
            concurrency=self.args.concurrency,
            post_concurrency=self.args.post_concurrency,
            runs=self.args.repetitions + 1,
            light=self.args.quick,
        )

    def run_workloads(self, ids: list[str]) -> None:
        ports = {name: s.port for name, s in self.servers.items()}
        ctx = self.context(ports, self.data)
        if self.args.quick and "isso" in ports and "page_big" in ids:
            self.notes.append(
                "quick mode: Isso is left out of the 1,000-comment thread workloads "
                "(it takes seconds a request)"
            )
        wanted = set(self.args.workloads.split(",")) if self.args.workloads else None
        for wid in ids:
            if wanted and wid not in wanted:
                continue
            try:
                w = workloads.ALL[wid](ctx)
            except Exception as exc:
                self.notes.append(f"workload {wid} could not be set up: {exc}")
                traceback.print_exc()
                continue
            entry: dict[str, Any] = {
                "id": w.id,
                "title": w.title,
                "unit": w.unit,
                "definitions": w.definitions,
                "checks": w.checks,
                "results": [],
            }
            self.results["workloads"].append(entry)
            for conc in w.concurrency:
                targets: dict[str, measure.Target] = {
                    name: measure.Target(
                        self.servers[name], w.plans[name], w.op_seconds.get(name, 0)
                    )
                    for name in ("townhall", "isso", "ceiling")
                    if name in w.plans and name in self.servers
                }
                if self.cell_seconds(targets, conc) > self.time_left():
                    self.notes.append(f"{w.id} at concurrency {conc} skipped: time budget spent")
                    entry["results"].append({"concurrency": conc, "skipped": "time budget"})
                    continue
                self.log(f"{w.id} at concurrency {conc}: {', '.join(targets)}")
                cell = measure.measure_cell(self.settings(), targets, conc)
                row = {"concurrency": conc, "systems": cell, "ratios": report.ratios(cell)}
                entry["results"].append(row)
                self.log("  " + report.cell_summary(cell))
                self.check_alive()

    def check_alive(self) -> None:
        for name, server in list(self.servers.items()):
            if not server.alive():
                self.notes.append(f"{name} stopped during the run:\n{server.log_tail()}")
                del self.servers[name]

    def run_scaling(self) -> None:
        """townhall on the small and the large database, side by side, at concurrency 16."""
        if self.args.no_scaling or "townhall" not in self.servers:
            return
        conc = 16 if 16 in self.args.concurrency else self.args.concurrency[-1]
        port = servers.free_port()
        large = servers.townhall_server(
            self.work / "townhall-large", port, self.work / "townhall-large.log", self.server_pin
        )
        self.log(f"starting townhall on the large database ({self.large.size} comments)")
        large.start()
        self.servers["townhall-large"] = large
        small_ctx = self.context({"townhall": self.servers["townhall"].port}, self.data)
        large_ctx = self.context({"townhall": port}, self.large)
        scaling: dict[str, Any] = {
            "concurrency": conc,
            "small_comments": len(self.data.comments),
            "large_comments": self.large.size,
            "workloads": [],
        }
        self.results["scaling"] = scaling

        def post(c: workloads.Context) -> workloads.Workload:
            return workloads.posting(c, seed="scale")

        makes: dict[str, Callable[[workloads.Context], workloads.Workload]] = {
            "page_50": workloads.page_small,
            "whole_big": workloads.whole_big,
            "counts": workloads.counts,
            "post": post,
        }
        if self.args.quick:  # the path through is what CI checks; two workloads show it
            makes = {k: v for k, v in makes.items() if k in ("page_50", "post")}
        for wid, make in makes.items():
            small_w, large_w = make(small_ctx), make(large_ctx)
            targets = {
                "small": measure.Target(self.servers["townhall"], small_w.plans["townhall"]),
                "large": measure.Target(large, large_w.plans["townhall"]),
            }
            if self.cell_seconds(targets, conc) > self.time_left():
                self.notes.append(f"scaling {wid} skipped: time budget spent")
                continue
            self.log(f"scaling {wid} at concurrency {conc}: small vs large database")
            cell = measure.measure_cell(self.settings(), targets, conc)
            scaling["workloads"].append(
                {
                    "id": wid,
                    "title": small_w.title,
                    "systems": cell,
                    "ratio": report.scale_ratio(cell),
                }
            )
            self.log("  " + report.cell_summary(cell))
        large.stop()
        del self.servers["townhall-large"]

    def server_notes(self) -> None:
        for name, server in self.servers.items():
            warnings = [
                line
                for line in server.log_tail(400).splitlines()
                if " WARNING " in line or " ERROR " in line or "Traceback" in line
            ]
            if warnings:
                self.results["systems"].setdefault(name, {})["log_warnings"] = warnings[:20]
            if name == "townhall" and any("toxicity" in w for w in warnings):
                self.notes.append(
                    "townhall logged that its toxicity model was unavailable, so the toxicity "
                    "check did not run during the posting workloads: "
                    + next(w for w in warnings if "toxicity" in w).strip()
                )

    def run_extras(self) -> None:
        if self.args.no_extras:
            return
        self.log("widget sizes and the other benchmarks")
        self.results["extras"]["widget_sizes"] = extras.widget_sizes(REPO, self.isso_python)
        if self.args.quick:
            self.notes.append("quick mode: the other benchmarks (bench/bench_*.py) were not run")
            return
        short = not self.args.extras_full
        self.results["extras"]["benchmarks"] = extras.other_benchmarks(
            BENCH, short, lambda: self.time_left(reserve=False)
        )

    def run(self) -> dict[str, Any]:
        try:
            self.setup_tools()
            self.setup_data()
            self.start_servers()
            # the mixed workload last: after it the small database has changed, and database
            # size (a goal) is measured before it in case the time budget runs out
            self.run_workloads([w for w in workloads.ALL if w != "mixed"])
            self.run_scaling()
            self.run_workloads(["mixed"])
            self.server_notes()
        finally:
            servers.stop_all()
        self.run_extras()
        return self.results


def finish(results: dict[str, Any], out: Path, started: float) -> None:
    results["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results["seconds"] = round(time.monotonic() - started, 1)
    results["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    results["goals"] = report.goals(results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    md = report.markdown(results)
    (out / "latest.md").write_text(md)
    print()
    print(md)
    print(f"wrote {out / 'latest.json'} and {out / 'latest.md'}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="townhall-bench-"))
    runner = Runner(args, work)
    status = 0
    try:
        runner.run()
    except KeyboardInterrupt:
        runner.notes.append("interrupted: the results are partial")
        status = 130
    except Exception as exc:
        traceback.print_exc()
        runner.notes.append(f"the run failed: {type(exc).__name__}: {exc}")
        status = 1
    finally:
        servers.stop_all()
        if args.keep or status:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    runner.results["status"] = (
        "ok" if status == 0 else ("interrupted" if status == 130 else "failed")
    )
    finish(runner.results, args.out, started)
    return status


if __name__ == "__main__":
    sys.exit(main())
