"""Every route of townhall, in one table, top to bottom. Reader API operations also carry
their OpenAPI description, so the document is generated from this same table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from townhall.domain.views import ThreadPage
from townhall.web import api, assets, demo, live, ops
from townhall.web.admin import admin_routes
from townhall.web.isso import isso_routes
from townhall.web.moderation_api import OPERATIONS as MODERATION_OPERATIONS
from townhall.web.moderation_api import moderation_api_routes
from townhall.web.openapi import Operation, Param
from townhall.web.schemas import (
    CommentOut,
    CountsIn,
    CountsOut,
    EditIn,
    FlagIn,
    FlagOut,
    HealthOut,
    NewCommentIn,
    PostedOut,
    PreviewIn,
    PreviewOut,
    VoteIn,
    VoteOut,
)

Endpoint = Callable[[Request], Awaitable[Response]]

SITE = Param("site", "query", "Site key (data-townhall-site)", required=True)
THREAD = Param("thread", "query", "Thread key: the article id or URL path", required=True)
READER = Param("X-Townhall-Reader", "header", "Reader token from an earlier write response")
EDIT_TOKEN = Param(
    "X-Townhall-Edit-Token", "header", "The edit_token returned when posting", required=True
)
COMMENT_ID = Param("id", "path", "Comment id", schema={"type": "string", "pattern": "^[0-9]+$"})

OPERATIONS: list[tuple[str, str, Operation]] = [
    (
        "/api/v1/comments",
        "GET",
        Operation(
            "List a thread: top-level comments with their replies, depth-first",
            responses={200: ThreadPage, 304: None},
            params=(
                SITE,
                THREAD,
                Param(
                    "sort",
                    "query",
                    "oldest (default), newest or top",
                    schema={"type": "string", "enum": ["oldest", "newest", "top"]},
                ),
                Param(
                    "limit",
                    "query",
                    "Top-level comments per page (1-100, default 20)",
                    schema={"type": "integer", "minimum": 1, "maximum": 100},
                ),
                Param("cursor", "query", "next_cursor or more_replies_cursor of a previous page"),
                READER,
            ),
        ),
    ),
    (
        "/api/v1/comments",
        "POST",
        Operation(
            "Post a comment or a reply as a guest",
            body=NewCommentIn,
            responses={201: PostedOut, 202: PostedOut},
            params=(READER,),
            errors=(400, 403, 404, 409, 413, 415, 422, 429),
        ),
    ),
    (
        "/api/v1/comments/{id}",
        "PATCH",
        Operation(
            "Edit one's own comment within the edit window",
            body=EditIn,
            responses={200: CommentOut},
            params=(COMMENT_ID, EDIT_TOKEN),
            errors=(400, 401, 403, 404, 409, 413, 415, 422, 429),
        ),
    ),
    (
        "/api/v1/comments/{id}",
        "DELETE",
        Operation(
            "Delete one's own comment (a tombstone if it has replies)",
            responses={200: CommentOut},
            params=(COMMENT_ID, EDIT_TOKEN),
            errors=(400, 401, 403, 404, 422),
        ),
    ),
    (
        "/api/v1/comments/{id}/vote",
        "POST",
        Operation(
            "Like (1), dislike (-1) or withdraw (0); one vote per reader",
            body=VoteIn,
            responses={200: VoteOut},
            params=(COMMENT_ID, READER),
            errors=(400, 403, 404, 413, 415, 422),
        ),
    ),
    (
        "/api/v1/comments/{id}/flag",
        "POST",
        Operation(
            "Flag a comment for moderators; one flag per reader",
            body=FlagIn,
            responses={202: FlagOut},
            params=(COMMENT_ID, READER),
            errors=(400, 403, 404, 413, 415, 422),
        ),
    ),
    (
        "/api/v1/counts",
        "GET",
        Operation(
            "Visible comment counts of up to 100 threads",
            responses={200: CountsOut},
            params=(SITE, Param("thread", "query", "Thread keys", required=True, array=True)),
        ),
    ),
    (
        "/api/v1/counts",
        "POST",
        Operation(
            "Visible comment counts of up to 100 threads",
            body=CountsIn,
            responses={200: CountsOut},
        ),
    ),
    (
        "/api/v1/preview",
        "POST",
        Operation(
            "Render comment Markdown as the server would",
            body=PreviewIn,
            responses={200: PreviewOut},
        ),
    ),
    (
        "/healthz",
        "GET",
        Operation(
            "Liveness and database reachability",
            responses={200: HealthOut, 503: HealthOut},
            errors=(),
            tag="operations",
        ),
    ),
]

_HANDLERS: dict[tuple[str, str], Endpoint] = {
    ("/api/v1/comments", "GET"): api.list_comments,
    ("/api/v1/comments", "POST"): api.post_comment,
    ("/api/v1/comments/{id}", "PATCH"): api.edit_comment,
    ("/api/v1/comments/{id}", "DELETE"): api.delete_comment,
    ("/api/v1/comments/{id}/vote", "POST"): api.vote,
    ("/api/v1/comments/{id}/flag", "POST"): api.flag,
    ("/api/v1/counts", "GET"): api.counts_get,
    ("/api/v1/counts", "POST"): api.counts_post,
    ("/api/v1/preview", "POST"): api.preview,
    ("/healthz", "GET"): ops.healthz,
}


def _documented() -> list[BaseRoute]:
    by_path: dict[str, list[str]] = {}
    for path, method, _op in OPERATIONS:
        by_path.setdefault(path, []).append(method)
    routes: list[BaseRoute] = []
    for path, methods in by_path.items():
        handlers = {m: _HANDLERS[(path, m)] for m in methods}
        routes.append(Route(path, _dispatch(handlers), methods=methods))
    return routes


def _dispatch(handlers: dict[str, Endpoint]) -> Endpoint:
    if len(handlers) == 1:
        return next(iter(handlers.values()))

    async def endpoint(request: Request) -> Response:
        return await handlers[request.method](request)

    return endpoint


def documented_operations() -> list[tuple[str, str, Operation]]:
    """Everything in the OpenAPI document: the reader API, then the moderation API."""
    return [*OPERATIONS, *MODERATION_OPERATIONS]


def routes() -> list[BaseRoute]:
    return [
        *_documented(),
        Route("/api/v1/events", live.events, methods=["GET"]),
        Route("/api/v1/unsubscribe", api.unsubscribe, methods=["GET"]),
        Route("/metrics", ops.metrics, methods=["GET"]),
        Route("/api/openapi.json", ops.openapi_json, methods=["GET"]),
        Route("/api/docs", ops.api_docs, methods=["GET"]),
        Route("/embed.js", assets.embed_js, methods=["GET"]),
        Route("/count.js", assets.count_js, methods=["GET"]),
        Route("/static/{path:path}", assets.static_file, methods=["GET"]),
        Route("/", demo.article, methods=["GET"]),
        Route("/listing", demo.listing, methods=["GET"]),
        *moderation_api_routes(),  # the moderation API, docs/moderators.md
        Mount("/admin", routes=admin_routes()),  # the moderator pages, docs/moderators.md
        Mount("/isso/{site}", routes=isso_routes()),  # the Isso-compatible API, docs/isso.md
    ]
