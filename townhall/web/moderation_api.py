"""The moderation API (issue 4): JSON for moderators' tools and the moderator pages' scripts.

Authenticated by ``Authorization: Bearer <token>`` (tokens an admin creates) or by the moderator
session cookie, in which case every change also needs the session's ``X-CSRF-Token`` header.
Each handler parses, checks the user may act on the site concerned, calls one domain function
in a worker thread and serialises. Errors use the envelope of API.md. Every action lands in the
audit log with who, when and why (the domain writes it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from townhall.domain import accounts, dashboard, moderation
from townhall.domain.accounts import User
from townhall.domain.errors import InvalidInput
from townhall.domain.sites import list_sites
from townhall.moderation.policy import Policy
from townhall.web.admin.guard import api_user
from townhall.web.body import json_body
from townhall.web.openapi import Operation, Param
from townhall.web.state import web_state

T = TypeVar("T")
PREFIX = "/api/v1/moderation"
ACTIONS = {
    "approve": moderation.approve,
    "reject": moderation.reject,
    "spam": moderation.mark_spam,
    "remove": moderation.remove,
    "restore": moderation.restore,
}
BULK_ACTIONS = {"approve": "approve", "reject": "reject", "spam": "mark_spam",
                "mark_spam": "mark_spam", "remove": "remove", "restore": "restore"}  # fmt: skip


# --- request and response bodies ---------------------------------------------------------------


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = ""


class EditIn(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    reason: str = ""


class BulkIn(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    ids: list[str]
    reason: str = ""


class BanIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: str  # reader, email or ip
    reason: str
    comment_id: str | None = None  # ban this comment's author...
    value: str | None = None  # ...or this hash / email / address
    site: str | None = None  # with value: the site (the comment's site otherwise)
    all_sites: bool = False  # admins only
    hours: float | None = None  # a timed ban; None: permanent
    until: dt.datetime | None = None
    shadow: bool = False


class PremoderationIn(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool | None
    reason: str = ""


class PolicyIn(msgspec.Struct, forbid_unknown_fields=True):
    changes: dict[str, Any]
    reason: str = ""


class NoteIn(msgspec.Struct, forbid_unknown_fields=True):
    note: str


class BulkOut(msgspec.Struct):
    results: list[moderation.BulkOutcome]


class BansOut(msgspec.Struct):
    bans: list[moderation.BanView]


class CountsOut(msgspec.Struct):
    pending: int
    flagged: int


class MeOut(msgspec.Struct):
    email: str
    role: str
    sites: list[str]


class PolicyOut(msgspec.Struct):
    site: str
    policy: Policy


# --- helpers -----------------------------------------------------------------------------------


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        msgspec.json.encode(data),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def _body(request: Request, kind: type[T], *, optional: bool = False) -> T:
    limit = web_state(request).services.settings.max_body_bytes
    empty = request.headers.get("content-length", "0") == "0"
    if optional and empty and "transfer-encoding" not in request.headers:
        return kind()
    return await json_body(request, kind, limit)


def _one(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise InvalidInput(f"give query parameter {name!r} once", field=name)
    return values[0].strip() if values and values[0].strip() else None


def _number(request: Request, name: str) -> float | None:
    raw = _one(request, name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number between 0 and 1", field=name) from None


def _int(request: Request, name: str, default: int | None = None) -> int | None:
    raw = _one(request, name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(f"{name} must be a whole number", field=name)
    return int(raw)


def _limit(request: Request) -> int:
    found = _int(request, "limit", 50)
    return 50 if found is None else found


def _flag(request: Request, name: str) -> bool:
    raw = (_one(request, name) or "").lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise InvalidInput(f"{name} must be true or false", field=name)


def site_scope(services: Any, user: User, requested: list[str]) -> list[str] | None:
    """The site keys a listing covers; None means every site (an admin asking for all)."""
    if user.is_admin and not requested:
        return None
    return accounts.site_scope(user, requested, list_sites(services.db))


def queue_filter(request: Request, user: User, status: str | None = None) -> moderation.QueueFilter:
    """The queue's filters from a query string (shared with the moderator pages)."""
    services = web_state(request).services
    sites = site_scope(services, user, request.query_params.getlist("site"))
    thread = _one(request, "thread")
    if thread is not None:
        accounts.access_thread(services, user, thread)
    return moderation.QueueFilter(
        status=status or _one(request, "status") or "pending",
        sites=sites,
        thread_id=int(thread) if thread else None,
        min_score=_number(request, "min_score"),
        max_score=_number(request, "max_score"),
        check=_one(request, "check"),
        reason=_one(request, "reason"),
        flagged_only=_flag(request, "flagged"),
        search=_one(request, "q"),
        cursor=_one(request, "cursor"),
        limit=_limit(request),
    )


