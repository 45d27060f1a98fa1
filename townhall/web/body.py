"""Reading request bodies: size limit, content type, strict JSON into a Struct."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
from starlette.requests import ClientDisconnect, Request

from townhall.web.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

T = TypeVar("T")

_PATH = re.compile(r"at `\$\.?([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]*)`")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest("Content-Length must be a number")
        if int(declared) > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise BadRequest("the client disconnected before sending the whole body") from None
    return b"".join(chunks)


async def json_body(request: Request, kind: type[T], limit: int) -> T:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/json", "text/plain", ""):
        raise UnsupportedMediaType(
            f"send the body as application/json, not {ctype!r}", field="Content-Type"
        )
    raw = await read_body(request, limit)
    if not raw.strip():
        raise BadRequest("the request body is empty; send a JSON object")
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH.search(message)
        field = match.group(1) if match else None
        missing = _MISSING.search(message)
        if missing:
            field = ((field + ".") if field else "") + missing.group(1)
        if field:
            field = field.replace("[", ".").replace("]", "")
        readable = _PATH.sub("", message).strip(" -")
        raise _invalid(f"{readable}" + (f" (field {field})" if field else ""), field) from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest(f"the body is not valid UTF-8 JSON: {exc}") from None


def _invalid(message: str, field: str | None) -> Exception:
    from townhall.domain.errors import InvalidInput

    return InvalidInput(message, field=field)
