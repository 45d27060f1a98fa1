"""Signing in and out, and changing one's password."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from townhall.domain import accounts
from townhall.domain.errors import DomainError, InvalidInput
from townhall.web.admin import session as sessions
from townhall.web.admin.guard import session_user
from townhall.web.admin.render import read_form, redirect, render, safe_next, status_of
from townhall.web.state import web_state


def _login_page(
    request: Request,
    session: sessions.Session,
    *,
    status: int = 200,
    error: str | None = None,
    email: str = "",
    fresh: bool = False,
) -> Response:
    request.state.session = session
    response = render(
        request,
        "admin/login.html",
        status,
        error=error,
        email=email,
        next=safe_next(request.query_params.get("next")),
    )
    if fresh:
        sessions.write(request, response, session)
    return response


async def login_form(request: Request) -> Response:
    session, user = await session_user(request)
    if user is not None:
        return redirect(request, safe_next(request.query_params.get("next")))
    if session is None or session.user_id is not None:
        return _login_page(request, sessions.anonymous(), fresh=True)
    return _login_page(request, session)


async def login(request: Request) -> Response:
    """Check the form's CSRF token (bound to the pre-sign-in session), then the password."""
    try:
        form = await read_form(request)
    except DomainError as exc:
        return _login_page(
            request, sessions.anonymous(), status=status_of(exc), error=exc.message, fresh=True
        )
    session = sessions.read(request)
    email = str(form.get("email", ""))[:320]
    token = form.get(sessions.CSRF_FIELD)
    if session is None or not session.csrf_ok(token if isinstance(token, str) else None):
        return _login_page(
            request,
            sessions.anonymous(),
            status=403,
            error="The form had expired. Please sign in again.",
            email=email,
            fresh=True,
        )
    db = web_state(request).services.db
    try:
        user = await run_in_threadpool(
            accounts.authenticate, db, email, str(form.get("password", ""))
        )
    except DomainError as exc:
        return _login_page(request, session, status=status_of(exc), error=exc.message, email=email)
    target = safe_next(str(form.get("next", "")))
    response = redirect(request, target)
    sessions.write(request, response, sessions.signed_in(user.id, user.session_version))
    return response


async def logout(request: Request, user: accounts.User) -> Response:
    form = await read_form(request)
    if form.get("everywhere"):
        await run_in_threadpool(accounts.end_sessions, web_state(request).services.db, user)
    response = redirect(request, "/admin/login", "You are signed out.")
    sessions.clear(request, response)
    return response


async def password_form(request: Request, user: accounts.User) -> Response:
    return render(request, "admin/password.html", errors={})


async def password_change(request: Request, user: accounts.User) -> Response:
    form = await read_form(request)
    db = web_state(request).services.db
    try:
        after = await run_in_threadpool(
            accounts.change_password,
            db,
            user,
            form.get("current"),
            form.get("new"),
            form.get("confirm"),
        )
    except InvalidInput as exc:
        return render(request, "admin/password.html", 422, errors={exc.field or "new": exc.message})
    response = redirect(
        request, "/admin/", "Password changed. Your other sessions were signed out."
    )
    sessions.write(request, response, sessions.signed_in(after.id, after.session_version))
    return response
