"""CPU per cached read, in process, through the whole ASGI app (every middleware, routing,
the handler) without the network: what a change to the read path saves, free of the noise
of a shared machine. Not part of `bench/run.py` (its name does not start with ``bench_``).

    python bench/profile_reads.py --data-dir DIR [--site bench] [--thread KEY] [-n 5000]

DIR is a townhall data folder with a site and a big thread (`bench/run.py --keep` leaves one
as ``townhall-small`` in its work folder). Prints CPU microseconds per request for a first
page, the four pages of the whole thread, a 304 and a counts request; ``--profile`` writes a
cProfile of the page read to ``--profile PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from townhall.app import create_app
from townhall.settings import load_settings

ORIGIN = "https://news.example"


def scope_of(method: str, target: str, headers: dict[str, str]) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }


class Call:
    def __init__(self, app: Any, method: str, target: str, headers: dict[str, str], body: bytes):
        self.app = app
        self.method, self.target, self.headers, self.body = method, target, headers, body
        self.status = 0
        self.out: list[bytes] = []
        self.response_headers: list[tuple[bytes, bytes]] = []

    async def __call__(self) -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                self.out.append(message.get("body", b""))

        self.out = []
        await self.app(scope_of(self.method, self.target, self.headers), receive, send)


def headers_for(i: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "host": "127.0.0.1:8080",
        "accept-encoding": "gzip",
        "origin": ORIGIN,
        "x-forwarded-for": f"2001:db8::{i:x}",
        **(extra or {}),
    }


async def measure(name: str, calls: list[Call], n: int) -> float:
    for c in calls:  # warm the caches
        await c()
        assert c.status in (200, 304), (name, c.status, b"".join(c.out)[:300])
    start = time.process_time()
    for i in range(n):
        await calls[i % len(calls)]()
    per = (time.process_time() - start) / n * 1e6
    print(f"{name:<28} {per:8.1f} µs CPU per request  (status {calls[0].status})")
    return per


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", required=True)
    p.add_argument("--site", default="bench")
    p.add_argument("--thread", default="")
    p.add_argument("-n", type=int, default=5000)
    p.add_argument("--profile", default="")
    args = p.parse_args()
    settings = load_settings(
        overrides={
            "data_dir": args.data_dir,
            "trust_forwarded_for": True,
            "rate_limit_reads": 10**7,
            "rate_limit_writes": 10**7,
            "log_level": "warning",
        }
    )
    app = create_app(settings)
    services = app.state.townhall.services
    with services.db.read() as conn:
        rows = list(
            conn.exec_driver_sql(
                "SELECT key, comment_count FROM threads ORDER BY comment_count DESC"
            )
        )
    big = args.thread or rows[0][0]
    small = [r[0] for r in rows[1:101]]
    q = {"site": args.site, "thread": big, "sort": "oldest"}
    first = [
        Call(app, "GET", "/api/v1/comments?" + urlencode(q), headers_for(i), b"") for i in range(64)
    ]
    chain = []
    cursor = None
    while True:
        extra = {"limit": "100"} | ({"cursor": cursor} if cursor else {})
        c = Call(app, "GET", "/api/v1/comments?" + urlencode(q | extra), headers_for(0), b"")
        await c()
        chain.append(c)
        cursor = json.loads(__import__("gzip").decompress(b"".join(c.out)))["next_cursor"]
        if cursor is None:
            break
    whole = [Call(app, "GET", c.target, headers_for(i), b"") for i in range(16) for c in chain]
    etag = dict(first[0].response_headers).get(b"etag", b"").decode()
    await first[0]()
    etag = dict(first[0].response_headers).get(b"etag", b"").decode()
    not_modified = [
        Call(app, "GET", first[0].target, headers_for(i, {"if-none-match": etag}), b"")
        for i in range(64)
    ]
    body = json.dumps({"site": args.site, "threads": small}).encode()
    counts = [
        Call(
            app,
            "POST",
            "/api/v1/counts",
            headers_for(i, {"content-type": "application/json", "content-length": str(len(body))}),
            body,
        )
        for i in range(64)
    ]
    empty_q = {"site": args.site, "thread": "/no-comments-yet", "sort": "oldest"}
    empty = [
        Call(app, "GET", "/api/v1/comments?" + urlencode(empty_q), headers_for(i), b"")
        for i in range(64)
    ]
    await measure("page (first, 20 top-level)", first, args.n)
    await measure("empty thread", empty, args.n)
    await measure("whole thread page (of 4)", whole, args.n)
    await measure("304 not modified", not_modified, args.n)
    await measure("counts of 100 threads", counts, args.n)
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for i in range(args.n):
            await whole[i % len(whole)]()
        prof.disable()
        prof.dump_stats(args.profile)


if __name__ == "__main__":
    asyncio.run(main())
