"""The public reader API v1 (API.md). Each handler parses, calls one domain function and
serialises; the domain runs in a worker thread because the database calls block."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from townhall.domain import comments as comment_domain
from townhall.domain import threads as thread_domain
from townhall.domain.errors import InvalidInput
from townhall.domain.listing import decode_cursor
from townhall.domain.rendering import render_markdown
from townhall.domain.sites import Site
from townhall.domain.threads import MISSING, Thread
from townhall.domain.views import ThreadPage, ThreadView
from townhall.moderation.policy import merge_policy
from townhall.notify import replies
from townhall.types import CommentStatus, Sort
from townhall.web import cors
from townhall.web.body import json_body
from townhall.web.page_cache import Encoded
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
from townhall.web.state import EDIT_TOKEN_HEADER, reader_of, web_state

MAX_LIMIT = 100
HELD_MESSAGE = "Thanks! Your comment is awaiting moderation and will appear once approved."


def _json(data: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(data), status_code=status, media_type="application/json")


def _query_one(request: Request, name: str, *, required: bool = True) -> str | None:
    values = request.query_params.getlist(name)
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


async def list_comments(request: Request) -> Response:
    state = web_state(request)
    settings = state.services.settings
    site_key = _query_one(request, "site")
    thread_key = thread_domain.check_thread_key(_query_one(request, "thread"))
    sort_raw = _query_one(request, "sort", required=False) or "oldest"
    try:
        sort = Sort(sort_raw)
    except ValueError:
        raise InvalidInput("sort must be oldest, newest or top", field="sort") from None
    limit_raw = _query_one(request, "limit", required=False)
    limit = settings.page_size
    if limit_raw is not None:
        if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= MAX_LIMIT:
            raise InvalidInput(f"limit must be a number from 1 to {MAX_LIMIT}", field="limit")
        limit = int(limit_raw)
    cursor = _query_one(request, "cursor", required=False) or ""
    if len(cursor) > 512:
        raise InvalidInput("cursor is not one this server gave out", field="cursor")
    if cursor:
        decode_cursor(cursor)  # a bad cursor is a 422 even on an empty thread
    reader = reader_of(request, mint=False)
    replies_cap = settings.replies_per_subtree
    assert site_key is not None

    # Fast path, on the event loop: site, thread row and page all cached for this version.
    site = state.services.sites.peek(site_key)
    thread = state.services.threads.peek(site_key, thread_key) if site else MISSING
    if site is not None and isinstance(thread, Thread):
        snap = state.snapshots.get(thread.id, thread.version)
        if reader.reader_id is None or (
            snap is not None and reader.reader_id not in snap[0].hidden_readers
        ):
            hit = state.pages.get((thread.id, thread.version, sort.value, cursor, limit))
            if hit is not None:
                return cors.apply(_cached_response(request, hit, False), request, site)

    def build() -> tuple[Site, Encoded, bool]:
        site = _site(request, site_key)
        thread = state.services.threads.get(site, thread_key)
        if thread is None:
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
            return site, Encoded.of(msgspec.json.encode(empty)), False
        db = state.services.db
        premoderated = merge_policy(site.policy, thread.policy).premoderation
        own = thread_domain.reader_snapshot(db, state.snapshots, thread, reader.reader_id)
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
    return cors.apply(_cached_response(request, encoded, private), request, site)


def _cached_response(request: Request, encoded: Encoded, private: bool) -> Response:
    headers = {
        "ETag": encoded.etag,
        "Cache-Control": "private, no-cache" if private else "public, no-cache",
        "Vary": "Accept-Encoding, X-Townhall-Reader",
    }
    inm = request.headers.get("if-none-match")
    if inm and encoded.etag in {t.strip() for t in inm.split(",")}:
        return Response(status_code=304, headers=headers)
    if encoded.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(encoded.gzipped, media_type="application/json", headers=headers)
    return Response(encoded.body, media_type="application/json", headers=headers)


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

    site, posted = await run_in_threadpool(submit)
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
    view = await run_in_threadpool(
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
    view = await run_in_threadpool(
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
    likes, dislikes = await run_in_threadpool(
        comment_domain.vote, state.services, request.path_params["id"], body.value, reader
    )
    out = VoteOut(likes=likes, dislikes=dislikes, reader_token=reader.new_token)
    return cors.apply(_json(out), request, site)


async def flag(request: Request) -> Response:
    state = web_state(request)
    body = await json_body(request, FlagIn, state.services.settings.max_body_bytes)
    site = await _comment_site(request)
    reader = reader_of(request, mint=True)
    await run_in_threadpool(
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
