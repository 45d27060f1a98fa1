"""What each system is asked, request for request.

Every read carries what a browser's ``fetch`` from the article page sends that matters here:
``Accept-Encoding: gzip``, the page's ``Origin`` and, because each system sits behind a
reverse proxy as deployed, an ``X-Forwarded-For`` naming the reader (a pool of 2,048 simulated
readers; documentation addresses, 2001:db8::/32, only ever a header value). Each post comes
from a new reader with a text of its own, so rate limits, duplicate and flood checks all run
on realistic input rather than one address posting thousands of times.

The ceiling is nginx answering each townhall request with the bytes townhall answered it with
(captured just before the run), from a file, on the same kind of keep-alive connection.
"""

from __future__ import annotations

import gzip
import http.client
import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from harness.dataset import Dataset, Thread, post_texts
from harness.load import Plan, http_request
from harness.seed import SITE_KEY

READERS = 2048
TOWNHALL_PAGE_LIMIT = 100  # the API's largest page (top-level comments)
ISSO_NESTED_LIMIT = 5  # isso/js/app/default_config.js: "max-comments-nested": 5
POST_CAP_PER_S = 4000  # distinct posts prepared per second of a run (far above any rate seen)
MIXED_WRITE_SHARE = 0.1
PROBE = "A first comment to check that posting works before the clock starts: "


def reader_address(i: int) -> str:
    return f"2001:db8::{i % 2**32:x}"


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def raw(self, host: str) -> bytes:
        return http_request(self.method, self.path, host=host, headers=self.headers, body=self.body)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes  # as sent (maybe gzipped)

    @property
    def data(self) -> Any:
        raw = self.body
        if self.headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        return json.loads(raw)


def fetch(port: int, req: Req, timeout: float = 120.0) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(req.method, req.path, body=req.body, headers=req.headers)
        r = conn.getresponse()
        body = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, body)
    finally:
        conn.close()


# -- the requests each system's widget makes ---------------------------------------------------


class Townhall:
    name = "townhall"

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def read_headers(self, reader: int) -> dict[str, str]:
        return {
            "Accept-Encoding": "gzip",
            "Origin": self.origin,
            "X-Forwarded-For": reader_address(reader),
        }

    def page(self, thread: Thread, reader: int, **extra: str) -> Req:
        # embed.js: '/comments?' + URLSearchParams({site, thread, sort, ...extra})
        query = urlencode({"site": SITE_KEY, "thread": thread.key, "sort": "oldest", **extra})
        return Req("GET", "/api/v1/comments?" + query, self.read_headers(reader))

    def counts(self, threads: list[Thread], reader: int) -> Req:
        # count.js: one POST with up to 100 thread keys
        body = json.dumps({"site": SITE_KEY, "threads": [t.key for t in threads]}).encode()
        headers = {**self.read_headers(reader), "Content-Type": "application/json"}
        return Req("POST", "/api/v1/counts", headers, body)

    def post(self, thread: Thread, text: str, author: str, parent: int | None, reader: int) -> Req:
        data: dict[str, Any] = {"site": SITE_KEY, "thread": thread.key, "text": text}
        data["author"] = {"name": author, "email": f"r{reader}@mail.example"}
        if parent is not None:
            data["parent_id"] = str(parent)
        headers = {**self.read_headers(reader), "Content-Type": "application/json"}
        return Req("POST", "/api/v1/comments", headers, json.dumps(data).encode())


