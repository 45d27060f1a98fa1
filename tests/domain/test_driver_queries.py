"""Statements on the driver's cursor (store/driver.py) behave as SQLAlchemy's own: the same
rows, the same stored values, the same exceptions, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, exc, insert, select

from townhall.domain.services import Services
from townhall.domain.sites import Site
from townhall.store.driver import DriverQuery
from townhall.store.schema import comments, threads
from townhall.types import CommentStatus

_THREAD = (
    insert(threads)
    .values(
        site_id=bindparam("site"),
        key=bindparam("key"),
        title="T",
        url="",
        closed=False,
        comment_count=0,
        version=1,
        created_at=bindparam("at"),
    )
    .returning(threads.c.id)
)


def test_a_driver_insert_stores_what_sqlalchemy_stores(services: Services, site: Site) -> None:
    at = dt.datetime(2026, 11, 27, 4, 5, 6, tzinfo=dt.UTC)  # no microseconds: formats differ
    with services.db.write() as conn:
        by_driver = DriverQuery(_THREAD).scalar(conn, {"site": site.id, "key": "/a", "at": at})
        by_sqla = conn.execute(_THREAD, {"site": site.id, "key": "/b", "at": at}).scalar_one()
    with services.db.read() as conn:
        rows = conn.execute(
            select(threads.c.key, threads.c.created_at, threads.c.closed).order_by(threads.c.id)
        ).all()
        stored = conn.exec_driver_sql("SELECT created_at FROM threads ORDER BY id").all()
    assert by_driver != by_sqla
    assert stored[0] == stored[1]  # byte for byte what SQLAlchemy writes
    assert rows == [("/a", at, False), ("/b", at, False)]
    # the stored time compares as SQLAlchemy's own does, on the driver's cursor too
    since = DriverQuery(select(threads.c.key).where(threads.c.created_at >= bindparam("since")))
    with services.db.write() as conn:
        assert since.rows(conn, {"since": at}) == [("/a",), ("/b",)]
        assert since.rows(conn, {"since": at + dt.timedelta(microseconds=1)}) == []


def test_driver_errors_are_sqlalchemys(services: Services, site: Site) -> None:
    at = dt.datetime.now(dt.UTC)
    query = DriverQuery(_THREAD)
    with pytest.raises(exc.IntegrityError), services.db.write() as conn:
        query.scalar(conn, {"site": site.id, "key": "/same", "at": at})
        query.scalar(conn, {"site": site.id, "key": "/same", "at": at})
    with services.db.read() as conn:  # the transaction was rolled back as a whole
        assert conn.execute(select(threads.c.id)).all() == []
    bad = DriverQuery(
        insert(comments)
        .values(
            thread_id=bindparam("thread"),
            depth=0,
            status=CommentStatus.PUBLISHED,
            author_name="a",
            text="t",
            html="t",
            created_at=bindparam("at"),
        )
        .returning(comments.c.id)
    )
    with pytest.raises(ValueError, match="shadow"), services.db.write() as conn:
        bad.scalar(conn, {"thread": 999_999, "at": at})  # column defaults are not applied


def test_driver_rows_are_converted_as_sqlalchemy_converts_them(
    services: Services, site: Site
) -> None:
    """Times, booleans, JSON and enums come back as the same Python values either way."""
    at = dt.datetime(2026, 11, 27, 4, 5, 6, 7, tzinfo=dt.UTC)
    every_column = select(threads).where(threads.c.key == bindparam("key"))
    with services.db.write() as conn:
        DriverQuery(_THREAD).scalar(conn, {"site": site.id, "key": "/a", "at": at})
        conn.execute(threads.update().values(closed=True, policy={"flags_to_hold": 2}))
        by_driver = DriverQuery(every_column).mappings(conn, {"key": "/a"})
        by_sqla = [dict(r) for r in conn.execute(every_column, {"key": "/a"}).mappings()]
    assert by_driver == by_sqla
    assert by_driver[0]["created_at"] == at and by_driver[0]["closed"] is True
    assert by_driver[0]["policy"] == {"flags_to_hold": 2}
