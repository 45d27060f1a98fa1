"""Docs that tests check, and migrations that match the schema on every database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from tests.conftest import make_test_settings
from townhall.cli import main
from townhall.domain.comments import NewComment, submit_comment
from townhall.domain.identity import Reader
from townhall.domain.services import Services
from townhall.domain.sites import create_site
from townhall.settings import SETTINGS, Settings, render_reference
from townhall.store.database import Database
from townhall.store.migrate import current_revision, head_revision, upgrade
from townhall.store.schema import comments, metadata, threads
from townhall.types import CommentStatus, Verdict
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


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_an_upgrade_keeps_the_comments_and_their_flood_check(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A database from before comment signatures (revision 0004) upgrades in place: its
    comments stay, without a signature, and a copy of one by another reader is still held."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("pg").new_database(migrated=False)
    text = "The new bus timetable leaves the northern villages without an evening service."
    db = Database(url)
    upgrade(db.engine, "0004")
    site = create_site(db, key="news", name="News", origins=["https://news.example"])
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as conn:  # written as revision 0004 did: no signature column
        made = conn.execute(
            sa.insert(threads).values(
                site_id=site.id, key="/story", title="Story", url="", created_at=now
            )
        )
        assert made.inserted_primary_key is not None
        thread_id = made.inserted_primary_key[0]
        conn.execute(
            sa.insert(comments).values(
                thread_id=thread_id,
                depth=0,
                status=CommentStatus.PUBLISHED,
                author_name="A",
                reader_id="r1",
                text=text,
                html=f"<p>{text}</p>",
                created_at=now,
            )
        )
    db.dispose()
    svc = Services.from_settings(make_test_settings(tmp_path, url))
    svc.db.migrate()
    assert current_revision(svc.db.engine) == head_revision()
    with svc.db.read() as conn:
        kept = conn.execute(sa.select(comments.c.text, comments.c.signature)).all()
    assert kept == [(text, None)]
    copy = submit_comment(
        svc,
        NewComment(site="news", thread="/story", text=text + " Agreed.", author_name="B"),
        Reader("r2", None),
    )
    assert copy.status is CommentStatus.PENDING
    assert [r.check for r in copy.decision.results if r.verdict is not Verdict.PASS] == ["flood"]
    svc.db.dispose()