class Isso:
    name = "isso"

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def read_headers(self, reader: int) -> dict[str, str]:
        return {
            "Accept-Encoding": "gzip",
            "Origin": self.origin,
            "Referer": self.origin + "/",
            "X-Forwarded-For": reader_address(reader),
        }

    def fetch(self, thread: Thread, reader: int, nested_limit: int | None) -> Req:
        # isso/js/app/api.js fetch(): qs({uri, sort, parent, offset}) then limit (unset:
        # max-comments-top is "inf") and nested_limit; null values are left out
        params = [("uri", thread.key), ("sort", "oldest"), ("offset", "0")]
        if nested_limit is not None:
            params.append(("nested_limit", str(nested_limit)))
        return Req("GET", "/?" + urlencode(params, quote_via=quote), self.read_headers(reader))

    def counts(self, threads: list[Thread], reader: int) -> Req:
        # isso/js/count.js: POST /count with the list of thread URIs
        body = json.dumps([t.key for t in threads]).encode()
        headers = {**self.read_headers(reader), "Content-Type": "application/json"}
        return Req("POST", "/count", headers, body)

    def post(self, thread: Thread, text: str, author: str, parent: int | None, reader: int) -> Req:
        # isso/js/app/api.js create(): POST /new?uri=... with the form's fields
        data = {
            "text": text,
            "author": author,
            "email": f"r{reader}@mail.example",
            "website": None,
            "parent": parent,
            "title": thread.title,
            "notification": 0,
        }
        headers = {**self.read_headers(reader), "Content-Type": "application/json"}
        query = urlencode({"uri": thread.key}, quote_via=quote)
        return Req("POST", "/new?" + query, headers, json.dumps(data).encode())


# -- workloads ---------------------------------------------------------------------------------

PlanFactory = Callable[[int], Plan]  # run index (0: warm-up) -> what that run sends


@dataclass
class Workload:
    id: str
    title: str
    unit: str  # what one operation is
    concurrency: list[int]
    definitions: dict[str, str]  # system -> what one operation sends
    plans: dict[str, PlanFactory]  # system -> plan factory ("ceiling" included when it has one)
    writes: bool = False
    checks: dict[str, Any] = field(default_factory=dict)  # what validation found
    op_seconds: dict[str, float] = field(default_factory=dict)  # one op's time, as validated

    def fetch(self, system: str, port: int, req: Req) -> Response:
        """One request before measuring: checks the answer and times it."""
        started = time.perf_counter()
        resp = fetch(port, req)
        took = time.perf_counter() - started
        self.op_seconds[system] = self.op_seconds.get(system, 0.0) + took
        if resp.status >= 300:
            raise RuntimeError(
                f"{system} answered {resp.status} to {req.method} {req.path}: {resp.body[:300]!r}"
            )
        return resp


@dataclass
class Context:
    dataset: Dataset
    origin: str
    ports: dict[str, int]  # townhall, isso, ceiling (those running)
    ceiling_root: Path | None
    seconds: int
    concurrency: list[int]
    post_concurrency: list[int]
    runs: int  # warm-up + repetitions: how many distinct post sets a write workload needs
    light: bool = (
        False  # quick mode: Isso is left out of the 1,000-comment thread (seconds a request)
    )

    def host(self, system: str) -> str:
        return f"127.0.0.1:{self.ports[system]}"


def _static(ctx: Context, system: str, reqs: list[list[Req]]) -> PlanFactory:
    """A plan that sends the same batches in every run: reqs[i] is one batch."""
    host = ctx.host(system)
    plan = Plan(
        batches=[b"".join(r.raw(host) for r in batch) for batch in reqs],
        per_batch=len(reqs[0]),
    )
    return lambda _run: plan


def _ceiling_file(root: Path, name: str, resp: Response) -> str:
    kind = "gzip" if resp.headers.get("content-encoding") == "gzip" else "plain"
    path = root / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(resp.body)
    return f"/{kind}/{name}"


def _mirror(ctx: Context, name: str, reqs: list[Req]) -> list[str]:
    """Ask townhall each request once and keep its answer for nginx; returns nginx paths."""
    assert ctx.ceiling_root is not None
    paths = []
    for i, req in enumerate(reqs):
        resp = fetch(ctx.ports["townhall"], req)
        if resp.status >= 300:
            raise RuntimeError(
                f"townhall answered {resp.status} to {req.path}: {resp.body[:300]!r}"
            )
        paths.append(_ceiling_file(ctx.ceiling_root, f"{name}-{i}.json", resp))
    return paths


def _ceiling_plan(
    ctx: Context, paths_per_batch: list[list[str]], method: str = "GET"
) -> PlanFactory:
    th = Townhall(ctx.origin)
    batches = []
    for j, paths in enumerate(paths_per_batch):
        headers = th.read_headers(j)
        batches.append([Req(method, p, headers) for p in paths])
    return _static(ctx, "ceiling", batches)