Api = Callable[[Request, User], Awaitable[Response]]


def api(handler: Api) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handler(request, await api_user(request))

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


# --- handlers ----------------------------------------------------------------------------------


async def me(request: Request, user: User) -> Response:
    services = web_state(request).services
    sites = await run_in_threadpool(accounts.moderated_sites, services, user)
    return _json(MeOut(email=user.email, role=user.role.value, sites=[s.key for s in sites]))


async def queue(request: Request, user: User) -> Response:
    services = web_state(request).services

    def run() -> moderation.QueuePage:
        return moderation.queue(services, queue_filter(request, user))

    return _json(await run_in_threadpool(run))


async def counts(request: Request, user: User) -> Response:
    services = web_state(request).services

    def run() -> dict[str, int]:
        sites = site_scope(services, user, request.query_params.getlist("site"))
        return dashboard.queue_counts(services, sites)

    found = await run_in_threadpool(run)
    return _json(CountsOut(pending=found["pending"], flagged=found["flagged"]))


async def act(request: Request, user: User) -> Response:
    services = web_state(request).services
    action = ACTIONS.get(request.path_params["action"])
    if action is None:
        raise InvalidInput(
            "action must be one of: " + ", ".join(ACTIONS), field="action", code="not_found"
        )
    body = await _body(request, ReasonIn, optional=True)
    comment_id = request.path_params["id"]

    def run() -> moderation.ActionResult:
        accounts.access_comment(services, user, comment_id)
        return action(services, user.email, comment_id, body.reason)

    return _json(await run_in_threadpool(run))


async def edit(request: Request, user: User) -> Response:
    services = web_state(request).services
    body = await _body(request, EditIn)
    comment_id = request.path_params["id"]

    def run() -> moderation.ActionResult:
        accounts.access_comment(services, user, comment_id)
        return moderation.edit_comment(services, user.email, comment_id, body.text, body.reason)

    return _json(await run_in_threadpool(run))


async def bulk(request: Request, user: User) -> Response:
    services = web_state(request).services
    body = await _body(request, BulkIn)
    action = BULK_ACTIONS.get(body.action)
    if action is None:
        raise InvalidInput("action must be one of: " + ", ".join(BULK_ACTIONS), field="action")
    if not body.ids:
        raise InvalidInput("ids is empty: select comments first", field="ids")

    def run() -> list[moderation.BulkOutcome]:
        for cid in dict.fromkeys(body.ids):  # every one is checked before any changes
            accounts.access_comment(services, user, cid)
        return moderation.bulk(services, user.email, action, body.ids, body.reason)

    return _json(BulkOut(results=await run_in_threadpool(run)))


async def author(request: Request, user: User) -> Response:
    services = web_state(request).services
    comment_id = request.path_params["id"]

    def run() -> moderation.ReaderHistory:
        accounts.access_comment(services, user, comment_id)
        return moderation.reader_history(services, comment_id, limit=_limit(request))

    return _json(await run_in_threadpool(run))


async def add_note(request: Request, user: User) -> Response:
    services = web_state(request).services
    body = await _body(request, NoteIn)
    comment_id = request.path_params["id"]

    def run() -> moderation.NoteView:
        accounts.access_comment(services, user, comment_id)
        return moderation.add_reader_note(services, user.email, comment_id, body.note)

    return _json(await run_in_threadpool(run), 201)


def ban_until(hours: float | None, until: dt.datetime | None) -> dt.datetime | None:
    if hours is not None and until is not None:
        raise InvalidInput("give hours or until, not both", field="hours")
    if hours is not None:
        if not 0 < hours <= 24 * 365 * 10:
            raise InvalidInput("hours must be more than 0 (at most ten years)", field="hours")
        return dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)
    return until


