"""The handlers of the Isso-compatible API. Each parses, calls the domain in a worker thread
(database calls block) and serialises Isso's shapes; see docs/isso.md for the protocol."""

from __future__ import annotations

import datetime as dt
import math
import re

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from townhall.domain import comments as comment_domain
from townhall.domain import threads as thread_domain
from townhall.domain.errors import InvalidInput, NotFound, Unauthorized
from townhall.domain.rendering import render_markdown
from townhall.domain.threads import Thread
from townhall.types import CommentStatus, Sort
from townhall.web.body import json_body
from townhall.web.isso import feed as feed_module
from townhall.web.isso.cookies import EditCookies, reader_cookie
from townhall.web.isso.endpoint import (
    IssoContext,
    check_xhr,
    json_response,
    one_param,
    reader_of,
)
from townhall.web.isso.listing import Query, empty, isso_thread
from townhall.web.isso.shapes import (
    CONFIG,
    ConfigOut,
    EditIn,
    IssoComment,
    NewIn,
    Preview,
    PreviewIn,
    Votes,
    from_view,
)
from townhall.web.isso.style import CSS
from townhall.web.page_cache import Encoded, PageKey

MIN_TEXT = 3  # Isso's minimum comment length
MAX_COUNT_URIS = 1000
_NUMBER = re.compile(r"\d{1,9}", re.ASCII)
_SORTS = {"": Sort.OLDEST, "oldest": Sort.OLDEST, "newest": Sort.NEWEST, "upvotes": Sort.TOP}
_COOKIE_SLACK = 60  # seconds of clock skew tolerated on the cookie; the domain keeps the window


# -- reading -------------------------------------------------------------------------------


async def config(request: Request, context: IssoContext) -> Response:
    return json_response(ConfigOut(config=CONFIG))


async def fetch(request: Request, context: IssoContext) -> Response:
    uri = _uri(request)
    query = _query(request)
    reader = reader_of(request, context, mint=False)
    state = context.state
    services = state.services
    site = context.site

    # Fast path, on the event loop: thread row and page both cached for this version.
    known = services.threads.peek(site.key, uri)
    if isinstance(known, Thread):
        snap = state.snapshots.get(known.id, known.version)
        if reader.reader_id is None or (
            snap is not None and reader.reader_id not in snap[0].hidden_readers
        ):
            hit = state.pages.get(_page_key(known, query))
            if hit is not None:
                return _conditional(request, hit, "application/json", private=False)

    def build() -> tuple[Encoded, bool]:
        thread = services.threads.get(site, uri)
        if thread is None:
            return Encoded.of(msgspec.json.encode(empty(query))), False
        own = thread_domain.reader_snapshot(services.db, state.snapshots, thread, reader.reader_id)
        if own is not None:  # this reader sees their own held comments: not shareable
            body = isso_thread(own, query, context.avatar)
            return Encoded.of(msgspec.json.encode(body)), True
        key = _page_key(thread, query)
        hit = state.pages.get(key)
        if hit is not None:
            return hit, False
        snap = thread_domain.load_snapshot(services.db, state.snapshots, thread)
        encoded = Encoded.of(msgspec.json.encode(isso_thread(snap, query, context.avatar)))
        state.pages.put(key, encoded)
        return encoded, False

    encoded, private = await run_in_threadpool(build)
    return _conditional(request, encoded, "application/json", private=private)


def _page_key(thread: Thread, query: Query) -> PageKey:
    return (thread.id, thread.version, f"isso-{query.sort.value}", query.cache_part(), -1)


async def feed(request: Request, context: IssoContext) -> Response:
    uri = _uri(request)
    limit = _number(request, "limit")
    limit = feed_module.MAX_ENTRIES if limit is None else max(1, min(limit, 100))
    state = context.state

    def build() -> bytes:
        thread = state.services.threads.get(context.site, uri)
        snap = (
            None
            if thread is None
            else thread_domain.load_snapshot(state.services.db, state.snapshots, thread)
        )
        return feed_module.atom_feed(context.site, thread, snap, uri, limit)

    body = await run_in_threadpool(build)
    return _conditional(request, Encoded.of(body), "application/atom+xml", private=False)


async def count(request: Request, context: IssoContext) -> Response:
    uris = await json_body(request, list[str], context.max_body)
    if len(uris) > MAX_COUNT_URIS:
        raise InvalidInput(f"at most {MAX_COUNT_URIS} URIs per request", field="body")
    index = context.state.services.threads
    unique = list(dict.fromkeys(uris))
    step = thread_domain.MAX_COUNT_THREADS
    chunks = [unique[start : start + step] for start in range(0, len(unique), step)]

    def counts() -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in chunks:
            found.update(thread_domain.counts(index, context.site, chunk))
        return found

    found = None
    if len(unique) <= step:  # every thread in the index: no database round trip
        found = thread_domain.cached_counts(index, context.site, unique)
    if found is None:
        found = await run_in_threadpool(counts)
    return json_response([found.get(u, 0) for u in uris])


