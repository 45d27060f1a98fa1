"""The long runs of issue 8, with bounded defaults, printing the figures docs/security.md records.

    python security/run.py                      # everything, default sizes (about 20 minutes)
    python security/run.py --kill-loop          # only the kill loop (20 kills per database)
    python security/run.py --soak-minutes 30    # only the soak, 30 minutes
    python security/run.py --fuzz-examples 500  # only the fuzz, 500 examples per operation
    python security/run.py --flood-seconds 60   # only the flood, 60 s of flood (and of quiet)
    python security/run.py --xss                # only the XSS payloads (API and Chromium)

Options combine; --databases sqlite,postgres chooses the databases (PostgreSQL from
TOWNHALL_TEST_PG, skipped with a note when unreachable). Every server it starts listens on
loopback and is stopped by it; every database it creates is dropped. Exit status 1 when any
part found a problem; --json FILE keeps the figures."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from security.servers import database, postgres_reachable  # noqa: E402


def say(text: str) -> None:
    print(text, flush=True)


def kinds(requested: str) -> list[str]:
    chosen = [k.strip() for k in requested.split(",") if k.strip()]
    if "postgres" in chosen and (reason := postgres_reachable()):
        say(f"note: skipping PostgreSQL: {reason}")
        chosen.remove("postgres")
    return chosen


def run_kill_loop(args: argparse.Namespace, dbs: list[str], out: dict[str, Any]) -> bool:
    from security.killloop import run_kill_loop as run

    ok = True
    for kind in dbs:
        with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as target:
            report = run(target, kills=args.kills, writers=args.writers, log=say)
        say(report.line())
        for problem in report.problems[:20]:
            say(f"  PROBLEM {problem}")
        out[f"kill_loop_{kind}"] = {
            "kills": report.kills,
            "requests": report.requests,
            "acknowledged": report.acked,
            "cut_off": report.cut_off,
            "comments_verified": report.comments_checked,
            "problems": report.problems,
        }
        ok &= not report.problems
    return ok


def run_soak(args: argparse.Namespace, dbs: list[str], out: dict[str, Any]) -> bool:
    from security.soak import run_soak as run

    ok = True
    for kind in dbs:
        with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as target:
            report = run(target, seconds=args.soak_minutes * 60, log=say)
        for problem in report.problems:
            say(f"  PROBLEM {problem}")
        out[f"soak_{kind}"] = {
            "minutes": round(report.seconds / 60, 2),
            "requests": report.requests,
            "by_kind": report.by_kind,
            "errors": len(report.errors),
            "rss_mib_after_warmup": [round(report.start_mib, 1), round(report.end_mib, 1)],
            "warmup_seconds": round(report.warmup_seconds),
            "memos_full_seconds": report.memos_full_seconds,
            "trend_mib_per_min": round(report.slope_mib_per_min, 3),
            "cache_mib_after_warmup": {k: round(v, 2) for k, v in report.caches_start.items()},
            "cache_mib_at_end": {k: round(v, 2) for k, v in report.caches_end.items()},
            "rss_mib_every_10s": [round(m, 1) for _, m in report.rss_mib[::10]],
            "problems": report.problems,
        }
        ok &= not report.problems
    return ok


def run_fuzz(args: argparse.Namespace, dbs: list[str], out: dict[str, Any]) -> bool:
    from security.fuzz import run_fuzz as run

    ok = True
    for kind, moderation in [(k, m) for k in dbs for m in (False, True)]:
        with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as target:
            report = run(
                target, examples=args.fuzz_examples, seed=args.seed, moderation=moderation, log=say
            )
        for failure in report.failures[:10]:
            say(f"  PROBLEM {failure[:2000]}")
        out[f"fuzz_{kind}_{'moderation' if moderation else 'reader'}"] = {
            "operations": report.operations,
            "test_cases": report.test_cases,
            "seconds": round(report.seconds),
            "phases": report.phases,
            "failures": report.failures,
        }
        ok &= not report.failures
    return ok


def run_flood(args: argparse.Namespace, dbs: list[str], out: dict[str, Any]) -> bool:
    from security.flood import run_flood as run

    ok = True
    phase = 5.0
    rounds = max(1, round(args.flood_seconds / phase))
    for kind in dbs:
        with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as target:
            report = run(target, phase_seconds=phase, rounds=rounds, log=say)
        problems = [*report.problems]
        if report.ratio > 2.0:
            problems.append(f"reader p99 ratio {report.ratio:.2f} > 2")
        for problem in problems:
            say(f"  PROBLEM {problem}")
        out[f"flood_{kind}"] = {
            "flood_seconds": phase * rounds,
            "flooder_requests": report.flood_requests,
            "flooder_statuses": report.flood_statuses,
            "reader_requests": report.reader_requests,
            "reader_statuses": report.reader_statuses,
            "reader_p99_ms_quiet": round(report.quiet_p99_ms, 1),
            "reader_p99_ms_flood": round(report.flood_p99_ms, 1),
            "p99_ratio": round(report.ratio, 2),
            "problems": problems,
        }
        ok &= not problems
    return ok


def run_xss(args: argparse.Namespace, dbs: list[str], out: dict[str, Any]) -> bool:
    """The XSS payloads are a pytest suite (the browser fixtures live there): run it."""
    from tests.security.payloads import XSS_PAYLOADS

    files = ["tests/security/test_xss_api.py", "tests/security/test_xss_browser.py"]
    if (ROOT / "tests/security/test_xss_moderator.py").exists():
        files.append("tests/security/test_xss_moderator.py")
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 (our interpreter, fixed arguments)
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-s", *files],
        cwd=ROOT,
        check=False,
    )
    out["xss"] = {
        "payloads": len(XSS_PAYLOADS),
        "classes": len({p.klass for p in XSS_PAYLOADS}),
        "pytest_exit": done.returncode,
        "seconds": round(time.monotonic() - started),
    }
    say(f"xss: {len(XSS_PAYLOADS)} payloads, pytest exit {done.returncode}")
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kill-loop", action="store_true", help="run the kill loop")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs per database (20)")
    parser.add_argument("--writers", type=int, default=4, help="writing clients (4)")
    parser.add_argument("--soak-minutes", type=float, help="run the soak this long (default 5)")
    parser.add_argument("--fuzz-examples", type=int, help="run the fuzz (default 200 examples)")
    parser.add_argument("--flood-seconds", type=float, help="run the flood (default 60 s)")
    parser.add_argument("--xss", action="store_true", help="run the XSS payloads")
    parser.add_argument("--seed", type=int, default=1, help="fuzzing seed (1)")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    everything = not (
        args.kill_loop or args.soak_minutes or args.fuzz_examples or args.flood_seconds or args.xss
    )
    if everything:
        args.kill_loop = args.xss = True
        args.soak_minutes, args.fuzz_examples, args.flood_seconds = 5.0, 200, 60.0
    dbs = kinds(args.databases)
    out: dict[str, Any] = {"databases": dbs, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    ok = True
    started = time.monotonic()
    if args.xss:
        ok &= run_xss(args, dbs, out)
    if args.fuzz_examples:
        ok &= run_fuzz(args, dbs, out)
    if args.kill_loop:
        ok &= run_kill_loop(args, dbs, out)
    if args.flood_seconds:
        ok &= run_flood(args, dbs[:1], out)  # the first database only: a load test
    if args.soak_minutes:
        ok &= run_soak(args, dbs[:1], out)
    out["minutes"] = round((time.monotonic() - started) / 60, 1)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    say(f"\n{'all clean' if ok else 'PROBLEMS FOUND'} in {out['minutes']} minutes")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
