"""Queries on threads. Every write to a thread's comments bumps its version in the same
transaction; readers key their caches on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from townhall.store.driver import DriverQuery
from townhall.store.schema import threads

# Statements on the posting path are built once: SQLAlchemy then skips building and
# cache-keying them on every call (a measurable share of a post's CPU time).
_BY_KEY = DriverQuery(
    select(threads).where(
        threads.c.site_id == bindparam("site_id"), threads.c.key == bindparam("key")
    )
)
_BY_ID = select(threads).where(threads.c.id == bindparam("thread_id"))
_BUMP = (
    update(threads)
    .where(threads.c.id == bindparam("thread_id"))
    .values(
        version=threads.c.version + 1,
        comment_count=threads.c.comment_count + bindparam("delta"),
    )
)
_BUMP_LAST = _BUMP.values(last_comment_at=bindparam("last"))
_BUMP_LAST_RETURNING = DriverQuery(_BUMP_LAST.returning(*threads.c))


def thread_by_key(conn: Connection, site_id: int, key: str) -> Mapping[str, Any] | None:
    found = _BY_KEY.mappings(conn, {"site_id": site_id, "key": key})
    return found[0] if found else None


def thread_by_id(conn: Connection, thread_id: int) -> RowMapping | None:
    return conn.execute(_BY_ID, {"thread_id": thread_id}).mappings().first()


def get_or_create_thread(
    conn: Connection, *, site_id: int, key: str, title: str, url: str, now: dt.datetime
) -> Mapping[str, Any]:
    found = thread_by_key(conn, site_id, key)
    if found is not None:
        return found
    try:
        with conn.begin_nested():
            conn.execute(
                insert(threads).values(
                    site_id=site_id,
                    key=key,
                    title=title,
                    url=url,
                    closed=False,
                    comment_count=0,
                    version=1,
                    created_at=now,
                )
            )
    except IntegrityError:
        pass  # another node created it first; use theirs
    found = thread_by_key(conn, site_id, key)
    assert found is not None
    return found


def bump(
    conn: Connection,
    thread_id: int,
    *,
    count_delta: int = 0,
    last_comment_at: dt.datetime | None = None,
) -> None:
    params = {"thread_id": thread_id, "delta": count_delta}
    if last_comment_at is None:
        conn.execute(_BUMP, params)
    else:
        conn.execute(_BUMP_LAST, {**params, "last": last_comment_at})


def bump_returning(
    conn: Connection, thread_id: int, *, count_delta: int, last_comment_at: dt.datetime
) -> Mapping[str, Any]:
    """``bump``, answering with the thread as it is now (one statement, not two)."""
    params = {"thread_id": thread_id, "delta": count_delta, "last": last_comment_at}
    [thread] = _BUMP_LAST_RETURNING.mappings(conn, params)
    return thread


def update_thread(conn: Connection, thread_id: int, **values: Any) -> None:
    values["version"] = threads.c.version + 1
    conn.execute(update(threads).where(threads.c.id == thread_id).values(**values))


def threads_by_keys(conn: Connection, site_id: int, keys: Sequence[str]) -> list[RowMapping]:
    return list(
        conn.execute(
            select(threads).where(threads.c.site_id == site_id, threads.c.key.in_(list(keys)))
        ).mappings()
    )


def threads_of_site(conn: Connection, site_id: int) -> list[RowMapping]:
    return list(
        conn.execute(
            select(threads).where(threads.c.site_id == site_id).order_by(threads.c.id)
        ).mappings()
    )
