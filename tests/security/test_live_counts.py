"""Live counts under concurrent posts: every listener of a thread gets the events' counts in the
order the changes happened, so the count a reader's widget shows (the last event's) is the
thread's. The payloads used to be built in parallel and an older count could overtake a newer
one: the widget test then saw 381 of 382 comments (web/live.py now builds them in order)."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

import httpx
import pytest

from security.servers import ORIGIN, Server, database, postgres_reachable, prepare
from tests.security.conftest import OPEN_POLICY

pytestmark = pytest.mark.slow

WRITERS = 8
POSTS = 25  # each


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_live_counts_arrive_in_order(kind: str, tmp_path: Path) -> None:
    if kind == "postgres" and (reason := postgres_reachable()):
        pytest.skip(reason)
    thread = {"site": "news", "thread": "/live/counts"}
    with database(kind, tmp_path) as target:
        prepare(target, {"news": OPEN_POLICY})
        limits = {"rate_limit_reads": "0", "rate_limit_writes": "0"}
        with Server(target, settings=limits) as server:
            with httpx.Client(base_url=server.url, timeout=30) as c:
                first = {**thread, "text": "First.", "thread_url": ORIGIN + "/live/counts"}
                assert c.post("/api/v1/comments", json=first).status_code == 201
            counts: list[int] = []
            listening, done = threading.Event(), threading.Event()

            def listen() -> None:
                with (
                    httpx.Client(base_url=server.url, timeout=60) as c,
                    c.stream("GET", "/api/v1/events", params=thread) as stream,
                ):
                    for line in stream.iter_lines():
                        listening.set()
                        if line.startswith("data: "):
                            counts.append(json.loads(line[6:])["count"])
                        if done.is_set() or len(counts) == WRITERS * POSTS:
                            return

            def write(n: int) -> None:
                with httpx.Client(base_url=server.url, timeout=30) as c:
                    for i in range(POSTS):
                        body = {**thread, "text": f"Writer {n}, comment {i}."}
                        assert c.post("/api/v1/comments", json=body).status_code == 201

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            assert listening.wait(20)
            writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
            for w in writers:
                w.start()
            for w in writers:
                w.join()
            listener.join(timeout=30)
            done.set()
    total = 1 + WRITERS * POSTS
    assert len(counts) == WRITERS * POSTS, len(counts)
    went_back = [(a, b) for a, b in itertools.pairwise(counts) if b < a]
    assert went_back == [], f"{len(went_back)} counts arrived after a newer one: {went_back[:5]}"
    assert counts[-1] == total
