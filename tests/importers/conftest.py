"""Helpers for the import tests. Each test gets a fresh, migrated database (SQLite, and
PostgreSQL when reachable: the ``services`` and ``site`` fixtures of tests/conftest.py) with
one site, ``news``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from townhall.domain.rendering import sanitise_html
from townhall.domain.services import Services
from townhall.domain.sites import Site
from townhall.importers import ImportOptions, ImportReport, import_file
from townhall.store.database import Database
from townhall.store.schema import comments, threads, votes
from townhall.types import CommentStatus

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


def fixture(name: str) -> Path:
    path = FIXTURES / name
    assert path.exists(), f"missing fixture {name}"
    return path


Importer = Callable[..., ImportReport]


@pytest.fixture
def run_import(services: Services, site: Site) -> Importer:
    """``run_import("disqus/x.xml", fmt="disqus", dry_run=True, ...)``: import a fixture (or
    any path) into site ``news`` and return the report."""

    def run(name: str | Path, fmt: str = "auto", **options: Any) -> ImportReport:
        path = name if isinstance(name, Path) else fixture(name)
        return import_file(
            services.db,
            services.hasher,
            path,
            format=fmt,
            site_key=site.key,
            options=ImportOptions(**options),
        )

    return run


def thread_rows(db: Database) -> dict[str, dict[str, Any]]:
    with db.read() as conn:
        return {r["key"]: dict(r) for r in conn.execute(select(threads)).mappings()}


def comment_rows(db: Database, thread_key: str | None = None) -> list[dict[str, Any]]:
    query = select(comments, threads.c.key.label("thread_key")).join(
        threads, threads.c.id == comments.c.thread_id
    )
    if thread_key is not None:
        query = query.where(threads.c.key == thread_key)
    with db.read() as conn:
        return [dict(r) for r in conn.execute(query.order_by(comments.c.id)).mappings()]


def by_source(db: Database) -> dict[str, dict[str, Any]]:
    return {r["source_id"]: r for r in comment_rows(db)}


def utc(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=dt.UTC)


def check_invariants(db: Database) -> None:
    """What must hold after any import, whatever the file looked like."""
    rows = comment_rows(db)
    by_id = {r["id"]: r for r in rows}
    replied = {r["parent_id"] for r in rows}
    for r in rows:
        # what keeps a deleted comment with replies in its thread's listing (a tombstone)
        assert r["has_replies"] == (r["id"] in replied), r
        if r["parent_id"] is None:
            assert r["depth"] == 0 and r["root_id"] is None, r
        else:
            parent = by_id[r["parent_id"]]
            assert parent["thread_id"] == r["thread_id"], r
            assert r["depth"] == parent["depth"] + 1, r
            assert r["root_id"] == (parent["root_id"] or parent["id"]), r
            assert parent["id"] < r["id"], "parents are written before their children"
        assert r["created_at"].tzinfo is not None
        assert sanitise_html(r["html"]) == r["html"], "stored HTML is already sanitised"
        if r["status"] == CommentStatus.DELETED:
            assert r["html"] == ""
    with db.read() as conn:
        for t in conn.execute(select(threads)).mappings():
            published = conn.execute(
                select(func.count()).where(
                    comments.c.thread_id == t["id"], comments.c.status == CommentStatus.PUBLISHED
                )
            ).scalar_one()
            assert t["comment_count"] == published, t["key"]
        pairs = conn.execute(
            select(comments.c.thread_id, comments.c.source_id, func.count())
            .where(comments.c.source_id.is_not(None))
            .group_by(comments.c.thread_id, comments.c.source_id)
            .having(func.count() > 1)
        ).all()
        assert pairs == [], "a source id is imported once per thread"
        for r in rows:
            up, down = conn.execute(
                select(
                    func.count().filter(votes.c.value > 0), func.count().filter(votes.c.value < 0)
                ).where(votes.c.comment_id == r["id"])
            ).one()
            assert (r["likes"], r["dislikes"]) == (up, down), r["source_id"]
