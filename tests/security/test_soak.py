"""Soak, CI size: a mixed load (lists, pages, counts, posts, replies, votes, edits, deletes,
flags, previews, live listeners) for 30 s against a real server, resident memory sampled
every second: zero errors. The memory trend needs minutes to mean anything; it is judged by
`python security/run.py --soak-minutes 5` (30 with a flag), whose figures are in
docs/security.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from security.servers import database
from security.soak import run_soak

pytestmark = pytest.mark.slow


def test_a_short_soak_has_no_errors(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as target:
        report = run_soak(target, seconds=30, clients=4, rps_per_client=8)
    assert report.errors == [], report.errors[:10]
    assert report.requests > 300
    assert len(report.rss_mib) >= 20
    assert not [p for p in report.problems if not p.startswith("memory:")], report.problems
