"""docs/moderators.md names every moderation API route and every `townhall user` command."""

from __future__ import annotations

from pathlib import Path

from townhall.cli.users import user_group
from townhall.web.moderation_api import HANDLERS, OPERATIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "moderators.md"


def test_every_moderation_route_is_documented() -> None:
    text = DOC.read_text()
    assert {(p, m) for p, m, _op in OPERATIONS} == set(HANDLERS)
    for path, method, op in OPERATIONS:
        assert f"`{method} {path}`" in text, f"{method} {path} missing from docs/moderators.md"
        assert op.tag == "moderation"


def test_every_user_command_is_documented() -> None:
    text = DOC.read_text()
    for name in user_group.commands:
        assert f"`townhall user {name}" in text, name


def test_the_moderation_routes_make_an_openapi_document() -> None:
    """Ready for the lead to add to /api/openapi.json: the operations build cleanly beside the
    reader API's, each under the tag "moderation"."""
    from townhall.web.openapi import build_document
    from townhall.web.routes import OPERATIONS as READER

    doc = build_document([*READER, *OPERATIONS])
    queue = doc["paths"]["/api/v1/moderation/queue"]["get"]
    assert queue["tags"] == ["moderation"] and "200" in queue["responses"]
    assert "QueuePage" in doc["components"]["schemas"]
    ban = doc["paths"]["/api/v1/moderation/bans"]["post"]
    assert ban["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BanIn")