def check_ban_scope(services: Any, user: User, body: BanIn) -> None:
    if body.all_sites:
        accounts.require_admin(user)
    elif body.comment_id is not None:
        accounts.access_comment(services, user, body.comment_id)
    else:
        accounts.access_site(services, user, body.site)


async def create_ban(request: Request, user: User) -> Response:
    services = web_state(request).services
    body = await _body(request, BanIn)
    until = ban_until(body.hours, body.until)

    def run() -> moderation.BanView:
        check_ban_scope(services, user, body)
        return moderation.ban(
            services,
            user.email,
            kind=body.kind,
            reason=body.reason,
            comment_id=body.comment_id,
            value=body.value,
            site=body.site,
            all_sites=body.all_sites,
            until=until,
            shadow=body.shadow,
        )

    return _json(await run_in_threadpool(run), 201)


async def bans(request: Request, user: User) -> Response:
    services = web_state(request).services

    def run() -> list[moderation.BanView]:
        sites = site_scope(services, user, request.query_params.getlist("site"))
        active = not _flag(request, "all")
        return moderation.list_bans(services, sites=sites, active_only=active)

    return _json(BansOut(bans=await run_in_threadpool(run)))


async def lift_ban(request: Request, user: User) -> Response:
    services = web_state(request).services
    body = await _body(request, ReasonIn, optional=True)
    ban_id = request.path_params["id"]

    def run() -> moderation.BanView:
        accounts.access_ban(services, user, ban_id)
        return moderation.unban(services, user.email, ban_id, body.reason)

    return _json(await run_in_threadpool(run))


async def thread_action(request: Request, user: User) -> Response:
    services = web_state(request).services
    thread_id = request.path_params["id"]
    verb = request.path_params["action"]
    if verb not in ("close", "reopen"):
        raise InvalidInput("action must be close or reopen", field="action", code="not_found")
    body = await _body(request, ReasonIn, optional=True)
    change = moderation.close_thread if verb == "close" else moderation.reopen_thread

    def run() -> moderation.ThreadResult:
        accounts.access_thread(services, user, thread_id)
        return change(services, user.email, thread_id, body.reason)

    return _json(await run_in_threadpool(run))


async def thread_premoderation(request: Request, user: User) -> Response:
    services = web_state(request).services
    thread_id = request.path_params["id"]
    body = await _body(request, PremoderationIn)

    def run() -> moderation.ThreadResult:
        accounts.access_thread(services, user, thread_id)
        return moderation.set_thread_premoderation(
            services, user.email, thread_id, body.enabled, body.reason
        )

    return _json(await run_in_threadpool(run))


async def get_policy(request: Request, user: User) -> Response:
    services = web_state(request).services
    key = request.path_params["key"]

    def run() -> Policy:
        accounts.access_site(services, user, key)
        return moderation.get_policy(services, key)

    return _json(PolicyOut(site=key, policy=await run_in_threadpool(run)))


async def update_policy(request: Request, user: User) -> Response:
    services = web_state(request).services
    key = request.path_params["key"]
    body = await _body(request, PolicyIn)

    def run() -> Policy:
        accounts.access_site(services, user, key)
        return moderation.update_policy(services, user.email, key, body.changes, body.reason)

    return _json(PolicyOut(site=key, policy=await run_in_threadpool(run)))


def audit_filter(request: Request, user: User) -> moderation.AuditFilter:
    services = web_state(request).services
    sites = site_scope(services, user, request.query_params.getlist("site"))
    thread = _one(request, "thread")
    comment = _one(request, "comment")
    if thread is not None:
        accounts.access_thread(services, user, thread)
    if comment is not None:
        accounts.access_comment(services, user, comment)
    return moderation.AuditFilter(
        sites=sites,
        actor=_one(request, "actor"),
        action=_one(request, "action"),
        comment_id=comment,
        thread_id=thread,
        cursor=_one(request, "cursor"),
        limit=_limit(request),
    )


async def audit(request: Request, user: User) -> Response:
    services = web_state(request).services

    def run() -> moderation.AuditPage:
        return moderation.audit_log(services, audit_filter(request, user))

    return _json(await run_in_threadpool(run))


