"""The demo article and listing pages of ``townhall serve --demo``: a news page with the widget."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from townhall.web.assets import load_asset
from townhall.web.errors import error_response

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DEMO_SITE = "demo"
DEMO_THREAD = "/2026/11/council-votes-on-bypass"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False
)


def _render(request: Request, template: str) -> Response:
    if not request.app.state.demo:
        if template != "demo/article.html":
            return error_response(404, "not_found", "the demo pages need `townhall serve --demo`")
        return HTMLResponse(
            "<!doctype html><html lang=en><title>townhall</title><h1>townhall is running</h1>"
            "<p>API documentation: <a href='/api/docs'>/api/docs</a></p></html>"
        )
    asset = load_asset("embed.js")
    server_url = str(request.base_url).rstrip("/")
    try:
        page = _env.get_template(template)
    except Exception:
        return error_response(404, "not_found", "the demo pages are not installed")
    return HTMLResponse(
        page.render(
            server_url=server_url,
            site_key=DEMO_SITE,
            thread_key=DEMO_THREAD,
            asset_version=asset.version if asset else "",
        )
    )


async def article(request: Request) -> Response:
    return _render(request, "demo/article.html")


async def listing(request: Request) -> Response:
    return _render(request, "demo/listing.html")
