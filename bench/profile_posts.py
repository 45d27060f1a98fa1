"""CPU per post, in process: through the whole ASGI app (JSON body, middleware, routing, the
write) and, for comparison, the domain call alone; free of the network and of the load
generator, so what a change to the posting path saves shows even on a shared machine. Not part
of `bench/run.py` (its name does not start with ``bench_``).

    python bench/profile_posts.py --data-dir DIR [--site bench] [-n 2000] [--profile PATH]

DIR is a townhall data folder with the benchmark's site and threads; it is copied to a
temporary folder first, so it is not changed (`bench/run.py --keep` leaves one as
``townhall-small`` in its work folder). Posts are the benchmark's: distinct texts from new
readers into the ``write`` threads, 40 % replies. Prints CPU microseconds per post for the
ASGI path and for ``submit_comment`` alone (the difference is the web layer), then, per
moderation check, CPU microseconds per call. ``--profile PATH`` writes a cProfile of the
domain calls (the ASGI path runs the write on the writer thread, which cProfile does not see).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.dataset import post_texts
from profile_reads import Call, headers_for

from townhall.app import create_app
from townhall.domain import comments as comment_domain
from townhall.domain.errors import NudgeRequired
from townhall.domain.identity import Reader
from townhall.moderation import pipeline
from townhall.settings import load_settings


def _origin(app: Any, site: str) -> str:
    """The site's first allowed origin (a post from another is refused, 403)."""
    origins = app.state.townhall.services.sites.get(site).origins
    return origins[0] if origins else "https://news.example"


def _threads(app: Any) -> list[tuple[str, list[int]]]:
    """The write threads' keys and their comments' ids (for replies)."""
    services = app.state.townhall.services
    with services.db.read() as conn:
        rows = list(
            conn.exec_driver_sql(
                "SELECT t.key, c.id FROM threads t JOIN comments c ON c.thread_id = t.id"
                " WHERE t.key LIKE '%write%'"
            )
        )
    by_key: dict[str, list[int]] = defaultdict(list)
    for key, comment_id in rows:
        by_key[key].append(comment_id)
    if not by_key:
        sys.exit("no thread whose key contains 'write': is DIR a bench/run.py data folder?")
    return sorted(by_key.items())


def _plan(seed: str, n: int, threads: list[tuple[str, list[int]]]) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i, text in enumerate(post_texts(seed, n)):
        key, ids = threads[rng.randrange(len(threads))]
        post: dict[str, Any] = {"thread": key, "text": text, "reader": 200_000 + i}
        if rng.random() < 0.4:
            post["parent_id"] = str(rng.choice(ids))
        out.append(post)
    return out


class CheckTimer:
    """CPU time spent in each registered check (wraps the registry's callables)."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        pipeline.load_plugins()
        for name, check in list(pipeline.registry.checks.items()):
            pipeline.registry.checks[name] = self._wrap(name, check)

    def _wrap(self, name: str, check: pipeline.Check) -> pipeline.Check:
        def timed(sub: pipeline.Submission, ctx: pipeline.CheckContext) -> Any:
            start = time.thread_time()
            try:
                return check(sub, ctx)
            finally:
                self.cpu[name] += time.thread_time() - start
                self.calls[name] += 1

        return timed

    def report(self) -> None:
        total = 0.0
        for name, cpu in sorted(self.cpu.items(), key=lambda kv: -kv[1]):
            per = cpu / self.calls[name] * 1e6
            total += per
            print(f"  check {name:<20} {per:8.1f} µs CPU per call")
        print(f"  {'all checks':<26} {total:8.1f} µs")


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", required=True, type=Path)
    p.add_argument("--site", default="bench")
    p.add_argument("-n", type=int, default=2000)
    p.add_argument("--profile", default="")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="townhall-posts-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(args.data_dir, data)
        settings = load_settings(
            overrides={
                "data_dir": str(data),
                "trust_forwarded_for": True,
                "rate_limit_reads": 10**7,
                "rate_limit_writes": 10**7,
                "log_level": "warning",
            }
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await run(app, args)


async def run(app: Any, args: argparse.Namespace) -> None:
    threads = _threads(app)
    origin = _origin(app, args.site)
    timer = CheckTimer()

    def request(post: dict[str, Any]) -> Call:
        body = {
            "site": args.site,
            "thread": post["thread"],
            "text": post["text"],
            "author": {"name": f"Reader {post['reader']}", "email": f"r{post['reader']}@m.example"},
        }
        if "parent_id" in post:
            body["parent_id"] = post["parent_id"]
        raw = json.dumps(body).encode()
        headers = headers_for(
            post["reader"],
            {
                "content-type": "application/json",
                "content-length": str(len(raw)),
                "origin": origin,
            },
        )
        return Call(app, "POST", "/api/v1/comments", headers, raw)

    warm = [request(p) for p in _plan("warm", 200, threads)]
    calls = [request(p) for p in _plan("asgi", args.n, threads)]
    statuses: dict[int, int] = defaultdict(int)
    for c in warm:
        await c()
    start = time.process_time()
    for c in calls:
        await c()
        statuses[c.status] += 1
    asgi = (time.process_time() - start) / len(calls) * 1e6
    print(f"ASGI POST /api/v1/comments   {asgi:8.1f} µs CPU per post  statuses {dict(statuses)}")
    timer.report()

    services = app.state.townhall.services
    hasher = services.hasher
    news = []
    for post in _plan("domain", args.n, threads):
        new = comment_domain.NewComment(
            site=args.site,
            thread=post["thread"],
            text=post["text"],
            parent_id=post.get("parent_id"),
            author_name=f"Reader {post['reader']}",
            author_email=f"r{post['reader']}@m.example",
            author_website=None,
            thread_title=None,
            thread_url=None,
            confirm=False,
            notify_replies=False,
        )
        reader = Reader(reader_id=None, ip_hash=hasher.ip(f"2001:db8::{post['reader']:x}"))
        news.append((new, reader))
    prof = cProfile.Profile() if args.profile else None
    start = time.process_time()
    if prof:
        prof.enable()
    for new, reader in news:
        with contextlib.suppress(NudgeRequired):  # a nudge (409) is an answer, not a failure
            comment_domain.submit_comment(services, new, reader)
    if prof:
        prof.disable()
        prof.dump_stats(args.profile)
    domain = (time.process_time() - start) / len(news) * 1e6
    print(f"submit_comment alone         {domain:8.1f} µs CPU per post")
    print(f"web layer (difference)       {asgi - domain:8.1f} µs")


if __name__ == "__main__":
    asyncio.run(main())
