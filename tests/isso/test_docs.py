"""docs/isso.md documents every route of the Isso-compatible API."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Route

from townhall.web.isso import isso_routes
from townhall.web.routes import routes

DOC = Path(__file__).resolve().parents[2] / "docs" / "isso.md"


def test_every_isso_route_is_documented() -> None:
    text = DOC.read_text()
    for route in isso_routes():
        assert isinstance(route, Route)
        path = route.path.replace("{id:int}", "N")
        for method in sorted((route.methods or set()) - {"HEAD"}):
            assert f"`{method} {path}" in text, f"{method} {path} missing from docs/isso.md"


def test_the_isso_api_is_mounted_per_site() -> None:
    assert "/isso/{site}" in {getattr(r, "path", "") for r in routes()}
