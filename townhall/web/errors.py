"""Every error a client can cause becomes a 4xx with the JSON envelope of API.md:
``{"error": {"code", "message", "field"?}}``. A 500 means a bug, and says so without details."""

from __future__ import annotations

import logging

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from townhall.domain import errors as domain

log = logging.getLogger("townhall.web")

STATUS = {
    domain.InvalidInput: 422,
    domain.NotFound: 404,
    domain.Unauthorized: 401,
    domain.Forbidden: 403,
    domain.Conflict: 409,
    domain.NudgeRequired: 409,
    domain.RateLimited: 429,
}


class BadRequest(domain.DomainError):
    """Malformed request (not JSON, wrong content type...): 400."""

    code = "bad_request"


class PayloadTooLarge(domain.DomainError):
    code = "payload_too_large"


class UnsupportedMediaType(domain.DomainError):
    code = "unsupported_media_type"


STATUS.update({BadRequest: 400, PayloadTooLarge: 413, UnsupportedMediaType: 415})


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, str] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return Response(
        msgspec.json.encode({"error": body}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, domain.DomainError)
    status = next((s for cls, s in STATUS.items() if type(exc) is cls), None)
    if status is None:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    headers = None
    if isinstance(exc, domain.RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    return error_response(status, exc.code, exc.message, exc.field, headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    messages = {
        404: f"no such route: {request.url.path}; see /api/docs",
        405: f"{request.method} is not allowed on {request.url.path}; see /api/docs",
    }
    code = codes.get(exc.status_code, "http_error")
    message = messages.get(exc.status_code, str(exc.detail))
    return error_response(exc.status_code, code, message, headers=dict(exc.headers or {}))


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "the server failed; this is a bug")
