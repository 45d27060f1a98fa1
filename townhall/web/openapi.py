"""The OpenAPI 3.1 document, generated from the route table and the msgspec schemas, so the
document cannot drift from what the handlers accept and return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from townhall import __version__
from townhall.web.schemas import ErrorOut


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # "query", "path" or "header"
    description: str
    required: bool = False
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    array: bool = False


@dataclass(frozen=True)
class Operation:
    summary: str
    body: type | None = None
    responses: dict[int, type | None] = field(default_factory=dict)
    params: tuple[Param, ...] = ()
    errors: tuple[int, ...] = (400, 404, 413, 415, 422)
    tag: str = "reader"
    content_type: str = "application/json"
    description: str = ""
    security: tuple[str, ...] = ()  # names in SECURITY_SCHEMES, any one of which will do


# How the moderation API authenticates (townhall/web/admin/guard.py:api_user). The reader API
# needs none: its operations carry no ``security``.
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token an admin created (Users page or `townhall user token`); "
        "it acts as its user, on the sites that user moderates.",
    },
    "moderatorSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "townhall_admin",
        "description": "The moderator pages' session cookie (sign in at /admin/login); every "
        "change also needs the session's X-CSRF-Token header.",
    },
}


ERROR_TEXT = {
    304: "Not modified (If-None-Match matched the ETag)",
    400: "Malformed request",
    401: "Missing or wrong edit token",
    403: "Not allowed: origin, closed thread, banned, edit window over",
    404: "Unknown site, thread or comment",
    409: "Nudge: the comment reads as hostile; resend with confirm: true to post anyway",
    413: "Body too large",
    415: "Wrong content type",
    422: "Invalid field (the error names it)",
    429: "Too many requests; see Retry-After",
}


def build_document(operations: list[tuple[str, str, Operation]]) -> dict[str, Any]:
    types: list[Any] = [ErrorOut]
    for _path, _method, op in operations:
        if op.body is not None:
            types.append(op.body)
        types.extend(t for t in op.responses.values() if t is not None)
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    refs = dict(zip(types, schemas, strict=True))
    paths: dict[str, Any] = {}
    for path, method, op in operations:
        item: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "responses": {}}
        if op.description:
            item["description"] = op.description
        if op.security:
            item["security"] = [{name: []} for name in op.security]
        if op.params:
            item["parameters"] = [_param(p) for p in op.params]
        if op.body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[op.body]}},
            }
        for status, kind in op.responses.items():
            if kind is None:
                item["responses"][str(status)] = {"description": ERROR_TEXT.get(status, "OK")}
            else:
                item["responses"][str(status)] = {
                    "description": "OK",
                    "content": {op.content_type: {"schema": refs[kind]}},
                }
        for status in op.errors:
            item["responses"].setdefault(
                str(status),
                {
                    "description": ERROR_TEXT.get(status, "Error"),
                    "content": {"application/json": {"schema": refs[ErrorOut]}},
                },
            )
        paths.setdefault(path, {})[method.lower()] = item
    used = sorted({name for _path, _method, op in operations for name in op.security})
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "townhall API",
            "version": __version__,
            "description": "Public reader API v1 of townhall, the comment server (tag reader, "
            "no authentication), and its moderation API (tag moderation, a Bearer token or a "
            'moderator session). Errors are always {"error": {"code", "message", "field"?}}.',
        },
        "paths": paths,
        "components": {"schemas": components},
    }
    if used:
        document["components"]["securitySchemes"] = {n: SECURITY_SCHEMES[n] for n in used}
    return document


def _param(p: Param) -> dict[str, Any]:
    schema = {"type": "array", "items": p.schema} if p.array else p.schema
    out: dict[str, Any] = {
        "name": p.name,
        "in": p.where,
        "required": p.required or p.where == "path",
        "description": p.description,
        "schema": schema,
    }
    if p.array:
        out["style"] = "form"
        out["explode"] = True
    return out
