"""Abuse under load, CI size: one client floods posts and reads from 127.0.0.2 against a real
server with the default request limits; readers on 127.0.0.3 keep reading. The flooder gets
429 with Retry-After, the readers get only 200s and their p99 under the flood stays within 2x
of their p99 without it; nothing breaks (security/flood.py, `python security/run.py --flood
SECONDS` for a longer run)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from security.flood import run_flood
from security.servers import database
from tests.conftest import ORIGIN, app_client, make_test_settings
from townhall.domain.services import Services
from townhall.domain.sites import create_site

pytestmark = pytest.mark.slow

PHASE_SECONDS = 5.0
ROUNDS = 2  # 2 x 5 s quiet and 2 x 5 s flood, interleaved: 20 s of load in all


def test_a_flood_is_limited_and_readers_keep_their_latency(tmp_path: Path) -> None:
    # 20 s give each side about 320 reader requests, so a p99 is the third-slowest of them and
    # one burst of other work on a shared 2-core box can double it (seen: 2.21 while a fuzz ran
    # beside). The limits must hold in every attempt; the latency in one of two, fresh each.
    lines = []
    for attempt in range(2):
        with database("sqlite", tmp_path / str(attempt)) as target:
            report = run_flood(target, phase_seconds=PHASE_SECONDS, rounds=ROUNDS)
        assert report.problems == [], report.problems
        assert report.flood_statuses.get(429, 0) > 0
        assert report.reader_statuses == {200: report.reader_requests}
        lines.append(report.line())
        if report.ratio <= 2.0:
            return
    raise AssertionError("reader p99 more than 2x under flood, twice:\n" + "\n".join(lines))


async def test_concurrent_posts_do_not_slip_past_the_per_reader_limit(
    tmp_path: Path, database_url: str
) -> None:
    """The moderation pipeline counts an author's recent comments before the write; the
    domain counts again inside it, with the author's writes serialised (SQLite's writer lock,
    a PostgreSQL advisory lock), so 20 posts sent at once cannot all pass a limit of 5."""
    settings = make_test_settings(tmp_path, database_url)
    services = Services.from_settings(settings)
    services.db.migrate()
    create_site(services.db, key="news", name="News", origins=[ORIGIN])  # rate_burst: 5/min
    async with app_client(settings, services) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/comments",
                    json={
                        "site": "news",
                        "thread": "/race",
                        "text": f"Comment number {i} on the bypass, written {i * 7} ways.",
                        "thread_url": ORIGIN + "/race",
                    },
                )
                for i in range(20)
            )
        )
    services.db.dispose()
    published = [r for r in answers if r.status_code == 201]
    limited = [r for r in answers if r.status_code == 429]
    assert len(published) == 5, f"{len(published)} published, {len(limited)} limited"
    assert len(limited) == 15 and all(r.headers["retry-after"].isdigit() for r in limited)
