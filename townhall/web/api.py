"""The public reader API v1 (API.md). Each handler parses, calls one domain function and
serialises; the domain runs in a worker thread because the database calls block."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from townhall.domain import comments as comment_domain
from townhall.domain import threads as thread_domain
from townhall.domain.errors import InvalidInput
from townhall.domain.identity import reader_from_token
from townhall.domain.listing import decode_cursor
from townhall.domain.rendering import render_markdown
from townhall.domain.sites import Site
from townhall.domain.threads import Thread
from townhall.domain.views import ThreadPage, ThreadView
from townhall.moderation.policy import merge_policy
from townhall.notify import replies
from townhall.types import CommentStatus, Sort
from townhall.web import cors
from townhall.web.body import json_body
from townhall.web.metrics import Metrics
from townhall.web.offload import run_write
from townhall.web.page_cache import Encoded, Head
from townhall.web.ratelimit import RATE_COUNTED, RateLimiter
from townhall.web.schemas import (
    CommentOut,
    CountsIn,
    CountsOut,
    EditIn,
    FlagIn,
    FlagOut,
    NewCommentIn,
    PostedOut,
    PreviewIn,
    PreviewOut,
    VoteIn,
    VoteOut,
)
from townhall.web.state import EDIT_TOKEN_HEADER, READER_HEADER, WebState, reader_of, web_state

LIST_PATH = "/api/v1/comments"
MAX_LIMIT = 100
HELD_MESSAGE = "Thanks! Your comment is awaiting moderation and will appear once approved."


def _json(data: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(data), status_code=status, media_type="application/json")


def _query_one(request: Request, name: str, *, required: bool = True) -> str | None:
    return _one(request.query_params.multi_items(), name, required=required)


def _one(params: Sequence[tuple[str, str]], name: str, *, required: bool = True) -> str | None:
    values = [v for k, v in params if k == name]
    if not values:
        if required:
            raise InvalidInput(f"query parameter {name!r} is required", field=name)
        return None
    if len(values) > 1:
        raise InvalidInput(f"give query parameter {name!r} once", field=name)
    return values[0]


def _site(request: Request, key: Any) -> Site:
    if not isinstance(key, str) or not key:
        raise InvalidInput("site is required: the key from data-townhall-site", field="site")
    return web_state(request).services.sites.get(key)


@dataclass(frozen=True, slots=True)
class ListQuery:
    site: str
    thread: str
    sort: Sort
    cursor: str
    limit: int


def parse_list_query(params: Sequence[tuple[str, str]], page_size: int) -> ListQuery:
    """The query of ``GET /api/v1/comments``, checked (InvalidInput names the field)."""
    site_key = _one(params, "site")
    thread_key = thread_domain.check_thread_key(_one(params, "thread"))
    sort_raw = _one(params, "sort", required=False) or "oldest"
    try:
        sort = Sort(sort_raw)
    except ValueError:
        raise InvalidInput("sort must be oldest, newest or top", field="sort") from None
    limit_raw = _one(params, "limit", required=False)
    limit = page_size
    if limit_raw is not None:
        if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= MAX_LIMIT:
            raise InvalidInput(f"limit must be a number from 1 to {MAX_LIMIT}", field="limit")
        limit = int(limit_raw)
    cursor = _one(params, "cursor", required=False) or ""
    if len(cursor) > 512:
        raise InvalidInput("cursor is not one this server gave out", field="cursor")
    if cursor:
        decode_cursor(cursor)  # a bad cursor is a 422 even on an empty thread
    assert site_key is not None
    return ListQuery(site_key, thread_key, sort, cursor, limit)


async def list_comments(request: Request) -> Response:
    state = web_state(request)
    settings = state.services.settings
    q = parse_list_query(request.query_params.multi_items(), settings.page_size)
    site_key, thread_key, sort, cursor, limit = q.site, q.thread, q.sort, q.cursor, q.limit
    # Only the reader id matters here (their own held comments): no IP hash for a read.
    reader_id = reader_from_token(request.headers.get(READER_HEADER), None, mint=False).reader_id
    replies_cap = settings.replies_per_subtree

    # Fast path, on the event loop: site, thread row and page all cached for this version.
    # (FastReads answers these before any middleware; this is for what it passes on.)
    hit = cached_page(state, q, reader_id)
    if hit is not None:
        return _page_response(request, hit[1], False, hit[0])

    def build() -> tuple[Site, Encoded, bool]:
        site = _site(request, site_key)
        thread = state.services.threads.get(site, thread_key)
        if thread is None:
            return site, empty_page(site, thread_key), False
        db = state.services.db
        premoderated = merge_policy(site.policy, thread.policy).premoderation
        own = thread_domain.reader_snapshot(db, state.snapshots, thread, reader_id)
        if own is not None:  # this reader sees their own held comments: not cacheable
            page = thread_domain.page(
                own, sort=sort, limit=limit, cursor=cursor or None, replies_cap=replies_cap
            )
            body = ThreadPage(
                thread=thread.view(site, premoderated),
                comments=page.comments,
                next_cursor=page.next_cursor,
            )
            return site, Encoded.of(msgspec.json.encode(body)), True
        key = (thread.id, thread.version, sort.value, cursor, limit)
        hit = state.pages.get(key)
        if hit is not None:
            return site, hit, False
        snap = thread_domain.load_snapshot(db, state.snapshots, thread)
        page = thread_domain.page(
            snap, sort=sort, limit=limit, cursor=cursor or None, replies_cap=replies_cap
        )
        body = ThreadPage(
            thread=thread.view(site, premoderated),
            comments=page.comments,
            next_cursor=page.next_cursor,
        )
        encoded = Encoded.of(msgspec.json.encode(body))
        state.pages.put(key, encoded)
        return site, encoded, False

    site, encoded, private = await run_in_threadpool(build)
    return _page_response(request, encoded, private, site)


def cached_page(
    state: WebState, q: ListQuery, reader_id: str | None
) -> tuple[Site, Encoded] | None:
    """The page from the cache, if site, thread row and page are all cached for this version
    and the reader is not one who sees comments of their own that others do not."""
    site = state.services.sites.peek(q.site)
    if site is None:
        return None
    thread = state.services.threads.peek(q.site, q.thread)
    if thread is None:  # known not to exist (yet): an article nobody has commented on
        return site, empty_page(site, q.thread)
    if not isinstance(thread, Thread):
        return None
    if reader_id is not None:
        snap = state.snapshots.get(thread.id, thread.version)
        if snap is None or reader_id in snap[0].hidden_readers:
            return None
    hit = state.pages.get((thread.id, thread.version, q.sort.value, q.cursor, q.limit))
    return None if hit is None else (site, hit)


_EMPTY: dict[tuple[str, str], tuple[Site, Encoded]] = {}
EMPTY_MEMO = 4096


def empty_page(site: Site, thread_key: str) -> Encoded:
    """The page of a thread nobody has commented on; remembered for as long as the same
    ``Site`` object is current (the site cache replaces it when it reloads the site, so a
    changed edit window or policy is seen as soon as the site is)."""
    memo = _EMPTY.get((site.key, thread_key))
    if memo is not None and memo[0] is site:
        return memo[1]
    policy = merge_policy(site.policy, None)
    empty = ThreadPage(
        thread=ThreadView(
            key=thread_key,
            title="",
            url="",
            count=0,
            closed=False,
            edit_window_seconds=site.edit_window_seconds,
            premoderated=policy.premoderation,
        ),
        comments=[],
        next_cursor=None,
    )
    encoded = Encoded.of(msgspec.json.encode(empty))
    if len(_EMPTY) >= EMPTY_MEMO:
        _EMPTY.clear()
    _EMPTY[(site.key, thread_key)] = (site, encoded)
    return encoded


# -- answering with a page: one head per kind of request, built once per cached page ------

VARY = "Accept-Encoding, X-Townhall-Reader"
_JSON = (b"content-type", b"application/json")
_GZIP = (b"content-encoding", b"gzip")


def page_head(
    encoded: Encoded,
    private: bool,
    site: Site | None,
    *,
    raw_origin: str | None,
    accept_encoding: str,
    if_none_match: str | None,
) -> Head:
    """Status, raw headers and body of the answer with ``encoded``: 304 when the client has
    it, gzipped when the client takes gzip, and CORS headers for an allowed origin (a
    ``Vary: Origin`` for another). The slow path and FastReads both answer with this."""
    if if_none_match and encoded.etag in {t.strip() for t in if_none_match.split(",")}:
        kind = 304
    elif encoded.gzipped is not None and "gzip" in accept_encoding:
        kind = 1
    else:
        kind = 0
    cors_key: str | None = None  # None: no origin; "": an origin not allowed; else the origin
    if cors.origin_of(raw_origin) is not None:
        assert raw_origin is not None
        cors_key = raw_origin if site is not None and cors.allows(site, raw_origin) else ""
    key = (kind, private, cors_key)

    def build() -> Head:
        vary = VARY if cors_key is None else cors.with_origin(VARY)
        headers = [
            (b"etag", encoded.etag.encode("latin-1")),
            (b"cache-control", b"private, no-cache" if private else b"public, no-cache"),
            (b"vary", vary.encode("latin-1")),
        ]
        status, body = 200, b""
        if kind == 304:
            status = 304
        else:
            if kind == 1:
                assert encoded.gzipped is not None
                headers.append(_GZIP)
                body = encoded.gzipped
            else:
                body = encoded.body
            headers.append((b"content-length", str(len(body)).encode("latin-1")))
            headers.append(_JSON)
        if cors_key:
            headers.extend(cors.cors_raw_headers(cors_key))
        return status, headers, body

    if kind == 0 and encoded.gzipped is not None:
        return build()  # the plain body is inflated per request: not kept
    return encoded.head(key, build)


def _page_response(request: Request, encoded: Encoded, private: bool, site: Site) -> Response:
    h = request.headers
    status, headers, body = page_head(
        encoded,
        private,
        site,
        raw_origin=h.get("origin"),
        accept_encoding=h.get("accept-encoding", ""),
        if_none_match=h.get("if-none-match"),
    )
    response = Response(body, status_code=status)
    response.raw_headers = list(headers)
    return response


class FastReads:
    """Cached reads answered ahead of the middleware and the router: ``GET /api/v1/comments``
    when site, thread row and page are cached, or the thread is known not to exist yet (the
    page's answer is prebuilt bytes).

    It does what the stack would have done for such a request, from the raw ASGI scope: the
    request limit (it counts the request; over the limit it passes the request on with that
    count, for the 429), the page's CORS headers, and the metrics. Anything else, a miss or a
    bad query, goes down the stack unchanged."""

    # Parsed query strings remembered: readers ask for the same first pages. A next page's
    # cursor changes with its thread, so those are parsed each time, or the memo would fill
    # with cursors asked for once (70-80 new ones a minute under the soak).
    QUERY_MEMO = 4096

    def __init__(
        self, app: ASGIApp, *, state: WebState, limiter: RateLimiter, metrics: Metrics
    ) -> None:
        self.app = app
        self.state = state
        self.limiter = limiter
        self.metrics = metrics
        self.page_size = state.services.settings.page_size
        self._queries: dict[bytes, ListQuery | None] = {}

    def _query(self, raw: bytes) -> ListQuery | None:
        try:
            return self._queries[raw]
        except KeyError:
            pass
        try:
            q: ListQuery | None = parse_list_query(
                parse_qsl(raw.decode("latin-1"), keep_blank_values=True), self.page_size
            )
        except InvalidInput:
            q = None  # the slow path says what is wrong
        if b"cursor=" in raw:
            return q
        if len(self._queries) >= self.QUERY_MEMO:
            self._queries.clear()
        self._queries[raw] = q
        return q

    def _answer(self, scope: Scope) -> Head | None:
        q = self._query(scope["query_string"])
        if q is None:
            return None
        origin = accept = inm = token = None
        for name, value in scope["headers"]:  # the first of each, as Starlette's Headers
            if name == b"origin":
                if origin is None:
                    origin = value.decode("latin-1")
            elif name == b"accept-encoding":
                if accept is None:
                    accept = value.decode("latin-1")
            elif name == b"if-none-match":
                if inm is None:
                    inm = value.decode("latin-1")
            elif name == b"x-townhall-reader" and token is None:
                token = value.decode("latin-1")
        reader_id = None if token is None else reader_from_token(token, None, mint=False).reader_id
        hit = cached_page(self.state, q, reader_id)
        if hit is None:
            return None
        return page_head(
            hit[1],
            False,
            hit[0],
            raw_origin=origin,
            accept_encoding=accept or "",
            if_none_match=inm,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != LIST_PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        answer = self._answer(scope)
        if answer is None:
            await self.app(scope, receive, send)
            return
        limiter = self.limiter
        if limiter.reads:
            count = await limiter.count(scope, False)
            if limiter.over(count, False):
                scope[RATE_COUNTED] = count
                await self.app(scope, receive, send)
                return
        status, headers, body = answer
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            self.metrics.observe(LIST_PATH, "GET", status, time.perf_counter() - start)


async def post_comment(request: Request) -> Response:
    state = web_state(request)
    body = await json_body(request, NewCommentIn, state.services.settings.max_body_bytes)
    reader = reader_of(request, mint=True)

    def submit() -> tuple[Site, comment_domain.Posted]:
        site = _site(request, body.site)
        cors.check_write_origin(request, site)
        new = comment_domain.NewComment(
            site=body.site,
            thread=body.thread,
            text=body.text,
            parent_id=body.parent_id,
            author_name=body.author.name,
            author_email=body.author.email,
            author_website=body.author.website,
            thread_title=body.thread_title,
            thread_url=body.thread_url,
            confirm=body.confirm,
            notify_replies=body.notify_replies,
        )
        return site, comment_domain.submit_comment(state.services, new, reader)

    site, posted = await run_write(state.services.db, submit)
    held = posted.status is not CommentStatus.PUBLISHED
    out = PostedOut(
        comment=posted.comment,
        status="pending" if held else "published",
        edit_token=posted.edit_token,
        message=HELD_MESSAGE if held else None,
        reader_token=reader.new_token,
    )
    return cors.apply(_json(out, 202 if held else 201), request, site)


async def _comment_site(request: Request) -> Site:
    state = web_state(request)
    site = await run_in_threadpool(
        comment_domain.site_of_comment, state.services, request.path_params["id"]
    )
    cors.check_write_origin(request, site)
    return site


async def edit_comment(request: Request) -> Response:
    state = web_state(request)
    body = await json_body(request, EditIn, state.services.settings.max_body_bytes)
    site = await _comment_site(request)
    reader = reader_of(request, mint=False)
    view = await run_write(
        state.services.db,
        comment_domain.edit_comment,
        state.services,
        request.path_params["id"],
        request.headers.get(EDIT_TOKEN_HEADER),
        body.text,
        reader,
    )
    return cors.apply(_json(CommentOut(comment=view)), request, site)


async def delete_comment(request: Request) -> Response:
    state = web_state(request)
    site = await _comment_site(request)
    view = await run_write(
        state.services.db,
        comment_domain.delete_comment,
        state.services,
        request.path_params["id"],
        request.headers.get(EDIT_TOKEN_HEADER),
    )
    return cors.apply(_json(CommentOut(comment=view)), request, site)


async def vote(request: Request) -> Response:
    state = web_state(request)
    body = await json_body(request, VoteIn, state.services.settings.max_body_bytes)
    site = await _comment_site(request)
    reader = reader_of(request, mint=True)
    likes, dislikes = await run_write(
        state.services.db,
        comment_domain.vote,
        state.services,
        request.path_params["id"],
        body.value,
        reader,
    )
    out = VoteOut(likes=likes, dislikes=dislikes, reader_token=reader.new_token)
    return cors.apply(_json(out), request, site)


async def flag(request: Request) -> Response:
    state = web_state(request)
    body = await json_body(request, FlagIn, state.services.settings.max_body_bytes)
    site = await _comment_site(request)
    reader = reader_of(request, mint=True)
    await run_write(
        state.services.db,
        comment_domain.flag,
        state.services,
        request.path_params["id"],
        body.reason,
        body.note,
        reader,
    )
    return cors.apply(_json(FlagOut(reader_token=reader.new_token), 202), request, site)


async def counts_get(request: Request) -> Response:
    site_key = _query_one(request, "site")
    keys = request.query_params.getlist("thread")
    return await _counts(request, site_key, keys)


async def counts_post(request: Request) -> Response:
    state = web_state(request)
    body = await json_body(request, CountsIn, state.services.settings.max_body_bytes)
    return await _counts(request, body.site, body.threads)


async def _counts(request: Request, site_key: str | None, keys: list[str]) -> Response:
    state = web_state(request)
    if not keys:
        raise InvalidInput("name at least one thread", field="thread")
    clean = thread_domain.check_count_keys(keys)
    site = state.services.sites.peek(site_key) if site_key else None
    if site is not None:
        cached = thread_domain.cached_counts(state.services.threads, site, clean)
        if cached is not None:
            return cors.apply(_json(CountsOut(counts=cached)), request, site)

    def count() -> tuple[Site, dict[str, int]]:
        site = _site(request, site_key)
        return site, thread_domain.counts(state.services.threads, site, clean)

    site, found = await run_in_threadpool(count)
    return cors.apply(_json(CountsOut(counts=found)), request, site)


async def preview(request: Request) -> Response:
    state = web_state(request)
    body = await json_body(request, PreviewIn, state.services.settings.max_body_bytes)
    text = comment_domain.clean_text(body.text, state.services.settings.max_comment_chars)
    html = await run_in_threadpool(render_markdown, text)
    response = _json(PreviewOut(html=html))
    origin = cors.request_origin(request)
    if origin:
        allowed = await run_in_threadpool(state.services.sites.all_origins)
        if origin in allowed:
            response.headers.update(cors.cors_headers(request.headers["origin"]))
    return response


async def unsubscribe(request: Request) -> Response:
    """The link in reply mail: stops reply mail for that address."""
    state = web_state(request)
    token = request.query_params.get("token", "")
    ok = await run_in_threadpool(
        replies.unsubscribe, state.services.db, state.services.settings.secret_bytes(), token
    )
    text = (
        "You will not get mail about replies any more."
        if ok
        else "This unsubscribe link is not valid; copy the whole link from the mail."
    )
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>townhall</title>"
        f"<main style='font:16px system-ui;margin:3rem auto;max-width:30rem'><p>{text}</p></main>"
    )
    return HTMLResponse(page, status_code=200 if ok else 400)
