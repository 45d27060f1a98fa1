"""CORS per site: a site's allowed origins may read and write with credentials; others may
not write at all (403) and get no CORS headers on reads."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townhall.domain.errors import Forbidden
from townhall.domain.sites import Site, SiteCache, normalise_origin

ALLOW_HEADERS = "Content-Type, X-Townhall-Edit-Token, X-Townhall-Reader, If-None-Match"
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
EXPOSE_HEADERS = "ETag, Retry-After"


def cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": EXPOSE_HEADERS,
        "Vary": "Origin",
    }


def request_origin(request: Request) -> str | None:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return None
    return normalise_origin(origin, strict=False)


def check_write_origin(request: Request, site: Site) -> None:
    """Writes from a browser page must come from one of the site's allowed origins."""
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser cross-site request (server-to-server, curl)
    if not site.allows_origin(origin):
        raise Forbidden(
            f"origin {origin!r} is not allowed for site {site.key!r}; add it with "
            f"`townhall site update {site.key} --add-origin {origin}`",
            code="origin_not_allowed",
        )


def apply(response: Response, request: Request, site: Site | None) -> Response:
    origin = request_origin(request)
    if origin and site is not None and site.allows_origin(origin):
        response.headers.update(cors_headers(request.headers["origin"]))
    elif origin:
        response.headers["Vary"] = "Origin"
    return response


class CorsMiddleware:
    """CORS for the parts of the API that no single site answers for.

    Preflights carry no site, so any site's origin qualifies (the actual request is then
    checked against its own site). Error responses, which handlers and middleware produce
    before a site is known, get the CORS headers too when the origin belongs to some site:
    otherwise a page could not read why its request failed (a field error, a nudge, a 429)."""

    def __init__(self, app: ASGIApp, sites: SiteCache, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.sites = sites
        self.prefixes = prefixes

    async def _allowed(self, origin: str | None) -> bool:
        if not origin:
            return False
        return origin in await run_in_threadpool(self.sites.all_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        origin = request_origin(request)
        if scope["method"] == "OPTIONS":
            headers = {"Vary": "Origin"}
            if await self._allowed(origin):
                headers.update(cors_headers(request.headers["origin"]))
                headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
                headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
                headers["Access-Control-Max-Age"] = "600"
            await Response(status_code=204, headers=headers)(scope, receive, send)
            return
        if origin is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                headers = MutableHeaders(scope=message)
                if "access-control-allow-origin" not in headers and await self._allowed(origin):
                    for name, value in cors_headers(request.headers["origin"]).items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)
