"""Queries on sites."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from townhall.store.schema import sites


def insert_site(
    conn: Connection,
    *,
    key: str,
    name: str,
    origins: list[str],
    edit_window_seconds: int,
    policy: dict[str, Any],
    now: dt.datetime,
) -> int:
    result = conn.execute(
        insert(sites).values(
            key=key,
            name=name,
            origins=origins,
            edit_window_seconds=edit_window_seconds,
            policy=policy,
            created_at=now,
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def site_by_key(conn: Connection, key: str) -> RowMapping | None:
    return conn.execute(select(sites).where(sites.c.key == key)).mappings().first()


def site_by_id(conn: Connection, site_id: int) -> RowMapping | None:
    return conn.execute(select(sites).where(sites.c.id == site_id)).mappings().first()


def all_sites(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(sites).order_by(sites.c.key)).mappings())


def update_site(conn: Connection, site_id: int, **values: Any) -> None:
    conn.execute(update(sites).where(sites.c.id == site_id).values(**values))
