"""A thread's listing reads what a reader could see, not every comment the thread ever had
(issue 8: under the soak, and under any spam wave, deleted and rejected comments pile up in a
thread, and each listing used to read them all to leave them out)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from townhall.domain.services import Services
from townhall.domain.sites import Site, create_site
from townhall.store import comments as comment_store
from townhall.store.database import Database
from townhall.store.migrate import upgrade
from townhall.store.schema import comments, threads
from townhall.types import CommentStatus

_AT = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def _thread(conn: sa.Connection, site_id: int) -> int:
    made = conn.execute(
        sa.insert(threads).values(site_id=site_id, key="/story", title="S", url="", created_at=_AT)
    )
    assert made.inserted_primary_key is not None
    return int(made.inserted_primary_key[0])


def _comment(
    conn: sa.Connection, thread_id: int, n: int, status: CommentStatus, parent: int | None = None
) -> int:
    """Written as any revision since 0001 would write it (no has_replies, no signature)."""
    made = conn.execute(
        sa.insert(comments).values(
            thread_id=thread_id,
            parent_id=parent,
            root_id=parent,
            depth=0 if parent is None else 1,
            status=status,
            author_name=f"A{n}",
            text=f"comment {n}",
            html="" if status is CommentStatus.DELETED else f"<p>comment {n}</p>",
            created_at=_AT + dt.timedelta(minutes=n),
        )
    )
    assert made.inserted_primary_key is not None
    return int(made.inserted_primary_key[0])


def _plan(conn: sa.Connection, thread_id: int) -> str:
    sql = comment_store._LISTING.compile(dialect=conn.dialect).string
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, (thread_id,)).all()
        return " | ".join(str(r[-1]) for r in rows)
    # PostgreSQL reads a table this small whole; ask which index it takes when it must take one
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = conn.exec_driver_sql("EXPLAIN " + sql, {"thread_id": thread_id}).all()
    return " | ".join(str(r[0]) for r in rows)


def test_a_listing_goes_through_the_index_of_listed_comments(
    services: Services, site: Site
) -> None:
    with services.db.write() as conn:
        thread_id = _thread(conn, site.id)
        _comment(conn, thread_id, 1, CommentStatus.PUBLISHED)
    with services.db.write() as conn:
        plan = _plan(conn, thread_id)
    assert "ix_comments_thread_listed" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # in order from the index: no sort


def _listed(conn: sa.Connection, thread_id: int) -> dict[str, Any]:
    return {r["author_name"]: r["status"] for r in comment_store.listing_rows(conn, thread_id)}


def test_replies_keep_their_deleted_removed_or_rejected_parent_listed(
    services: Services, site: Site
) -> None:
    with services.db.write() as conn:
        thread_id = _thread(conn, site.id)
        for n, status in enumerate(CommentStatus, start=1):
            _comment(conn, thread_id, n, status)
        parents = {}
        for n, status in enumerate(CommentStatus, start=20):
            parents[status] = _comment(conn, thread_id, n, status)
        for n, status in enumerate(CommentStatus, start=40):  # a reply in each state
            comment_store.insert_comment(
                conn,
                thread_id=thread_id,
                parent_id=parents[status],
                root_id=parents[status],
                depth=1,
                status=CommentStatus.DELETED,
                author_name=f"A{n}",
                text="gone",
                html="",
                created_at=_AT + dt.timedelta(minutes=n),
            )
        listed = _listed(conn, thread_id)
    gone = {CommentStatus.DELETED, CommentStatus.REMOVED, CommentStatus.REJECTED}
    alone = {f"A{n}": s for n, s in enumerate(CommentStatus, start=1)}
    with_replies = {f"A{n}": s for n, s in enumerate(CommentStatus, start=20)}
    # a comment nobody replied to is listed while a reader could see it
    assert {k for k in alone if k in listed} == {k for k, s in alone.items() if s not in gone}
    # a replied-to comment is listed in every state (a tombstone when gone), even when its
    # only reply is itself deleted
    assert {k: listed.get(k) for k in with_replies} == with_replies
    assert not any(k in listed for k in (f"A{n}" for n in range(40, 40 + len(CommentStatus))))


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_an_upgrade_marks_the_comments_that_have_replies(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A database from revision 0006 (no has_replies) keeps its tombstones listed."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("pg").new_database(migrated=False)
    db = Database(url)
    upgrade(db.engine, "0006")
    site = create_site(db, key="news", name="News", origins=["https://news.example"])
    with db.engine.begin() as conn:
        thread_id = _thread(conn, site.id)
        parent = _comment(conn, thread_id, 1, CommentStatus.DELETED)
        _comment(conn, thread_id, 2, CommentStatus.PUBLISHED, parent=parent)
        _comment(conn, thread_id, 3, CommentStatus.DELETED)
        _comment(conn, thread_id, 4, CommentStatus.PUBLISHED)
    upgrade(db.engine)
    with db.read() as conn:
        marked = dict(conn.execute(sa.select(comments.c.author_name, comments.c.has_replies)).all())
        listed = _listed(conn, thread_id)
    db.dispose()
    assert marked == {"A1": True, "A2": False, "A3": False, "A4": False}
    assert listed == {
        "A1": CommentStatus.DELETED,
        "A2": CommentStatus.PUBLISHED,
        "A4": CommentStatus.PUBLISHED,
    }