def page_big(ctx: Context) -> Workload:
    big = ctx.dataset.group("big")[0]
    th, isso = Townhall(ctx.origin), Isso(ctx.origin)
    w = Workload(
        id="page_big",
        title="Page view, 1,000-comment thread",
        unit="page view",
        concurrency=ctx.concurrency,
        definitions={
            "townhall": "GET /api/v1/comments?site&thread&sort=oldest (embed.js's first page: "
            "20 top-level comments with their replies)",
            "isso": f"GET /?uri&sort=oldest&offset=0&nested_limit={ISSO_NESTED_LIMIT} (embed.js: "
            f"every top-level comment, {ISSO_NESTED_LIMIT} replies each)",
            "ceiling": "nginx: townhall's response bytes from a file",
        },
        plans={},
    )
    if "townhall" in ctx.ports:
        w.plans["townhall"] = _static(ctx, "townhall", [[th.page(big, j)] for j in range(READERS)])
        first = th.page(big, 0)
        data = w.fetch("townhall", ctx.ports["townhall"], first).data
        w.checks["townhall_comments"] = len(data["comments"])
        if "ceiling" in ctx.ports:
            path = _mirror(ctx, "page_big", [first])
            w.plans["ceiling"] = _ceiling_plan(ctx, [path] * READERS)
    if "isso" in ctx.ports and not ctx.light:
        w.plans["isso"] = _static(
            ctx, "isso", [[isso.fetch(big, j, ISSO_NESTED_LIMIT)] for j in range(READERS)]
        )
        data = w.fetch("isso", ctx.ports["isso"], isso.fetch(big, 0, ISSO_NESTED_LIMIT)).data
        w.checks["isso_comments"] = len(data["replies"]) + sum(
            len(c.get("replies", [])) for c in data["replies"]
        )
    return w


def whole_big(ctx: Context) -> Workload:
    big = ctx.dataset.group("big")[0]
    th, isso = Townhall(ctx.origin), Isso(ctx.origin)
    w = Workload(
        id="whole_big",
        title="Whole 1,000-comment thread",
        unit="whole thread",
        concurrency=ctx.concurrency,
        definitions={
            "townhall": f"4 × GET /api/v1/comments?…&limit={TOWNHALL_PAGE_LIMIT}[&cursor] "
            "(the API's largest page is 100 top-level comments; the thread has 400), "
            "pipelined on one keep-alive connection; latency = first request to last response",
            "isso": "GET /?uri&sort=oldest&offset=0 (no limits: every comment, one request)",
            "ceiling": "nginx: townhall's 4 response bodies from files, pipelined the same way",
        },
        plans={},
    )
    if "townhall" in ctx.ports:
        chain: list[Req] = []
        cursor: str | None = None
        delivered = 0
        while True:
            extra = {"limit": str(TOWNHALL_PAGE_LIMIT)} | ({"cursor": cursor} if cursor else {})
            req = th.page(big, 0, **extra)
            data = w.fetch("townhall", ctx.ports["townhall"], req).data
            chain.append(req)
            delivered += len(data["comments"])
            if any(c.get("more_replies_cursor") for c in data["comments"]):
                raise RuntimeError("a subtree of the big thread is capped: regenerate the data")
            cursor = data["next_cursor"]
            if cursor is None:
                break
        w.checks["townhall_requests"] = len(chain)
        w.checks["townhall_comments"] = delivered
        batches = [
            [Req(r.method, r.path, th.read_headers(j)) for r in chain] for j in range(READERS)
        ]
        w.plans["townhall"] = _static(ctx, "townhall", batches)
        if "ceiling" in ctx.ports:
            paths = _mirror(ctx, "whole_big", chain)
            w.plans["ceiling"] = _ceiling_plan(ctx, [paths] * READERS)
    if "isso" in ctx.ports and not ctx.light:
        w.plans["isso"] = _static(ctx, "isso", [[isso.fetch(big, j, None)] for j in range(READERS)])
        data = w.fetch("isso", ctx.ports["isso"], isso.fetch(big, 0, None)).data
        w.checks["isso_comments"] = len(data["replies"]) + sum(
            len(c.get("replies", [])) for c in data["replies"]
        )
    return w


