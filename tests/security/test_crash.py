"""Crash safety, CI size: SIGKILL the server three times while four clients write as fast as
they can, on both databases (`python security/run.py --kill-loop` does it 20 times).
Every acknowledged write is there and intact, nothing half-written, counters agree with rows,
and SQLite's integrity_check / PostgreSQL's amcheck find nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from security.integrity import consistency_problems
from security.killloop import ledger_problems, run_kill_loop
from security.servers import Target, database, postgres_reachable

pytestmark = pytest.mark.slow

KILLS = 3


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_acknowledged_writes_survive_sigkill(kind: str, tmp_path: Path) -> None:
    if kind == "postgres" and (reason := postgres_reachable()):
        pytest.skip(reason)
    with database(kind, tmp_path) as target:
        report = run_kill_loop(target, kills=KILLS, writers=4, seed=3)
        print("\n" + report.line())
        assert report.problems == [], "\n".join(report.problems[:50])
        assert report.kills == KILLS
        assert report.acked.get("post", 0) >= 10, report.acked  # it really was writing
        assert sum(report.cut_off.values()) >= 1  # and the kills really cut writes off
        the_checks_would_notice_damage(target, report)


def the_checks_would_notice_damage(target: Target, report: Any) -> None:
    """The control: break the database the way a torn write would, and the checks say so."""
    engine = create_engine(target.url)
    with engine.begin() as conn:
        victim = conn.execute(
            text("SELECT id FROM comments WHERE status = 'published' ORDER BY id LIMIT 1")
        ).scalar_one()
        conn.execute(text("UPDATE threads SET comment_count = comment_count + 1"))
        conn.execute(text("UPDATE comments SET html = '' WHERE id = :id"), {"id": victim})
    engine.dispose()
    assert any("comment_count" in p for p in consistency_problems(target))
    assert any("text, HTML" in p for p in consistency_problems(target))
    _, found = ledger_problems(target, report.ledger)
    assert any(f"comment {victim}: html" in p for p in found), found
