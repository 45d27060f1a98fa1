"""Queries on moderator and admin accounts, their sites and API tokens; and the lookups that
access checks need (which site a thread or a ban belongs to)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from townhall.store.schema import api_tokens, bans, sites, threads, user_sites, users


def insert_user(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(users).values(**values))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def user_by_id(conn: Connection, user_id: int) -> RowMapping | None:
    return conn.execute(select(users).where(users.c.id == user_id)).mappings().first()


def user_by_email(conn: Connection, email: str) -> RowMapping | None:
    return conn.execute(select(users).where(users.c.email == email)).mappings().first()


def user_by_id_for_update(conn: Connection, user_id: int) -> RowMapping | None:
    query = select(users).where(users.c.id == user_id).with_for_update()
    return conn.execute(query).mappings().first()


def all_users(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(users).order_by(users.c.email)).mappings())


def update_user(conn: Connection, user_id: int, **values: Any) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def bump_session_version(conn: Connection, user_id: int) -> None:
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(session_version=users.c.session_version + 1)
    )


def delete_user(conn: Connection, user_id: int) -> None:
    conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))
    conn.execute(delete(user_sites).where(user_sites.c.user_id == user_id))
    conn.execute(delete(users).where(users.c.id == user_id))


def site_ids_of(conn: Connection, user_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return out
    rows = conn.execute(
        select(user_sites.c.user_id, user_sites.c.site_id)
        .where(user_sites.c.user_id.in_(list(user_ids)))
        .order_by(user_sites.c.site_id)
    )
    for uid, sid in rows:
        out[uid].append(int(sid))
    return out


def set_sites(conn: Connection, user_id: int, site_ids: Sequence[int]) -> None:
    conn.execute(delete(user_sites).where(user_sites.c.user_id == user_id))
    if site_ids:
        conn.execute(insert(user_sites), [{"user_id": user_id, "site_id": s} for s in site_ids])


def site_ids_by_key(conn: Connection, keys: Sequence[str]) -> dict[str, int]:
    if not keys:
        return {}
    rows = conn.execute(select(sites.c.key, sites.c.id).where(sites.c.key.in_(list(keys))))
    return {key: int(sid) for key, sid in rows}


def site_keys(conn: Connection) -> dict[int, str]:
    return {int(sid): key for sid, key in conn.execute(select(sites.c.id, sites.c.key))}


# --- API tokens --------------------------------------------------------------------------------


def insert_token(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(api_tokens).values(**values))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def token_by_hash(conn: Connection, token_hash: str) -> RowMapping | None:
    query = select(api_tokens).where(
        api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None)
    )
    return conn.execute(query).mappings().first()


def token_by_id(conn: Connection, token_id: int) -> RowMapping | None:
    return conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).mappings().first()


def tokens(conn: Connection, user_id: int | None = None) -> list[RowMapping]:
    query = (
        select(api_tokens, users.c.email.label("user_email"))
        .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
        .order_by(api_tokens.c.id.desc())
    )
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    return list(conn.execute(query).mappings())


def touch_token(conn: Connection, token_id: int, now: dt.datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))


def revoke_token(conn: Connection, token_id: int, now: dt.datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=now))


# --- what access checks look up ----------------------------------------------------------------


def thread_with_site(conn: Connection, thread_id: int) -> RowMapping | None:
    """A thread with its site's key and policy."""
    query = (
        select(
            threads,
            sites.c.key.label("site_key"),
            sites.c.name.label("site_name"),
            sites.c.policy.label("site_policy"),
        )
        .select_from(threads.join(sites, sites.c.id == threads.c.site_id))
        .where(threads.c.id == thread_id)
    )
    return conn.execute(query).mappings().first()


def ban_site_id(conn: Connection, ban_id: int) -> tuple[bool, int | None]:
    """(whether the ban exists, its site id: None for a ban on every site)."""
    row = conn.execute(select(bans.c.site_id).where(bans.c.id == ban_id)).first()
    if row is None:
        return False, None
    return True, None if row[0] is None else int(row[0])
