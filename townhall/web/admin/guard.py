"""Who is asking: every moderator page and moderation API call passes through here.

Pages: no valid session -> a redirect to the sign-in page (GET) or 401 (anything else); a
state-changing request without the session's CSRF token -> 403; an admin-only page for a
moderator -> 403. The API: ``Authorization: Bearer <token>`` or the session cookie (then
state-changing calls need the ``X-CSRF-Token`` header); errors in the JSON envelope.
Which site a user may act on is checked by the ``access_*`` functions of the accounts domain.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from townhall.domain import accounts
from townhall.domain.errors import DomainError, Forbidden, Unauthorized
from townhall.web.admin import session as sessions
from townhall.web.admin.render import SECURITY_HEADERS, domain_error_page, error_page, read_form
from townhall.web.state import web_state

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, accounts.User], Awaitable[Response]]


async def session_user(
    request: Request,
) -> tuple[sessions.Session | None, accounts.User | None]:
    session = sessions.read(request)
    if session is None or session.user_id is None:
        return session, None
    db = web_state(request).services.db
    user = await run_in_threadpool(accounts.session_user, db, session.user_id, session.version)
    return session, user


def _refresh(request: Request, response: Response, session: sessions.Session) -> None:
    """Slide the idle timeout: re-sign a cookie that is a few minutes old."""
    if session.stale and "set-cookie" not in response.headers:
        sessions.write(request, response, replace(session, stamped_at=0))


def page(handler: Handler, *, admin_only: bool = False) -> Endpoint:
    """A moderator page: signed in, CSRF-checked when it changes something."""

    async def endpoint(request: Request) -> Response:
        session, user = await session_user(request)
        if session is None or user is None:
            if request.method in SAFE_METHODS:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(
                    "/admin/login?next=" + quote(target, safe=""),
                    status_code=303,
                    headers=SECURITY_HEADERS,
                )
            return error_page(request, 401, "Sign in first", "Your session has ended.")
        request.state.session = session
        request.state.user = user
        try:
            if request.method not in SAFE_METHODS:
                form = await read_form(request)
                token = request.headers.get(sessions.CSRF_HEADER) or form.get(sessions.CSRF_FIELD)
                if not session.csrf_ok(token if isinstance(token, str) else None):
                    return error_page(
                        request,
                        403,
                        "Form expired",
                        "This form was not sent from your current session (missing or wrong "
                        "CSRF token). Go back, reload the page and try again.",
                    )
            if admin_only and not user.is_admin:
                return error_page(request, 403, "Not allowed", "Only an admin may open this.")
            response = await handler(request, user)
        except DomainError as exc:
            response = domain_error_page(request, exc)
        _refresh(request, response, session)
        return response

    endpoint.__name__ = getattr(handler, "__name__", "page")
    endpoint.__doc__ = handler.__doc__
    return endpoint


async def api_user(request: Request) -> accounts.User:
    """The user behind a moderation API call, or a 401/403 error (JSON envelope)."""
    db = web_state(request).services.db
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "use `Authorization: Bearer <token>` with a token an admin created",
                field="Authorization",
                code="invalid_token",
            )
        user = await run_in_threadpool(accounts.user_for_token, db, token.strip())
        if user is None:
            raise Unauthorized(
                "this API token is not valid (revoked, or never issued)",
                field="Authorization",
                code="invalid_token",
            )
        return user
    session, user = await session_user(request)
    if session is None or user is None:
        raise Unauthorized(
            "sign in at /admin/login or send `Authorization: Bearer <token>`",
            code="unauthorized",
        )
    if request.method not in SAFE_METHODS and not session.csrf_ok(
        request.headers.get(sessions.CSRF_HEADER)
    ):
        raise Forbidden(
            "send the X-CSRF-Token header of your session with every change",
            field="X-CSRF-Token",
            code="csrf",
        )
    request.state.session = session
    return user
