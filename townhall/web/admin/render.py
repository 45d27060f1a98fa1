"""Rendering the moderator pages: one Jinja2 environment with autoescaping on for every
template (reader-supplied names, websites and notes are text, never markup; only comment HTML,
sanitised when it was written, is marked safe), strict security headers, and form parsing."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from townhall.domain.errors import DomainError
from townhall.web.admin import session as sessions
from townhall.web.assets import load_asset
from townhall.web.body import read_body
from townhall.web.errors import STATUS, UnsupportedMediaType
from townhall.web.state import web_state

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
FORM_LIMIT = 256 * 1024  # word lists and long comments fit; nothing else a form sends is big

# No inline script or style anywhere in the admin: the policy can forbid both.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _static(name: str) -> str:
    asset = load_asset(name)
    version = f"?v={asset.version}" if asset else ""
    return f"/static/{name}{version}"


def _when(value: dt.datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(dt.UTC).isoformat(timespec="seconds")


def _ago(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    seconds = (dt.datetime.now(dt.UTC) - value).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def _highlight(text: str, spans: list[dict[str, Any]]) -> Markup:
    """The comment's source text, escaped, with the words behind the toxicity score marked
    (``<mark>``, strongest first in the title). Spans are character offsets into ``text``."""
    marks = sorted(
        (
            (int(s["start"]), int(s["end"]), float(s.get("weight", 0)), str(s.get("term", "")))
            for s in spans
            if isinstance(s.get("start"), int) and isinstance(s.get("end"), int)
        ),
        key=lambda m: (m[0], -m[1]),
    )
    out: list[str] = []
    pos = 0
    for start, end, weight, term in marks:
        if start < pos or end <= start or end > len(text):
            continue  # overlapping or stale span: leave the text as it is
        out.append(str(escape(text[pos:start])))
        title = escape(f"raises the score: {term} ({weight:+.2f})")
        out.append(f'<mark title="{title}">{escape(text[start:end])}</mark>')
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))  # noqa: S704 (every piece was escaped above)


def _query(params: Mapping[str, Any], **changes: Any) -> str:
    """The current filters with some changed, as a query string (for links)."""
    merged = {k: v for k, v in params.items() if v not in (None, "")}
    for key, value in changes.items():
        if value in (None, ""):
            merged.pop(key, None)
        else:
            merged[key] = value
    return ("?" + urlencode(merged)) if merged else ""


env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
env.globals.update(static=_static, query=_query, now_utc=lambda: dt.datetime.now(dt.UTC))
env.filters.update(
    when=_when, iso=_iso, ago=_ago, highlight=_highlight, tojson_attr=lambda v: json.dumps(v)
)


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    session = getattr(request.state, "session", None)
    flash = sessions.take_flash(request)
    context.setdefault("counts", None)
    query = request.url.query
    page = env.get_template(template).render(
        request=request,
        user=getattr(request.state, "user", None),
        csrf=session.csrf if session is not None else "",
        flash=flash,
        path=request.url.path,
        here=request.url.path + (f"?{query}" if query else ""),
        **context,
    )
    response = HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)
    if flash is not None:
        response.delete_cookie(sessions.FLASH_COOKIE, path="/admin")
    return response


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "admin/error.html", status, title=title, message=message)


def status_of(exc: DomainError) -> int:
    status = next((s for cls, s in STATUS.items() if type(exc) is cls), None)
    if status is None:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    return status


def domain_error_page(request: Request, exc: DomainError) -> Response:
    titles = {401: "Sign in first", 403: "Not allowed", 404: "Not found", 409: "Not possible"}
    status = status_of(exc)
    return error_page(request, status, titles.get(status, "Please check"), exc.message)


def safe_next(value: str | None, default: str = "/admin/") -> str:
    """Where to go back to after a form: only a path of this admin, never another host."""
    if (
        not value
        or not value.startswith("/admin")
        or value.startswith("//")
        or "\\" in value
        or any(c in value for c in "\r\n\t")
        or len(value) > 2000
    ):
        return default
    return value


def redirect(
    request: Request, to: str, message: str | None = None, kind: str = "ok"
) -> RedirectResponse:
    response = RedirectResponse(safe_next(to), status_code=303, headers=SECURITY_HEADERS)
    if message:
        sessions.flash(request, response, message, kind)
    return response


async def read_form(request: Request) -> FormData:
    """The urlencoded body of a form post (the admin's forms send nothing else), at most
    ``FORM_LIMIT`` bytes; parsed once and kept on the request."""
    cached = getattr(request.state, "form", None)
    if isinstance(cached, FormData):
        return cached
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limit = max(FORM_LIMIT, web_state(request).services.settings.max_body_bytes)
    # Only an empty body may come without the form's content type.
    if ctype != "application/x-www-form-urlencoded" and (ctype or await read_body(request, limit)):
        raise UnsupportedMediaType(
            "send the form as application/x-www-form-urlencoded", field="Content-Type"
        )
    raw = await read_body(request, limit) if ctype else b""
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, max_num_fields=5000, strict_parsing=False
        )
    except (UnicodeDecodeError, ValueError):
        pairs = []
    form = FormData([(k, v.replace("\x00", "")) for k, v in pairs])
    request.state.form = form
    return form
