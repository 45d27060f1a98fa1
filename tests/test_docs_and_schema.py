"""Docs that tests check, and migrations that match the schema on every database."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from townhall.cli import main
from townhall.domain.services import Services
from townhall.settings import SETTINGS, Settings, render_reference
from townhall.store.migrate import head_revision
from townhall.store.schema import metadata
from townhall.web.routes import OPERATIONS, routes

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_a_field_and_documented() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)} - {"demo"}
    assert fields == {s.name for s in SETTINGS}
    for s in SETTINGS:
        assert len(s.help) > 10, s.name
        assert (
            getattr(Settings(), s.name) == (Path(s.default) if s.name == "data_dir" else s.default)
            or s.secret
        )
    committed = (ROOT / "docs" / "config.md").read_text()
    assert committed == render_reference(), "run `make reference` to regenerate docs/config.md"


def test_every_cli_command_has_help() -> None:
    runner = CliRunner()

    def walk(group: object, path: list[str]) -> None:
        commands = getattr(group, "commands", {})
        for name, cmd in commands.items():
            result = runner.invoke(main, [*path, name, "--help"])
            assert result.exit_code == 0, (path, name, result.output)
            assert cmd.help or cmd.short_help, f"`townhall {' '.join([*path, name])}` needs help"
            walk(cmd, [*path, name])

    walk(main, [])


def test_every_api_route_is_in_the_api_docs() -> None:
    api_doc = (ROOT / "docs" / "api.md").read_text()
    for path, method, _op in OPERATIONS:
        assert f"`{method} {path}" in api_doc, f"{method} {path} missing from docs/api.md"
    paths = {getattr(r, "path", "") for r in routes()}
    for path in (
        "/api/v1/events",
        "/api/v1/unsubscribe",
        "/metrics",
        "/api/openapi.json",
        "/embed.js",
        "/count.js",
    ):
        assert path in paths
        assert path in api_doc, f"{path} missing from docs/api.md"


def test_migrations_create_exactly_the_schema(services: Services) -> None:
    with services.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() == head_revision()
        assert compare_metadata(context, metadata) == []


def test_the_served_document_describes_both_apis_and_their_authentication() -> None:
    """/api/openapi.json holds the reader API (no authentication) and the moderation API
    (tag moderation, a Bearer token or a moderator session), as docs/api.md says."""
    from townhall.web.moderation_api import OPERATIONS as MODERATION
    from townhall.web.openapi import build_document
    from townhall.web.routes import documented_operations

    doc = build_document(documented_operations())
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {**schemes["bearerToken"], "type": "http", "scheme": "bearer"}
    assert schemes["moderatorSession"]["in"] == "cookie"
    operations = {(p, m): op for p, item in doc["paths"].items() for m, op in item.items()}
    for path, method, _op in MODERATION:
        op = operations[(path, method.lower())]
        assert op["tags"] == ["moderation"]
        assert op["security"] == [{"bearerToken": []}, {"moderatorSession": []}], path
        assert "401" in op["responses"], path
    for path, method, _op in OPERATIONS:
        assert "security" not in operations[(path, method.lower())], path
    api_doc = (ROOT / "docs" / "api.md").read_text()
    assert "bearerToken" in api_doc and "moderatorSession" in api_doc