# --- the routes, with their OpenAPI description ------------------------------------------------

ID = Param("id", "path", "Comment id", schema={"type": "string", "pattern": "^[0-9]+$"})
SITE = Param("site", "query", "Site key (repeatable); default: every site you moderate", array=True)
AUTH = (401, 403, 404, 413, 415, 422)
CHANGE = (400, 401, 403, 404, 409, 413, 415, 422)
SECURITY = ("bearerToken", "moderatorSession")  # openapi.SECURITY_SCHEMES; api_user takes either


def _op(summary: str, **more: Any) -> Operation:
    more.setdefault("errors", AUTH)
    return Operation(summary, tag="moderation", security=SECURITY, **more)


OPERATIONS: list[tuple[str, str, Operation]] = [
    (f"{PREFIX}/me", "GET", _op("Who you are: email, role, the sites you moderate",
                                 responses={200: MeOut})),
    (
        f"{PREFIX}/queue",
        "GET",
        _op(
            "The moderation queue, newest first, with every check's reason and score",
            responses={200: moderation.QueuePage},
            params=(
                Param("status", "query", "pending (default), flagged, recent, rejected or spam",
                      schema={"type": "string",
                              "enum": ["pending", "flagged", "recent", "rejected", "spam"]}),
                SITE,
                Param("thread", "query", "Thread id"),
                Param("min_score", "query", "Lowest toxicity score", schema={"type": "number"}),
                Param("max_score", "query", "Highest toxicity score", schema={"type": "number"}),
                Param("check", "query", "Only comments this check acted on (e.g. toxicity)"),
                Param("reason", "query", "Only comments with a reason containing this text"),
                Param("flagged", "query", "Only comments readers flagged",
                      schema={"type": "boolean"}),
                Param("q", "query", "Search the text, author name and email"),
                Param("cursor", "query", "next_cursor of the previous page"),
                Param("limit", "query", "1-200, default 50", schema={"type": "integer"}),
            ),
        ),
    ),
    (f"{PREFIX}/counts", "GET", _op("Comments waiting in Pending and Flagged",
                                     responses={200: CountsOut}, params=(SITE,))),
    (
        f"{PREFIX}/comments/{{id}}/{{action}}",
        "POST",
        _op(
            "Approve, reject, mark as spam, remove or restore a comment, with a reason",
            body=ReasonIn,
            responses={200: moderation.ActionResult},
            params=(ID, Param("action", "path", "approve, reject, spam, remove or restore")),
            errors=CHANGE,
            description="The body is optional. Reject applies to held comments; a published "
            "comment is removed (a tombstone while it has replies).",
        ),
    ),
    (
        f"{PREFIX}/comments/{{id}}",
        "PATCH",
        _op("Edit a comment's text (the old text goes to the audit log)", body=EditIn,
            responses={200: moderation.ActionResult}, params=(ID,), errors=CHANGE),
    ),
    (
        f"{PREFIX}/bulk",
        "POST",
        _op("One decision on up to 200 comments; each succeeds or fails on its own",
            body=BulkIn, responses={200: BulkOut}, errors=CHANGE),
    ),
    (
        f"{PREFIX}/comments/{{id}}/author",
        "GET",
        _op("The comment author's history on its site: counts, comments, bans, notes",
            responses={200: moderation.ReaderHistory}, params=(ID,)),
    ),
    (
        f"{PREFIX}/comments/{{id}}/author/notes",
        "POST",
        _op("Add a moderators' note on the comment's author", body=NoteIn,
            responses={201: moderation.NoteView}, params=(ID,), errors=CHANGE),
    ),
    (
        f"{PREFIX}/bans",
        "GET",
        _op("Bans on your sites (active only unless all=true)", responses={200: BansOut},
            params=(SITE, Param("all", "query", "Include lifted and expired bans",
                                schema={"type": "boolean"}))),
    ),
    (
        f"{PREFIX}/bans",
        "POST",
        _op("Ban, time-ban or shadow-ban a comment's author or a given email / address",
            body=BanIn, responses={201: moderation.BanView}, errors=CHANGE),
    ),
    (
        f"{PREFIX}/bans/{{id}}/lift",
        "POST",
        _op("Lift a ban (unban)", body=ReasonIn, responses={200: moderation.BanView},
            params=(Param("id", "path", "Ban id"),), errors=CHANGE),
    ),
    (
        f"{PREFIX}/threads/{{id}}/{{action}}",
        "POST",
        _op("Close or reopen a thread", body=ReasonIn, responses={200: moderation.ThreadResult},
            params=(Param("id", "path", "Thread id"),
                    Param("action", "path", "close or reopen")), errors=CHANGE),
    ),
    (
        f"{PREFIX}/threads/{{id}}/premoderation",
        "PUT",
        _op("Hold every new comment of a thread (true), never by this rule (false), or follow "
            "the site (null)", body=PremoderationIn, responses={200: moderation.ThreadResult},
            params=(Param("id", "path", "Thread id"),), errors=CHANGE),
    ),
    (
        f"{PREFIX}/sites/{{key}}/policy",
        "GET",
        _op("A site's moderation policy", responses={200: PolicyOut},
            params=(Param("key", "path", "Site key"),)),
    ),
    (
        f"{PREFIX}/sites/{{key}}/policy",
        "PATCH",
        _op("Change some fields of a site's policy (validated as a whole)", body=PolicyIn,
            responses={200: PolicyOut}, params=(Param("key", "path", "Site key"),),
            errors=CHANGE),
    ),
    (
        f"{PREFIX}/log",
        "GET",
        _op("The audit log, newest first", responses={200: moderation.AuditPage},
            params=(SITE, Param("actor", "query", "Moderator email or system"),
                    Param("action", "query", "e.g. approve, reject, ban, update_policy"),
                    Param("comment", "query", "Comment id"), Param("thread", "query", "Thread id"),
                    Param("cursor", "query", "next_cursor of the previous page"),
                    Param("limit", "query", "1-200, default 50", schema={"type": "integer"}))),
    ),
]  # fmt: skip

