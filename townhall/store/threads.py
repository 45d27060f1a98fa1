"""Queries on threads. Every write to a thread's comments bumps its version in the same
transaction; readers key their caches on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from townhall.store.schema import threads


def thread_by_key(conn: Connection, site_id: int, key: str) -> RowMapping | None:
    return (
        conn.execute(select(threads).where(threads.c.site_id == site_id, threads.c.key == key))
        .mappings()
        .first()
    )


def thread_by_id(conn: Connection, thread_id: int) -> RowMapping | None:
    return conn.execute(select(threads).where(threads.c.id == thread_id)).mappings().first()


def get_or_create_thread(
    conn: Connection, *, site_id: int, key: str, title: str, url: str, now: dt.datetime
) -> RowMapping:
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
    values: dict[str, Any] = {
        "version": threads.c.version + 1,
        "comment_count": threads.c.comment_count + count_delta,
    }
    if last_comment_at is not None:
        values["last_comment_at"] = last_comment_at
    conn.execute(update(threads).where(threads.c.id == thread_id).values(**values))


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