def page_small(ctx: Context) -> Workload:
    threads = ctx.dataset.group("read")
    th, isso = Townhall(ctx.origin), Isso(ctx.origin)
    w = Workload(
        id="page_50",
        title="Page view, 50-comment threads (100 threads in turn)",
        unit="page view",
        concurrency=ctx.concurrency,
        definitions={
            "townhall": "GET /api/v1/comments?site&thread&sort=oldest",
            "isso": f"GET /?uri&sort=oldest&offset=0&nested_limit={ISSO_NESTED_LIMIT}",
            "ceiling": "nginx: townhall's 100 response bodies from files",
        },
        plans={},
    )
    n = len(threads)
    if "townhall" in ctx.ports:
        w.plans["townhall"] = _static(
            ctx, "townhall", [[th.page(threads[j % n], j)] for j in range(READERS)]
        )
        data = w.fetch("townhall", ctx.ports["townhall"], th.page(threads[0], 0)).data
        w.checks["townhall_comments"] = len(data["comments"])
        if "ceiling" in ctx.ports:
            paths = _mirror(ctx, "page_50", [th.page(t, 0) for t in threads])
            w.plans["ceiling"] = _ceiling_plan(ctx, [[paths[j % n]] for j in range(READERS)])
    if "isso" in ctx.ports:
        w.plans["isso"] = _static(
            ctx,
            "isso",
            [[isso.fetch(threads[j % n], j, ISSO_NESTED_LIMIT)] for j in range(READERS)],
        )
        data = w.fetch("isso", ctx.ports["isso"], isso.fetch(threads[0], 0, ISSO_NESTED_LIMIT)).data
        w.checks["isso_comments"] = len(data["replies"]) + sum(
            len(c.get("replies", [])) for c in data["replies"]
        )
    return w


def counts(ctx: Context) -> Workload:
    threads = ctx.dataset.group("read")
    th, isso = Townhall(ctx.origin), Isso(ctx.origin)
    w = Workload(
        id="counts",
        title="Comment counts of 100 threads",
        unit="counts request",
        concurrency=ctx.concurrency,
        definitions={
            "townhall": "POST /api/v1/counts {site, threads: [100 keys]} (count.js)",
            "isso": "POST /count [100 URIs] (Isso's count.js)",
            "ceiling": "nginx: townhall's response bytes from a file (POST answered from the file)",
        },
        plans={},
    )
    if "townhall" in ctx.ports:
        w.plans["townhall"] = _static(
            ctx, "townhall", [[th.counts(threads, j)] for j in range(READERS)]
        )
        data = w.fetch("townhall", ctx.ports["townhall"], th.counts(threads, 0)).data
        w.checks["townhall_total"] = sum(data["counts"].values())
        if "ceiling" in ctx.ports:
            paths = _mirror(ctx, "counts", [th.counts(threads, 0)])
            w.plans["ceiling"] = _ceiling_plan(ctx, [paths] * READERS, method="POST")
    if "isso" in ctx.ports:
        w.plans["isso"] = _static(ctx, "isso", [[isso.counts(threads, j)] for j in range(READERS)])
        data = w.fetch("isso", ctx.ports["isso"], isso.counts(threads, 0)).data
        w.checks["isso_total"] = sum(data)
    return w


