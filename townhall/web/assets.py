"""The widget's files (embed.js, count.js, CSS): read once, served with ETag, gzip and
long-lived caching when the URL carries the version (``?v=<hash>``)."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from townhall.web.errors import error_response

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    media_type: str

    @property
    def version(self) -> str:
        return self.etag.strip('"')[:12]


@cache
def load_asset(name: str) -> Asset | None:
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR not in path.parents or not path.is_file():
        return None
    body = path.read_bytes()
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media in ("application/javascript", "text/javascript", "text/css"):
        media += "; charset=utf-8"
    return Asset(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
        media_type=media,
    )


def asset_response(request: Request, name: str) -> Response:
    asset = load_asset(name)
    if asset is None:
        return error_response(404, "not_found", f"no such asset: {name}")
    versioned = request.query_params.get("v") == asset.version
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "public, max-age=31536000, immutable"
        if versioned
        else "public, max-age=300, stale-while-revalidate=86400",
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


async def embed_js(request: Request) -> Response:
    return asset_response(request, "embed.js")


async def count_js(request: Request) -> Response:
    return asset_response(request, "count.js")


async def static_file(request: Request) -> Response:
    return asset_response(request, request.path_params["path"])
