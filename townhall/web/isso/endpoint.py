"""What every Isso route shares: the site named in the path, Isso's status codes for errors,
CORS the way Isso's client needs it, and Isso's CSRF rule for writes.

Isso answers invalid input with 400 and any failed authorship check with 403 (its client
tells "not authorized" by that status), so townhall's 422 and 401 become those here; the
JSON error envelope stays townhall's. Every answer to an allowed origin, errors included,
carries CORS headers that let the client read ``X-Set-Cookie`` (and ``Date``, which it uses
to correct the reader's clock)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from townhall.domain import errors as domain
from townhall.domain.identity import Reader, reader_from_token
from townhall.domain.sites import Site
from townhall.web import cors
from townhall.web.errors import BadRequest, PayloadTooLarge, error_response
from townhall.web.isso.cookies import READER_COOKIE, CookiePolicy, EditCookies
from townhall.web.isso.shapes import AvatarHasher
from townhall.web.state import WebState, client_ip, web_state

EXPOSE_HEADERS = "X-Set-Cookie, Date, ETag, Retry-After"

_STATUS: tuple[tuple[type[domain.DomainError], int], ...] = (
    (domain.InvalidInput, 400),
    (BadRequest, 400),
    (domain.Unauthorized, 403),
    (domain.Forbidden, 403),
    (domain.NotFound, 404),
    (domain.NudgeRequired, 409),
    (domain.Conflict, 409),
    (PayloadTooLarge, 413),
    (domain.RateLimited, 429),
)


class CsrfRefused(domain.Forbidden):
    code = "csrf"


@dataclass(frozen=True)
class IssoContext:
    """One request to ``/isso/<site>/…``: the site and what the handlers reach."""

    state: WebState
    site: Site
    cookies: CookiePolicy
    edit_cookies: EditCookies
    avatar: AvatarHasher

    @property
    def max_body(self) -> int:
        return self.state.services.settings.max_body_bytes


Handler = Callable[[Request, IssoContext], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def isso_endpoint(handler: Handler) -> Endpoint:
    """Resolve the site, run the handler, map errors to Isso's statuses, add CORS."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        state = web_state(request)
        site: Site | None = None
        try:
            key = str(request.path_params["site"])
            site = state.services.sites.peek(key)
            if site is None:
                site = await run_in_threadpool(state.services.sites.get, key)
            secret = state.services.hasher.secret
            context = IssoContext(
                state=state,
                site=site,
                cookies=CookiePolicy.of(request, state.services.settings.public_url),
                edit_cookies=EditCookies(secret),
                avatar=AvatarHasher(secret),
            )
            response = await handler(request, context)
        except domain.DomainError as exc:
            response = _error(exc)
        return with_cors(response, request, site)

    return endpoint


def _error(exc: domain.DomainError) -> Response:
    status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 400)
    headers = None
    if isinstance(exc, domain.RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    return error_response(status, exc.code, exc.message, exc.field, headers)


def with_cors(response: Response, request: Request, site: Site | None) -> Response:
    origin = request.headers.get("origin")
    vary = response.headers.get("vary")
    response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    if origin and site is not None and site.allows_origin(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    return response


def check_xhr(request: Request, site: Site) -> None:
    """Isso's CSRF rule for writes: a body that is not declared JSON comes from a <form> on
    some other page (403); and townhall's: a browser write must come from an allowed origin."""
    ctype = request.headers.get("content-type")
    if ctype and not ctype.split(";")[0].strip().lower() == "application/json":
        raise CsrfRefused("send writes with Content-Type: application/json", field="Content-Type")
    cors.check_write_origin(request, site)


def reader_of(request: Request, context: IssoContext, *, mint: bool) -> Reader:
    settings = context.state.services.settings
    ip_hash = context.state.services.hasher.ip(client_ip(request, settings.trust_forwarded_for))
    return reader_from_token(request.cookies.get(READER_COOKIE), ip_hash, mint=mint)


def json_response(data: object, status: int = 200) -> Response:
    return Response(msgspec.json.encode(data), status_code=status, media_type="application/json")


def one_param(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise domain.InvalidInput(f"give query parameter {name!r} once", field=name)
    return values[0] if values else None