HANDLERS: dict[tuple[str, str], Api] = {
    (f"{PREFIX}/me", "GET"): me,
    (f"{PREFIX}/queue", "GET"): queue,
    (f"{PREFIX}/counts", "GET"): counts,
    (f"{PREFIX}/comments/{{id}}/{{action}}", "POST"): act,
    (f"{PREFIX}/comments/{{id}}", "PATCH"): edit,
    (f"{PREFIX}/bulk", "POST"): bulk,
    (f"{PREFIX}/comments/{{id}}/author", "GET"): author,
    (f"{PREFIX}/comments/{{id}}/author/notes", "POST"): add_note,
    (f"{PREFIX}/bans", "GET"): bans,
    (f"{PREFIX}/bans", "POST"): create_ban,
    (f"{PREFIX}/bans/{{id}}/lift", "POST"): lift_ban,
    (f"{PREFIX}/threads/{{id}}/{{action}}", "POST"): thread_action,
    (f"{PREFIX}/threads/{{id}}/premoderation", "PUT"): thread_premoderation,
    (f"{PREFIX}/sites/{{key}}/policy", "GET"): get_policy,
    (f"{PREFIX}/sites/{{key}}/policy", "PATCH"): update_policy,
    (f"{PREFIX}/log", "GET"): audit,
}


def moderation_api_routes() -> list[BaseRoute]:
    """The moderation API's routes, one per path (methods dispatched here)."""
    by_path: dict[str, dict[str, Api]] = {}
    for (path, method), handler in HANDLERS.items():
        by_path.setdefault(path, {})[method] = handler
    routes: list[BaseRoute] = []
    # Literal paths first, so /comments/{id}/author is not taken for an action named "author".
    ordered = sorted(by_path.items(), key=lambda item: ("{action}" in item[0], item[0]))
    for path, handlers in ordered:
        routes.append(Route(path, _dispatch(handlers), methods=list(handlers)))
    return routes


def _dispatch(handlers: dict[str, Api]) -> Callable[[Request], Awaitable[Response]]:
    wrapped = {method: api(h) for method, h in handlers.items()}

    async def endpoint(request: Request) -> Response:
        return await wrapped[request.method](request)

    return endpoint