async def preview(request: Request, context: IssoContext) -> Response:
    body = await json_body(request, PreviewIn, context.max_body)
    limit = context.state.services.settings.max_comment_chars
    text = comment_domain.clean_text(body.text, limit)
    return json_response(Preview(text=await run_in_threadpool(render_markdown, text)))


async def stylesheet(request: Request, context: IssoContext) -> Response:
    return Response(CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


# -- writing -------------------------------------------------------------------------------


async def new(request: Request, context: IssoContext) -> Response:
    check_xhr(request, context.site)
    uri = _uri(request)
    body = await json_body(request, NewIn, context.max_body)
    _check_text(body.text)
    reader = reader_of(request, context, mint=True)
    services = context.state.services
    email = (body.email or "").strip()
    if email and (len(email) > 320 or not comment_domain.EMAIL.match(email)):
        email = ""  # Isso takes any text here; a malformed address should not lose the comment
    comment = comment_domain.NewComment(
        site=context.site.key,
        thread=uri,
        text=body.text,
        parent_id=str(body.parent) if body.parent else None,
        author_name=body.author,
        author_email=email or None,
        author_website=body.website,
        thread_title=body.title,
        thread_url=_article_url(request, context, uri),
        confirm=True,  # Isso's client cannot answer a nudge: such comments go to moderators
    )

    def submit() -> tuple[comment_domain.Posted, int | None]:
        posted = comment_domain.submit_comment(services, comment, reader)
        view = posted.comment
        root = None if view.parent_id is None else int(view.parent_id)
        if view.depth > 1:  # a reply to a reply: Isso lists it under its top-level comment
            own = comment_domain.access_own_comment(services, view.id, posted.edit_token)
            root = int(own.root_id) if own.root_id else root
        return posted, root

    posted, root = await run_in_threadpool(submit)
    view = posted.comment
    item = from_view(view, root, context.avatar(reader.reader_id, view.author.name))
    held = posted.status is not CommentStatus.PUBLISHED
    response = json_response(item, 202 if held else 201)
    _set_edit_cookie(response, context, item, posted.edit_token)
    if reader.new_token:
        response.raw_headers.append(_encode(reader_cookie(context.cookies, reader.new_token)))
    return response


async def view(request: Request, context: IssoContext) -> Response:
    comment_id: int = request.path_params["id"]
    token = await _edit_token(request, context, comment_id)
    services = context.state.services
    own = await run_in_threadpool(comment_domain.access_own_comment, services, comment_id, token)
    if own.site_key != context.site.key:
        raise NotFound(f"comment {comment_id} does not exist", field="id")
    plain = one_param(request, "plain") not in (None, "", "0")
    item = from_view(
        own.comment,
        None if own.root_id is None else int(own.root_id),
        context.avatar(own.reader_id, own.comment.author.name),
        text=own.text if plain else None,
    )
    return json_response(item)


async def edit(request: Request, context: IssoContext) -> Response:
    check_xhr(request, context.site)
    comment_id: int = request.path_params["id"]
    body = await json_body(request, EditIn, context.max_body)
    _check_text(body.text)
    token = await _edit_token(request, context, comment_id)
    reader = reader_of(request, context, mint=False)
    services = context.state.services

    def run() -> IssoComment:
        own = comment_domain.access_own_comment(services, comment_id, token)
        if own.site_key != context.site.key:
            raise NotFound(f"comment {comment_id} does not exist", field="id")
        changed = comment_domain.edit_comment(services, comment_id, token, body.text, reader)
        return from_view(
            changed,
            None if own.root_id is None else int(own.root_id),
            context.avatar(own.reader_id, changed.author.name),
        )

    item = await run_in_threadpool(run)
    response = json_response(item)
    _set_edit_cookie(response, context, item, token)
    return response


async def delete(request: Request, context: IssoContext) -> Response:
    check_xhr(request, context.site)
    comment_id: int = request.path_params["id"]
    token = await _edit_token(request, context, comment_id)
    services = context.state.services

    def run() -> IssoComment | None:
        own = comment_domain.access_own_comment(services, comment_id, token)
        if own.site_key != context.site.key:
            raise NotFound(f"comment {comment_id} does not exist", field="id")
        kept = comment_domain.delete_comment(services, comment_id, token)
        if kept is None:
            return None
        return from_view(kept, None if own.root_id is None else int(own.root_id), "")

    item = await run_in_threadpool(run)
    response = json_response(item)  # null: gone; else a tombstone (mode 4) that has replies
    for header in EditCookies.headers(context.cookies, comment_id, "", 0):
        response.raw_headers.append(_encode(header))
    return response


async def like(request: Request, context: IssoContext) -> Response:
    return await _vote(request, context, 1)


async def dislike(request: Request, context: IssoContext) -> Response:
    return await _vote(request, context, -1)


async def _vote(request: Request, context: IssoContext, value: int) -> Response:
    check_xhr(request, context.site)
    comment_id: int = request.path_params["id"]
    # One vote per reader cookie, or per address without one (as Isso does): minting a new
    # reader here would let a browser that drops cookies vote again with every click.
    reader = reader_of(request, context, mint=False)
    services = context.state.services

    def run() -> tuple[int, int]:
        if comment_domain.site_of_comment(services, comment_id).id != context.site.id:
            raise NotFound(f"comment {comment_id} does not exist", field="id")
        return comment_domain.vote(services, comment_id, value, reader)

    likes, dislikes = await run_in_threadpool(run)
    return json_response(Votes(likes=likes, dislikes=dislikes))


# -- helpers -------------------------------------------------------------------------------


def _uri(request: Request) -> str:
    raw = one_param(request, "uri")
    if raw is None:
        raise InvalidInput("query parameter 'uri' is required: the page's path", field="uri")
    return thread_domain.check_thread_key(raw, field="uri")


def _number(request: Request, name: str) -> int | None:
    raw = one_param(request, name)
    if raw is None or raw in ("", "inf"):
        return None
    if not _NUMBER.fullmatch(raw):
        raise InvalidInput(f"{name} should be a non-negative integer", field=name)
    return int(raw)


def _query(request: Request) -> Query:
    sort_raw = one_param(request, "sort") or ""
    if sort_raw not in _SORTS:
        raise InvalidInput("sort must be one of: newest, oldest, upvotes", field="sort")
    after_raw = one_param(request, "after")
    after = 0.0
    if after_raw:
        try:
            after = float(after_raw)
        except ValueError:
            after = math.nan
        if not math.isfinite(after):
            raise InvalidInput("after should be a Unix timestamp", field="after")
    return Query(
        sort=_SORTS[sort_raw],
        limit=_number(request, "limit"),
        nested_limit=_number(request, "nested_limit"),
        parent=_number(request, "parent"),
        offset=_number(request, "offset") or 0,
        after=max(0.0, after),
        plain=one_param(request, "plain") not in (None, "", "0"),
    )


def _check_text(text: str) -> None:
    if len(text.strip()) < MIN_TEXT:
        raise InvalidInput(f"text is too short (minimum length: {MIN_TEXT})", field="text")


def _article_url(request: Request, context: IssoContext, uri: str) -> str | None:
    """The article's URL, from the page's origin and the thread's path (Isso sends no URL)."""
    origin = request.headers.get("origin")
    if not uri.startswith("/") or not origin or not context.site.allows_origin(origin):
        return None
    url = origin.rstrip("/") + uri
    return url if len(url) <= 2048 else None


async def _edit_token(request: Request, context: IssoContext, comment_id: int) -> str:
    window = context.site.edit_window_seconds
    token = context.edit_cookies.token_for(request, comment_id, window + _COOKIE_SLACK)
    if token is None:
        # A missing comment is a 404 even without a cookie, as in Isso.
        services = context.state.services
        await run_in_threadpool(comment_domain.site_of_comment, services, comment_id)
        raise Unauthorized(
            "no valid cookie for this comment: only its author may change it, within "
            f"{window // 60} minutes of posting, from the browser that posted it",
            field="cookie",
        )
    return token


def _set_edit_cookie(
    response: Response, context: IssoContext, item: IssoComment, token: str
) -> None:
    """Isso's per-comment cookie, living as long as the comment's edit window is open."""
    age = dt.datetime.now(dt.UTC).timestamp() - item.created
    remaining = int(context.site.edit_window_seconds - age)
    if remaining <= 0:
        return
    value = context.edit_cookies.sign(item.id, token)
    for header in EditCookies.headers(context.cookies, item.id, value, remaining):
        response.raw_headers.append(_encode(header))


def _encode(header: tuple[str, str]) -> tuple[bytes, bytes]:
    return header[0].encode("latin-1"), header[1].encode("latin-1")


def _conditional(request: Request, encoded: Encoded, media_type: str, *, private: bool) -> Response:
    headers = {
        "ETag": encoded.etag,
        "Cache-Control": "private, no-cache" if private else "public, no-cache",
        "Vary": "Accept-Encoding, Cookie",
    }
    inm = request.headers.get("if-none-match")
    if inm and encoded.etag in {t.strip() for t in inm.split(",")}:
        return Response(status_code=304, headers=headers)
    if encoded.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(encoded.gzipped, media_type=media_type, headers=headers)
    return Response(encoded.body, media_type=media_type, headers=headers)