def _post_plans(
    ctx: Context,
    system: Townhall | Isso,
    threads: list[Thread],
    seed: str,
    per_run: int,
    read_share: float = 0.0,
) -> PlanFactory:
    """Distinct posts for every run (a warm-up and each repetition get their own texts and
    readers), replies to seeded comments in 40 % of cases; with ``read_share``, page views of
    the same threads in between."""
    host = ctx.host(system.name)
    replies_to = {t.id: [c.id for c in ctx.dataset.by_thread(t.id)] for t in threads}

    calls = itertools.count()

    def plan(_run: int) -> Plan:
        # every call gets posts of its own, whichever cell (concurrency) asks: the same text
        # from the same reader twice would be a duplicate to the moderation checks
        run = next(calls)
        rng = random.Random(f"{seed}-{run}")
        texts = post_texts(f"{seed}-{system.name}-{run}", per_run)
        batches = []
        for i, text in enumerate(texts):
            reader = 100_000 + run * per_run + i  # a new reader (and address) for each post
            thread = threads[rng.randrange(len(threads))]
            if read_share and rng.random() < read_share:
                if isinstance(system, Townhall):
                    req = system.page(thread, reader % READERS)
                else:
                    req = system.fetch(thread, reader % READERS, ISSO_NESTED_LIMIT)
            else:
                parent = rng.choice(replies_to[thread.id]) if rng.random() < 0.4 else None
                author = f"Bench Reader {reader}"
                req = system.post(thread, text, author, parent, reader)
            batches.append(req.raw(host))
        return Plan(batches=batches, per_batch=1, count_statuses=True)

    return plan


def posting(ctx: Context, seed: str = "post") -> Workload:
    threads = ctx.dataset.group("write")
    w = Workload(
        id="post",
        title="Posting comments (100 threads, 40 % replies, every check on)",
        unit="comment posted",
        concurrency=ctx.post_concurrency,
        definitions={
            "townhall": "POST /api/v1/comments: full moderation pipeline (rate limits relaxed "
            "to 1,000,000 but counted, words, links, duplicates, floods, first-time, toxicity)",
            "isso": "POST /new?uri (guard off, moderation off)",
            "ceiling": "nginx: townhall's 201 response bytes from a file",
        },
        plans={},
        writes=True,
    )
    per_run = POST_CAP_PER_S * ctx.seconds
    if "townhall" in ctx.ports:
        th = Townhall(ctx.origin)
        w.plans["townhall"] = _post_plans(ctx, th, threads, seed, per_run)
        probe = th.post(threads[0], PROBE + seed, "Probe", None, 99)
        resp = w.fetch("townhall", ctx.ports["townhall"], probe)
        w.checks["townhall_status"] = resp.status
        if "ceiling" in ctx.ports:
            assert ctx.ceiling_root is not None
            path = _ceiling_file(ctx.ceiling_root, "posted.json", resp)
            w.plans["ceiling"] = _ceiling_plan(ctx, [[path]] * READERS, method="POST")
    if "isso" in ctx.ports:
        isso = Isso(ctx.origin)
        w.plans["isso"] = _post_plans(ctx, isso, threads, seed, per_run)
        probe = isso.post(threads[0], PROBE + seed, "Probe", None, 99)
        resp = w.fetch("isso", ctx.ports["isso"], probe)
        w.checks["isso_status"] = resp.status
    return w


def mixed(ctx: Context) -> Workload:
    threads = ctx.dataset.group("mixed")
    w = Workload(
        id="mixed",
        title=f"Mixed: {100 - round(MIXED_WRITE_SHARE * 100)} % page views, "
        f"{round(MIXED_WRITE_SHARE * 100)} % posts (100 threads of 50)",
        unit="request",
        concurrency=ctx.concurrency,
        definitions={
            "townhall": "page views as page_50 and posts as post, on the same threads "
            "(every post invalidates its thread's cached pages)",
            "isso": "the same with Isso's requests",
        },
        plans={},
        writes=True,
    )
    per_run = POST_CAP_PER_S * 2 * ctx.seconds
    if "townhall" in ctx.ports:
        w.plans["townhall"] = _post_plans(
            ctx, Townhall(ctx.origin), threads, "mixed", per_run, 1 - MIXED_WRITE_SHARE
        )
    if "isso" in ctx.ports:
        w.plans["isso"] = _post_plans(
            ctx, Isso(ctx.origin), threads, "mixed", per_run, 1 - MIXED_WRITE_SHARE
        )
    return w


ALL: dict[str, Callable[[Context], Workload]] = {
    "page_big": page_big,
    "whole_big": whole_big,
    "page_50": page_small,
    "counts": counts,
    "post": posting,
    "mixed": mixed,
}
