"""The cached-read fast path (FastReads) and the byte-bounded caches behind it.

FastReads answers ``GET /api/v1/comments`` from the page cache before any middleware runs;
whatever it answers must be byte for byte what the whole stack answers for the same request
(status, every header in order, body), and it must count the request against the limits and
in the metrics exactly as the stack does."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.applications import Starlette

from tests.api.test_reading import seed_thread
from tests.conftest import ORIGIN, RELAXED_LIMITS, comment_body, make_test_settings
from townhall.app import create_app
from townhall.domain.listing import Snapshot, SnapshotCache
from townhall.domain.services import Services
from townhall.domain.sites import create_site
from townhall.settings import Settings
from townhall.web.api import FastReads
from townhall.web.page_cache import ENTRY_OVERHEAD, Encoded, PageCache

THREAD = {"site": "news", "thread": "/2026/11/story"}
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


async def call(
    app: Any, method: str, path: str, query: dict[str, str] | None = None, **headers: str
) -> Answer:
    """One request straight through the ASGI app: status, raw headers in order, body."""
    body = b""
    raw_headers = [(b"host", b"testserver")]
    for name, value in headers.items():
        if name == "json":
            body = value.encode()
            raw_headers.append((b"content-type", b"application/json"))
            continue
        raw_headers.append((name.replace("_", "-").lower().encode(), value.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(query or {}).encode(),
        "root_path": "",
        "headers": raw_headers,
        "client": ("192.0.2.7", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    out: dict[str, Any] = {"body": b""}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = list(message["headers"])
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], out["headers"], out["body"]


def header(answer: Answer, name: str) -> str | None:
    for key, value in answer[1]:
        if key == name.encode():
            return value.decode("latin-1")
    return None


@pytest.fixture
async def app(settings: Settings, services: Services) -> AsyncIterator[Starlette]:
    create_site(services.db, key="news", name="News", origins=[ORIGIN], policy=RELAXED_LIMITS)
    application = create_app(settings, services=services)
    async with application.router.lifespan_context(application):
        yield application


async def post(app: Starlette, text: str, **headers: str) -> dict[str, Any]:
    status, _, body = await call(
        app, "POST", "/api/v1/comments", json=json.dumps(comment_body(text)), **headers
    )
    assert status in (201, 202), body
    result: dict[str, Any] = json.loads(body)
    return result


def requests_counted(app: Starlette, status: str) -> float:
    value = app.state.metrics.registry.get_sample_value(
        "townhall_http_requests_total",
        {"route": "/api/v1/comments", "method": "GET", "status": status},
    )
    return value or 0.0


VARIANTS: list[dict[str, str]] = [
    {"accept_encoding": "gzip", "origin": ORIGIN},  # the widget
    {"accept_encoding": "gzip, deflate, br", "origin": ORIGIN + ":443"},
    {"accept_encoding": "identity", "origin": ORIGIN},  # plain body
    {"origin": "https://other.example"},  # not allowed: no CORS, Vary: Origin
    {"origin": "null"},
    {},  # no origin at all (server to server)
    {"accept_encoding": "gzip", "x_townhall_reader": "r" * 32},  # a reader with no held comment
]


async def test_fast_path_answers_byte_for_byte_as_the_stack(
    app: Starlette, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_thread(services, top_level=30, replies_each=2)  # ~90 comments: gzipped pages
    for headers in VARIANTS:
        for query in (
            THREAD,
            {**THREAD, "limit": "5", "sort": "newest"},
            {"site": "news", "thread": "/nobody-commented-yet"},  # the empty page
        ):
            first = await call(app, "GET", "/api/v1/comments", query, **headers)  # fills
            fast = await call(app, "GET", "/api/v1/comments", query, **headers)
            with monkeypatch.context() as m:  # the same request down the whole stack
                m.setattr(FastReads, "_answer", lambda self, scope: None)
                slow = await call(app, "GET", "/api/v1/comments", query, **headers)
            assert fast == slow == first, headers
            etag = header(fast, "etag")
            assert etag is not None
            not_modified = {**headers, "if_none_match": f'"nope", {etag}'}
            fast304 = await call(app, "GET", "/api/v1/comments", query, **not_modified)
            with monkeypatch.context() as m:
                m.setattr(FastReads, "_answer", lambda self, scope: None)
                slow304 = await call(app, "GET", "/api/v1/comments", query, **not_modified)
            assert fast304 == slow304
            assert fast304[0] == 304 and fast304[2] == b""
    assert app.state.townhall.pages.hits > 0


async def test_an_empty_thread_is_answered_without_the_stack_until_its_first_comment(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    await call(app, "GET", "/api/v1/comments", THREAD)  # the site is cached
    before = requests_counted(app, "200")
    answers = [await call(app, "GET", "/api/v1/comments", THREAD) for _ in range(2)]
    assert answers[0] == answers[1]
    assert json.loads(answers[0][2])["comments"] == []
    assert requests_counted(app, "200") == before + 2
    await post(app, "first")  # creates the thread: the empty page is not answered any more
    after = await call(app, "GET", "/api/v1/comments", THREAD)
    assert [c["html"] for c in json.loads(after[2])["comments"]] == ["<p>first</p>"]


async def test_headers_of_a_cached_page(app: Starlette, services: Services) -> None:
    seed_thread(services, top_level=30, replies_each=2)
    await call(app, "GET", "/api/v1/comments", THREAD, accept_encoding="gzip", origin=ORIGIN)
    hit = await call(app, "GET", "/api/v1/comments", THREAD, accept_encoding="gzip", origin=ORIGIN)
    assert hit[0] == 200
    assert header(hit, "content-encoding") == "gzip"
    assert json.loads(gzip.decompress(hit[2]))["thread"]["count"] == 90
    assert header(hit, "access-control-allow-origin") == ORIGIN
    assert header(hit, "access-control-allow-credentials") == "true"
    assert header(hit, "cache-control") == "public, no-cache"
    # the body varies by encoding, reader and origin: a shared cache must know all three
    assert header(hit, "vary") == "Accept-Encoding, X-Townhall-Reader, Origin"
    assert header(hit, "content-length") == str(len(hit[2]))
    plain = await call(app, "GET", "/api/v1/comments", THREAD, origin="https://other.example")
    assert header(plain, "content-encoding") is None
    assert json.loads(plain[2]) == json.loads(gzip.decompress(hit[2]))
    assert header(plain, "access-control-allow-origin") is None
    assert header(plain, "vary") == "Accept-Encoding, X-Townhall-Reader, Origin"


async def test_fast_path_counts_in_the_metrics(app: Starlette) -> None:
    await post(app, "one")
    await call(app, "GET", "/api/v1/comments", THREAD)  # a miss: the stack answers
    before = requests_counted(app, "200")
    hits = app.state.townhall.pages.hits
    for _ in range(3):
        assert (await call(app, "GET", "/api/v1/comments", THREAD))[0] == 200
    assert app.state.townhall.pages.hits == hits + 3  # ... and these were the fast path's
    assert requests_counted(app, "200") == before + 3
    etag = header(await call(app, "GET", "/api/v1/comments", THREAD), "etag")
    assert etag
    await call(app, "GET", "/api/v1/comments", THREAD, if_none_match=etag)
    assert requests_counted(app, "304") == 1


async def test_a_write_is_seen_at_once(app: Starlette) -> None:
    await post(app, "one")
    first = await call(app, "GET", "/api/v1/comments", THREAD)
    again = await call(app, "GET", "/api/v1/comments", THREAD)
    assert first == again
    etag = header(first, "etag")
    assert etag
    await post(app, "two")
    after = await call(app, "GET", "/api/v1/comments", THREAD, if_none_match=etag)
    assert after[0] == 200 and header(after, "etag") != etag
    assert [c["html"] for c in json.loads(after[2])["comments"]] == [
        "<p>one</p>",
        "<p>two</p>",
    ]
    # the old version's pages are gone from the cache, not just unused
    pages = app.state.townhall.pages
    assert all(key[1] == max(k[1] for k in pages._data) for key in pages._data)


async def test_a_held_author_sees_their_own_comment_through_a_cached_page(
    app: Starlette, services: Services
) -> None:
    from townhall.domain.sites import update_site

    await post(app, "public one")
    public = await call(app, "GET", "/api/v1/comments", THREAD)
    assert (await call(app, "GET", "/api/v1/comments", THREAD)) == public  # cached
    update_site(services.db, "news", policy_changes={"premoderation": True})
    services.sites.forget()
    held = await post(app, "held one")
    assert held["status"] == "pending"
    token = held["reader_token"]
    for _ in range(2):  # the second time the public page is cached: still not for them
        mine = await call(app, "GET", "/api/v1/comments", THREAD, x_townhall_reader=token)
        assert [c["status"] for c in json.loads(mine[2])["comments"]] == [
            "published",
            "pending",
        ]
        assert header(mine, "cache-control") == "private, no-cache"
        others = await call(app, "GET", "/api/v1/comments", THREAD, x_townhall_reader="x" * 32)
        assert [c["status"] for c in json.loads(others[2])["comments"]] == ["published"]
        assert header(others, "cache-control") == "public, no-cache"


async def test_a_cached_page_still_counts_against_the_read_limit(
    tmp_path: Path, frozen_clock: None
) -> None:
    settings = make_test_settings(tmp_path, f"sqlite:///{tmp_path}/t.db", rate_limit_reads=60)
    services = Services.from_settings(settings)
    services.db.migrate()
    create_site(services.db, key="news", name="News", origins=[ORIGIN], policy=RELAXED_LIMITS)
    app = create_app(settings, services=services)
    async with app.router.lifespan_context(app):
        await post(app, "one")
        answers = [
            await call(app, "GET", "/api/v1/comments", THREAD, origin=ORIGIN) for _ in range(12)
        ]
        # 60 a minute is 10 per 10-second window: the 11th is refused, none counted twice
        assert [a[0] for a in answers] == [200] * 10 + [429] * 2
        limited = answers[-1]
        assert header(limited, "retry-after") is not None
        assert header(limited, "access-control-allow-origin") == ORIGIN  # the page can read why
        value = app.state.metrics.registry.get_sample_value(
            "townhall_http_requests_total", {"route": "other", "method": "GET", "status": "429"}
        )
        assert value == 2
    services.db.dispose()


async def test_counts_by_post_are_limited_as_reads(tmp_path: Path, frozen_clock: None) -> None:
    settings = make_test_settings(
        tmp_path, f"sqlite:///{tmp_path}/t.db", rate_limit_reads=60, rate_limit_writes=6
    )
    services = Services.from_settings(settings)
    services.db.migrate()
    create_site(services.db, key="news", name="News", origins=[ORIGIN], policy=RELAXED_LIMITS)
    app = create_app(settings, services=services)
    body = json.dumps({"site": "news", "threads": ["/a", "/b"]})
    async with app.router.lifespan_context(app):
        # 6 writes a minute is 1 per window; counts are reads: 10 per window
        answers = [await call(app, "POST", "/api/v1/counts", json=body) for _ in range(11)]
        assert [a[0] for a in answers] == [200] * 10 + [429]
        assert b"too many requests" in answers[-1][2]
    services.db.dispose()


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    start = time.time() // 10 * 10 + 1
    monkeypatch.setattr("townhall.web.ratelimit.clock", lambda: start)


async def test_bad_queries_still_get_their_errors(app: Starlette) -> None:
    await post(app, "one")
    await call(app, "GET", "/api/v1/comments", THREAD)
    bad = await call(app, "GET", "/api/v1/comments", {**THREAD, "limit": "1000"})
    assert bad[0] == 422 and json.loads(bad[2])["error"]["field"] == "limit"
    bad = await call(app, "GET", "/api/v1/comments", {**THREAD, "cursor": "nope"})
    assert bad[0] == 422 and json.loads(bad[2])["error"]["field"] == "cursor"
    missing = await call(app, "GET", "/api/v1/comments", {"site": "news"})
    assert missing[0] == 422 and json.loads(missing[2])["error"]["field"] == "thread"


# -- the caches' bounds ---------------------------------------------------------------------


def page(size: int) -> Encoded:
    return Encoded.of((bytes(range(256)) * (size // 256 + 1))[:size])


def test_page_cache_is_bounded_by_bytes() -> None:
    one = page(64 * 1024)
    one.compact()  # as the cache keeps it: gzipped only, inflated on demand
    assert one.gzipped is not None and one.body == bytes(range(256)) * 256
    cache = PageCache(entries=1000, max_bytes=5 * one.size)
    for thread in range(10):
        cache.put((thread, 1, "oldest", "", 20), page(64 * 1024))
    assert len(cache) == 5 and cache.bytes <= cache.max_bytes
    assert cache.get((0, 1, "oldest", "", 20)) is None  # the least recently used went first
    assert cache.get((9, 1, "oldest", "", 20)) is not None
    cache.get((5, 1, "oldest", "", 20))  # read: now the most recent
    cache.put((10, 1, "oldest", "", 20), page(64 * 1024))
    assert cache.get((5, 1, "oldest", "", 20)) is not None
    assert cache.get((6, 1, "oldest", "", 20)) is None
    assert cache.bytes == sum(p.size for p in cache._data.values())


def test_page_cache_drops_superseded_versions() -> None:
    cache = PageCache(entries=1000, max_bytes=2**30)
    for cursor in ("", "a", "b"):
        cache.put((1, 1, "oldest", cursor, 20), page(100))
    cache.put((2, 1, "oldest", "", 20), page(100))
    cache.put((1, 2, "oldest", "", 20), page(100))  # a newer version: the old ones go
    assert sorted(cache._data) == [(1, 2, "oldest", "", 20), (2, 1, "oldest", "", 20)]
    cache.put((1, 1, "oldest", "c", 20), page(100))  # late page of a dead version: not kept
    assert (1, 1, "oldest", "c", 20) not in cache._data
    cache.forget_older(2, 2)  # a write's event: thread 2 is at version 2 now
    cache.forget_older(1, 2)  # nothing older than 2 left for thread 1
    assert list(cache._data) == [(1, 2, "oldest", "", 20)]
    assert cache.bytes == page(100).size == ENTRY_OVERHEAD + 100


def snapshot(size: int) -> Snapshot:
    return Snapshot(top=[], children={}, nodes={}, visible_status={}, depth={}, size=size)


def test_snapshot_cache_is_bounded_by_bytes() -> None:
    cache = SnapshotCache(entries=100, max_bytes=1000)
    for thread in range(5):
        cache.put(thread, 1, snapshot(300))
    assert len(cache) == 3 and cache.bytes == 900
    assert cache.get(0, 1) is None and cache.get(4, 1) is not None
    cache.put(4, 2, snapshot(300))  # a newer version replaces the old one
    assert cache.get(4, 1) is None and cache.bytes == 900
    cache.put(4, 1, snapshot(300))  # an older one never replaces a newer one
    assert cache.get(4, 2) is not None
    cache.forget_older(4, 3)
    assert cache.get(4, 2) is None and cache.bytes == 600
    cache.put(9, 1, snapshot(5000))  # larger than the budget: kept alone (it is being read)
    assert len(cache) == 1 and cache.get(9, 1) is not None


def _fast_reads(app: Starlette) -> FastReads:
    layer: Any = app.middleware_stack
    while not isinstance(layer, FastReads):
        layer = layer.app
    return layer


async def test_next_page_cursors_are_not_remembered(app: Starlette) -> None:
    """The parsed-query memo keeps the first pages readers share, not the cursors of next
    pages, which change with the thread (under the soak they filled it, a memory trend)."""
    for n in range(4):
        await post(app, f"comment {n}")
    first = {**THREAD, "limit": "1"}
    passes = []
    for _ in range(2):  # twice: the second time every page is a cache hit
        ids, query = [], first
        while query:
            status, _, body = await call(app, "GET", "/api/v1/comments", query)
            assert status == 200
            answer = json.loads(body)
            ids += [c["id"] for c in answer["comments"]]
            query = {**first, "cursor": answer["next_cursor"]} if answer["next_cursor"] else {}
        passes.append(ids)
    assert len(passes[0]) == 4 and passes[1] == passes[0]
    assert list(_fast_reads(app)._queries) == [urlencode(first).encode()]
