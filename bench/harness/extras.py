"""The rest of the picture: the widget's size, and the other issues' benchmarks.

Another benchmark takes part by being a script in ``bench/``. The harness reads its ``--help``
and runs it with ``--json PATH`` when it offers that (the JSON it writes there goes into the
report; a ``--json`` flag that prints the JSON instead works too) and, unless
``bench/run.py --extras-full``, in its short mode (``--quick`` when it offers that, else a
smaller size option from :data:`QUICK_ARGS`) to keep the whole run under 15 minutes. A script
without ``--json`` is run as it is and its last lines of output are kept. Each runs with a time
limit, after the servers above are stopped; one that is absent or fails is reported, never
fatal.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCRIPTS = {  # run in this order: the quickest first, so a long one cannot crowd them out
    "moderation": "bench_moderation.py",  # moderation pipeline per comment, posting rate
    "widget": "bench_widget.py",  # gzipped widget, time to a rendered 1,000-comment thread
    "toxicity": "bench_toxicity.py",  # model scoring time
    "import": "bench_import.py",  # importer throughput (data from gen_disqus.py)
}


def _sizes(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    return {"bytes": len(raw), "gzip_bytes": len(gzip.compress(raw, compresslevel=9))}


def widget_sizes(repo: Path, isso_python: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    static = repo / "townhall" / "static"
    for name in ("embed.js", "count.js"):
        if (static / name).exists():
            out[f"townhall/{name}"] = _sizes(static / name)
    if isso_python is not None:
        done = subprocess.run(
            [str(isso_python), "-c", "import isso, os; print(os.path.dirname(isso.__file__))"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        js = Path(done.stdout.strip()) / "js"
        for name in ("embed.min.js", "count.min.js"):
            if (js / name).exists():
                out[f"isso/{name}"] = _sizes(js / name)
    return out


# Shorter runs, for scripts that have no --quick but take a size option.
QUICK_ARGS = {
    "bench_widget.py": ["--runs", "3"],
    "bench_toxicity.py": ["--n", "1000"],
    "bench_import.py": ["--comments", "10000"],
}


def _json_in(text: str) -> Any:
    """The JSON object a script printed: all of its output, or its last lines from one that
    starts with "{"."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    lines = text.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].lstrip().startswith("{"):
            try:
                return json.loads("\n".join(lines[i:]))
            except json.JSONDecodeError:
                continue
    return None


def _help(path: Path) -> str:
    try:
        done = subprocess.run(
            [sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        return ""
    return done.stdout


def run_script(path: Path, quick: bool, timeout: float) -> dict[str, Any]:
    usage = _help(path)
    with tempfile.TemporaryDirectory(prefix="townhall-bench-extra-") as tmp:
        out = Path(tmp) / "result.json"
        argv = [sys.executable, str(path)]
        json_to_stdout = bool(re.search(r"\[--json\]", usage))  # a flag: JSON on stdout
        if json_to_stdout:
            argv.append("--json")
        elif "--json" in usage:  # --json PATH
            argv += ["--json", str(out)]
        if quick and "--quick" in usage:
            argv.append("--quick")
        elif quick:
            extra = QUICK_ARGS.get(path.name, [])
            if extra and extra[0] in usage:
                argv += extra
        started = time.perf_counter()
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=timeout, cwd=path.parent.parent
            )
        except subprocess.TimeoutExpired:
            return {
                "status": "timeout",
                "note": f"stopped after {timeout:.0f} s",
                "command": " ".join(argv[1:]),
            }
        seconds = round(time.perf_counter() - started, 1)
        tail = (done.stdout + done.stderr).strip().splitlines()[-12:]
        entry: dict[str, Any] = {"seconds": seconds, "command": " ".join(argv[1:])}
        if done.returncode != 0:
            return {**entry, "status": "failed", "returncode": done.returncode, "output_tail": tail}
        if out.exists():
            try:
                return {**entry, "status": "ok", "result": json.loads(out.read_text())}
            except json.JSONDecodeError:
                pass
        if json_to_stdout and (data := _json_in(done.stdout)) is not None:
            return {**entry, "status": "ok", "result": data}
        return {
            **entry,
            "status": "ok",
            "note": "no machine-readable output (no --json): its last lines are kept",
            "output_tail": tail,
        }


def other_benchmarks(bench: Path, quick: bool, time_left: Callable[[], float]) -> dict[str, Any]:
    """Each present script in turn, each allowed what is left of the run's time budget (at
    most five minutes); once less than 30 s is left, the rest are skipped."""
    out: dict[str, Any] = {}
    for key, name in SCRIPTS.items():
        path = bench / name
        if not path.exists():
            out[key] = {"status": "absent", "note": f"bench/{name} does not exist (yet)"}
            continue
        left = time_left()
        if left < 30:
            out[key] = {"status": "skipped", "note": "time budget spent"}
            continue
        out[key] = run_script(path, quick, min(300.0, left))
    return out
