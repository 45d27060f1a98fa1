"""Users and API tokens (admins only: the routes are declared admin-only in routes.py)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from townhall.domain import accounts
from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.domain.sites import Site, list_sites
from townhall.web.admin.render import read_form, redirect, render
from townhall.web.state import web_state


def _user_id(request: Request) -> int:
    raw = request.path_params["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("no such user", field="id")
    return int(raw)


async def _page(
    request: Request,
    user: accounts.User,
    *,
    status: int = 200,
    error: str | None = None,
    new_token: str | None = None,
) -> Response:
    db = web_state(request).services.db

    def run() -> tuple[list[accounts.User], list[accounts.TokenView], list[Site]]:
        return accounts.list_users(db), accounts.list_tokens(db, user), list_sites(db)

    users, tokens, sites = await run_in_threadpool(run)
    return render(
        request,
        "admin/users.html",
        status,
        users=users,
        tokens=tokens,
        sites=sites,
        site_keys={s.id: s.key for s in sites},
        error=error,
        new_token=new_token,
        roles=("moderator", "admin"),
    )


async def users_page(request: Request, user: accounts.User) -> Response:
    return await _page(request, user)


async def user_create(request: Request, user: accounts.User) -> Response:
    form = await read_form(request)
    db = web_state(request).services.db
    try:
        created = await run_in_threadpool(
            lambda: accounts.create_user(
                db,
                email=str(form.get("email", "")),
                password=str(form.get("password", "")),
                role=str(form.get("role", "")),
                site_keys=[str(k) for k in form.getlist("sites")],
                actor=user.email,
            )
        )
    except (InvalidInput, Conflict, NotFound) as exc:
        return await _page(request, user, status=422, error=exc.message)
    return redirect(request, "/admin/users", f"Created {created.role.value} {created.email}.")


async def user_update(request: Request, user: accounts.User) -> Response:
    form = await read_form(request)
    db = web_state(request).services.db
    user_id = _user_id(request)
    try:
        changed = await run_in_threadpool(
            lambda: accounts.update_user(
                db,
                user,
                user_id,
                role=str(form.get("role", "")) or None,
                site_keys=[str(k) for k in form.getlist("sites")],
            )
        )
    except (InvalidInput, Conflict) as exc:
        return redirect(request, "/admin/users", exc.message, "error")
    return redirect(request, "/admin/users", f"Saved {changed.email}.")


async def user_delete(request: Request, user: accounts.User) -> Response:
    db = web_state(request).services.db
    user_id = _user_id(request)
    try:
        await run_in_threadpool(accounts.delete_user, db, user, user_id)
    except Conflict as exc:
        return redirect(request, "/admin/users", exc.message, "error")
    return redirect(request, "/admin/users", "Account deleted.")


async def user_unlock(request: Request, user: accounts.User) -> Response:
    db = web_state(request).services.db
    unlocked = await run_in_threadpool(accounts.unlock, db, user.email, _user_id(request))
    return redirect(request, "/admin/users", f"Unlocked {unlocked.email}.")


async def token_create(request: Request, user: accounts.User) -> Response:
    """The new token is shown on this response only (never in a redirect or a cookie)."""
    form = await read_form(request)
    db = web_state(request).services.db
    user_id = _user_id(request)
    try:
        _view, token = await run_in_threadpool(
            accounts.create_token, db, user, user_id, form.get("name")
        )
    except InvalidInput as exc:
        return await _page(request, user, status=422, error=exc.message)
    return await _page(request, user, new_token=token)


async def token_revoke(request: Request, user: accounts.User) -> Response:
    db = web_state(request).services.db
    raw = request.path_params["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("no such token", field="id")
    try:
        await run_in_threadpool(accounts.revoke_token, db, user, int(raw))
    except Conflict as exc:
        return redirect(request, "/admin/users", exc.message, "error")
    return redirect(request, "/admin/users", f"Revoked token {raw}.")
