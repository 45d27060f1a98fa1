"""Keeps the benchmark harness from rotting: ``bench/run.py --quick`` must run end to end and
write its report. Only completion and the shape of the JSON are checked, never timings (the
figures depend on the machine and on whatever else it is doing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_benchmark_completes_and_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((out / "latest.json").read_text())
    markdown = (out / "latest.md").read_text()

    assert results["status"] == "ok"
    assert results["mode"] == "quick"
    assert {"machine", "versions", "settings", "datasets", "systems", "notes"} <= results.keys()
    assert results["datasets"]["small"]["big_thread"]["comments"] == 1000
    assert results["datasets"]["small"]["big_thread"]["top_level"] == 400

    workloads = {w["id"]: w for w in results["workloads"]}
    assert {"page_big", "whole_big", "page_50", "counts", "post", "mixed"} <= workloads.keys()
    assert workloads["whole_big"]["checks"]["townhall_comments"] == 1000
    for w in workloads.values():
        assert w["title"] and w["unit"] and w["definitions"]
        for row in w["results"]:
            if "skipped" in row:
                continue
            assert isinstance(row["concurrency"], int)
            assert set(row["ratios"]) == {"vs_isso", "vs_ceiling", "cpu_vs_isso", "cpu_vs_ceiling"}
            townhall = row["systems"]["townhall"]
            for key in ("ops_per_s", "p50_ms", "p99_ms", "cpu_ms_per_op", "peak_rss_mb", "runs"):
                assert key in townhall, (w["id"], key)
            assert townhall["ops"] > 0, w["id"]
    measured = [row for w in workloads.values() for row in w["results"] if "systems" in row]
    assert measured, "no cell was measured"

    goals = results["goals"]
    assert len(goals) == 7
    assert all({"goal", "target", "measured", "met", "detail"} <= g.keys() for g in goals)
    assert "extras" in results and "widget_sizes" in results["extras"]

    for heading in ("## Goals", "## Results", "## Database size"):
        assert heading in markdown
    assert "| workload | c | system |" in markdown
