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


ORIGIN_MEMO = 4096  # distinct Origin values remembered (pages send a handful)
_normalised: dict[str, str | None] = {}


def origin_of(raw: str | None) -> str | None:
    """The normalised origin of a raw ``Origin`` header value (None: none, "null", not http);
    remembered, since a site's readers send the same few values again and again."""
    if not raw or raw == "null":
        return None
    try:
        return _normalised[raw]
    except KeyError:
        pass
    value = normalise_origin(raw, strict=False)
    if len(_normalised) >= ORIGIN_MEMO:
        _normalised.clear()
    _normalised[raw] = value
    return value


def allows(site: Site, raw: str | None) -> bool:
    """``site.allows_origin(origin_of(raw))``, with the normalising remembered."""
    origin = origin_of(raw)
    return origin is not None and origin_of(origin) in site.origins


def request_origin(request: Request) -> str | None:
    return origin_of(request.headers.get("origin"))


def with_origin(vary: str | None) -> str:
    """A Vary value that also names Origin (kept, not replaced: the body still varies by
    Accept-Encoding and the reader)."""
    if not vary:
        return "Origin"
    if "origin" in (part.strip().lower() for part in vary.split(",")):
        return vary
    return vary + ", Origin"


def cors_raw_headers(raw_origin: str) -> list[tuple[bytes, bytes]]:
    """The CORS headers of an allowed origin's answer, as raw ASGI headers, Vary aside."""
    return [
        (b"access-control-allow-origin", raw_origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
        (b"access-control-expose-headers", EXPOSE_HEADERS.encode("latin-1")),
    ]


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
    raw = request.headers.get("origin")
    origin = origin_of(raw)
    if origin is None:
        return response
    headers = response.headers
    if site is not None and raw is not None and allows(site, raw):
        for name, value in cors_headers(raw).items():
            if name != "Vary":
                headers[name] = value
    headers["Vary"] = with_origin(headers.get("vary"))
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
        raw = None
        for name, value in scope["headers"]:
            if name == b"origin":
                raw = value.decode("latin-1")
                break
        origin = origin_of(raw)
        if scope["method"] == "OPTIONS":
            headers = {"Vary": "Origin"}
            if raw is not None and await self._allowed(origin):
                headers.update(cors_headers(raw))
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
                    assert raw is not None
                    for name, value in cors_headers(raw).items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)
