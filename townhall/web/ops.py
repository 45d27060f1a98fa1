"""Operational routes: health, metrics, the OpenAPI document and its human-readable page."""

from __future__ import annotations

import html
import json

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from townhall import __version__
from townhall.web.metrics import metrics_endpoint
from townhall.web.schemas import HealthOut
from townhall.web.state import web_state


async def healthz(request: Request) -> Response:
    ok = await run_in_threadpool(web_state(request).services.db.ping)
    body = HealthOut(status="ok" if ok else "unavailable", database=ok, version=__version__)
    return Response(
        msgspec.json.encode(body), status_code=200 if ok else 503, media_type="application/json"
    )


async def metrics(request: Request) -> Response:
    return metrics_endpoint(request)


async def openapi_json(request: Request) -> Response:
    return Response(request.app.state.openapi_bytes, media_type="application/json")


async def api_docs(request: Request) -> Response:
    doc = request.app.state.openapi
    parts = [
        "<!doctype html><html lang=en><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        "<title>townhall API</title><style>body{font:16px/1.5 system-ui;max-width:60rem;"
        "margin:2rem auto;padding:0 1rem}code,pre{background:#f4f4f4;padding:.1rem .3rem}"
        "h2{margin-top:2rem;border-top:1px solid #ddd;padding-top:1rem}"
        "@media(prefers-color-scheme:dark){body{background:#111;color:#eee}"
        "code,pre{background:#222}}</style>",
        f"<h1>townhall API {html.escape(doc['info']['version'])}</h1>",
        f"<p>{html.escape(doc['info']['description'])}</p>",
        "<p>Machine-readable: <a href='/api/openapi.json'>/api/openapi.json</a></p>",
    ]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            parts.append(f"<h2><code>{method.upper()} {html.escape(path)}</code></h2>")
            parts.append(f"<p>{html.escape(op['summary'])}</p>")
            if op.get("description"):
                parts.append(f"<p>{html.escape(op['description'])}</p>")
            for p in op.get("parameters", []):
                req = " (required)" if p.get("required") else ""
                parts.append(
                    f"<p><code>{html.escape(p['name'])}</code> in {p['in']}{req}: "
                    f"{html.escape(p['description'])}</p>"
                )
            if "requestBody" in op:
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                parts.append(f"<p>Body: <code>{html.escape(json.dumps(schema))}</code></p>")
            codes = ", ".join(sorted(op["responses"]))
            parts.append(f"<p>Responses: {codes}</p>")
    parts.append("<h2>Schemas</h2><pre>")
    parts.append(html.escape(json.dumps(doc["components"]["schemas"], indent=2)))
    parts.append("</pre>")
    return HTMLResponse("".join(parts))
