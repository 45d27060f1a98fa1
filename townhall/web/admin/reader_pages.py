"""A reader's page (every comment of theirs on the site, bans, moderators' notes) and bans."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from townhall.domain import accounts, moderation
from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.domain.sites import Site
from townhall.web.admin.render import read_form, redirect, render
from townhall.web.moderation_api import BanIn, ban_until, check_ban_scope, site_scope
from townhall.web.state import web_state

DURATIONS = {"": "permanently", "24": "for 1 day", "168": "for 7 days", "720": "for 30 days"}


def _back(form: Any, default: str) -> str:
    value = form.get("next")
    return value if isinstance(value, str) and value else default


async def reader_page(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    comment_id = request.path_params["id"]

    def run() -> moderation.ReaderHistory:
        accounts.access_comment(services, user, comment_id)
        return moderation.reader_history(services, comment_id, limit=moderation.MAX_PAGE)

    history = await run_in_threadpool(run)
    return render(
        request, "admin/reader.html", history=history, comment_id=comment_id, durations=DURATIONS
    )


async def add_note(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    comment_id = request.path_params["id"]
    form = await read_form(request)
    back = f"/admin/comments/{comment_id}/author"

    def run() -> None:
        accounts.access_comment(services, user, comment_id)
        moderation.add_reader_note(services, user.email, comment_id, str(form.get("note", "")))

    try:
        await run_in_threadpool(run)
    except (InvalidInput, Conflict) as exc:
        return redirect(request, back, exc.message, "error")
    return redirect(request, back, "Note added.")


def _ban_form(form: Any, **fixed: Any) -> tuple[BanIn, Any]:
    hours_raw = str(form.get("hours", ""))
    if hours_raw not in DURATIONS:
        raise InvalidInput("choose how long the ban lasts", field="hours")
    body = BanIn(
        kind=str(form.get("kind", "reader")),
        reason=str(form.get("reason", "")),
        shadow=form.get("shadow") == "1",
        all_sites=form.get("all_sites") == "1",
        hours=float(hours_raw) if hours_raw else None,
        **fixed,
    )
    return body, ban_until(body.hours, None)


def _ban_message(ban: moderation.BanView) -> str:
    kind = "Shadow-banned" if ban.shadow else "Banned"
    until = f" until {ban.until:%Y-%m-%d %H:%M} UTC" if ban.until else ""
    where = f"on {ban.site}" if ban.site else "on every site"
    return f"{kind} the {ban.kind} {ban.value_prefix}… {where}{until} (ban {ban.id})."


async def ban_author(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    comment_id = request.path_params["id"]
    form = await read_form(request)
    back = _back(form, f"/admin/comments/{comment_id}/author")

    def run() -> moderation.BanView:
        body, until = _ban_form(form, comment_id=comment_id)
        check_ban_scope(services, user, body)
        return moderation.ban(
            services,
            user.email,
            kind=body.kind,
            reason=body.reason,
            comment_id=comment_id,
            all_sites=body.all_sites,
            until=until,
            shadow=body.shadow,
        )

    try:
        ban = await run_in_threadpool(run)
    except (InvalidInput, Conflict) as exc:
        return redirect(request, back, exc.message, "error")
    return redirect(request, back, _ban_message(ban))


async def bans_page(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    show_all = request.query_params.get("all") == "1"

    def run() -> tuple[list[moderation.BanView], list[Site]]:
        scope = site_scope(services, user, request.query_params.getlist("site"))
        found = moderation.list_bans(services, sites=scope, active_only=not show_all)
        return found, accounts.moderated_sites(services, user)

    found, sites = await run_in_threadpool(run)
    return render(
        request, "admin/bans.html", bans=found, sites=sites, show_all=show_all, durations=DURATIONS
    )


async def ban_value(request: Request, user: accounts.User) -> Response:
    """Ban an email address or IP address typed by a moderator (hashed before it is stored)."""
    services = web_state(request).services
    form = await read_form(request)

    def run() -> moderation.BanView:
        body, until = _ban_form(
            form, value=str(form.get("value", "")), site=str(form.get("site", "")) or None
        )
        check_ban_scope(services, user, body)
        return moderation.ban(
            services,
            user.email,
            kind=body.kind,
            reason=body.reason,
            value=body.value,
            site=body.site,
            all_sites=body.all_sites,
            until=until,
            shadow=body.shadow,
        )

    try:
        ban = await run_in_threadpool(run)
    except (InvalidInput, Conflict, NotFound) as exc:
        return redirect(request, "/admin/bans", exc.message, "error")
    return redirect(request, "/admin/bans", _ban_message(ban))


async def lift_ban(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    ban_id = request.path_params["id"]
    form = await read_form(request)
    back = _back(form, "/admin/bans")

    def run() -> moderation.BanView:
        accounts.access_ban(services, user, ban_id)
        return moderation.unban(services, user.email, ban_id, str(form.get("reason", "")))

    try:
        ban = await run_in_threadpool(run)
    except (InvalidInput, Conflict) as exc:
        return redirect(request, back, exc.message, "error")
    return redirect(request, back, f"Lifted ban {ban.id}.")
