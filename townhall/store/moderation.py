"""Queries behind the moderator actions: the queue, a reader's history, bans, notes and the
audit log. Same SQL on SQLite and PostgreSQL (SQLAlchemy Core)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    String,
    and_,
    cast,
    func,
    insert,
    or_,
    select,
    update,
)

from townhall.store.schema import (
    bans,
    comments,
    flags,
    moderation_log,
    reader_notes,
    sites,
    threads,
)
from townhall.types import BanKind, CommentStatus

# The thread and site a comment belongs to, beside the comment's own columns.
CONTEXT_COLUMNS = (
    threads.c.site_id,
    threads.c.key.label("thread_key"),
    threads.c.title.label("thread_title"),
    threads.c.url.label("thread_url"),
    threads.c.closed.label("thread_closed"),
    sites.c.key.label("site_key"),
)
_JOINED = comments.join(threads, threads.c.id == comments.c.thread_id).join(
    sites, sites.c.id == threads.c.site_id
)


def comment_in_context(
    conn: Connection, comment_id: int, *, lock: bool = False
) -> RowMapping | None:
    """A comment with its thread and site; ``lock`` holds the row until the transaction ends
    (PostgreSQL; SQLite's writer lock already serialises writes)."""
    query = (
        select(comments, *CONTEXT_COLUMNS).select_from(_JOINED).where(comments.c.id == comment_id)
    )
    if lock:
        query = query.with_for_update(of=comments)
    return conn.execute(query).mappings().first()


def thread_for_update(conn: Connection, thread_id: int) -> RowMapping | None:
    query = (
        select(threads, sites.c.key.label("site_key"), sites.c.policy.label("site_policy"))
        .select_from(threads.join(sites, sites.c.id == threads.c.site_id))
        .where(threads.c.id == thread_id)
        .with_for_update(of=threads)
    )
    return conn.execute(query).mappings().first()


# --- the queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueQuery:
    """What the store needs to cut one page of the queue (the domain validates it first)."""

    statuses: Sequence[CommentStatus]
    site_ids: Sequence[int] | None = None
    thread_id: int | None = None
    flagged_only: bool = False
    min_score: float | None = None
    max_score: float | None = None
    mentions: str | None = None  # a substring the moderation record must contain
    search: str | None = None
    before: tuple[dt.datetime, int] | None = None  # cursor: (created_at, id) of the last row
    limit: int = 50


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def queue_page(conn: Connection, q: QueueQuery) -> list[RowMapping]:
    """Comments matching ``q``, newest first, at most ``q.limit``."""
    where: list[ColumnElement[bool]] = [comments.c.status.in_([s.value for s in q.statuses])]
    if q.site_ids is not None:
        where.append(threads.c.site_id.in_(list(q.site_ids)))
    if q.thread_id is not None:
        where.append(comments.c.thread_id == q.thread_id)
    if q.flagged_only:
        where.append(comments.c.flag_count > 0)
    if q.min_score is not None:
        where.append(comments.c.toxicity >= q.min_score)
    if q.max_score is not None:
        where.append(comments.c.toxicity <= q.max_score)
    if q.mentions:
        where.append(
            func.lower(cast(comments.c.moderation, String)).like(_like(q.mentions), escape="\\")
        )
    if q.search:
        pattern = _like(q.search)
        where.append(
            or_(
                func.lower(comments.c.text).like(pattern, escape="\\"),
                func.lower(comments.c.author_name).like(pattern, escape="\\"),
                func.lower(func.coalesce(comments.c.author_email, "")).like(pattern, escape="\\"),
            )
        )
    if q.before is not None:
        created, cid = q.before
        where.append(
            or_(
                comments.c.created_at < created,
                and_(comments.c.created_at == created, comments.c.id < cid),
            )
        )
    query = (
        select(comments, *CONTEXT_COLUMNS)
        .select_from(_JOINED)
        .where(*where)
        .order_by(comments.c.created_at.desc(), comments.c.id.desc())
        .limit(q.limit)
    )
    return list(conn.execute(query).mappings())


def flags_of(conn: Connection, comment_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Reader flags per comment, oldest first (the flagger's key stays in the database)."""
    out: dict[int, list[dict[str, Any]]] = {cid: [] for cid in comment_ids}
    if not comment_ids:
        return out
    rows = conn.execute(
        select(flags.c.comment_id, flags.c.reason, flags.c.note, flags.c.created_at)
        .where(flags.c.comment_id.in_(list(comment_ids)))
        .order_by(flags.c.id)
    )
    for cid, reason, note, created in rows:
        out[cid].append({"reason": reason, "note": note, "created_at": created})
    return out


# --- readers -----------------------------------------------------------------------------------


def author_key(row: Any) -> tuple[str, str] | None:
    """Who wrote a comment, as precisely as the row allows: reader id, else email hash, else
    address hash. Notes and history are kept per key."""
    for kind, column in (("reader", "reader_id"), ("email", "email_hash"), ("ip", "ip_hash")):
        if row[column]:
            return kind, str(row[column])
    return None


def _author_clause(kind: str, value: str) -> ColumnElement[bool]:
    column = {
        "reader": comments.c.reader_id,
        "email": comments.c.email_hash,
        "ip": comments.c.ip_hash,
    }
    return column[kind] == value


def status_counts(
    conn: Connection, site_id: int, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, int]]:
    """How many of each author's comments on a site stand in each status."""
    out: dict[tuple[str, str], dict[str, int]] = {k: {} for k in keys}
    by_kind: dict[str, list[str]] = {}
    for kind, value in keys:
        by_kind.setdefault(kind, []).append(value)
    columns = {
        "reader": comments.c.reader_id,
        "email": comments.c.email_hash,
        "ip": comments.c.ip_hash,
    }
    for kind, values in by_kind.items():
        column = columns[kind]
        rows = conn.execute(
            select(column, comments.c.status, func.count())
            .select_from(comments.join(threads, threads.c.id == comments.c.thread_id))
            .where(threads.c.site_id == site_id, column.in_(values))
            .group_by(column, comments.c.status)
        )
        for value, status, count in rows:
            out[(kind, value)][str(status)] = int(count)
    return out


def author_comments(
    conn: Connection, site_id: int, key: tuple[str, str], limit: int
) -> list[RowMapping]:
    query = (
        select(comments, *CONTEXT_COLUMNS)
        .select_from(_JOINED)
        .where(threads.c.site_id == site_id, _author_clause(*key))
        .order_by(comments.c.created_at.desc(), comments.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


def insert_note(
    conn: Connection, *, site_id: int, reader_key: str, note: str, actor: str, now: dt.datetime
) -> int:
    result = conn.execute(
        insert(reader_notes).values(
            site_id=site_id, reader_key=reader_key, note=note, created_by=actor, created_at=now
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def notes_of(conn: Connection, site_id: int, reader_key: str) -> list[RowMapping]:
    return list(
        conn.execute(
            select(reader_notes)
            .where(reader_notes.c.site_id == site_id, reader_notes.c.reader_key == reader_key)
            .order_by(reader_notes.c.id.desc())
        ).mappings()
    )


# --- bans --------------------------------------------------------------------------------------


def _active(now: dt.datetime) -> ColumnElement[bool]:
    return and_(bans.c.lifted_at.is_(None), or_(bans.c.until.is_(None), bans.c.until > now))


def active_ban_for(
    conn: Connection, *, site_id: int | None, kind: BanKind, value: str, now: dt.datetime
) -> RowMapping | None:
    site_clause = bans.c.site_id.is_(None) if site_id is None else bans.c.site_id == site_id
    return (
        conn.execute(
            select(bans).where(
                bans.c.kind == kind, bans.c.value == value, site_clause, _active(now)
            )
        )
        .mappings()
        .first()
    )


def insert_ban(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(bans).values(**values))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def ban_by_id(conn: Connection, ban_id: int) -> RowMapping | None:
    return conn.execute(select(bans).where(bans.c.id == ban_id)).mappings().first()


def lift_ban(conn: Connection, ban_id: int, now: dt.datetime) -> None:
    conn.execute(update(bans).where(bans.c.id == ban_id).values(lifted_at=now))


def bans_matching(
    conn: Connection,
    *,
    site_ids: Sequence[int] | None,
    now: dt.datetime,
    active_only: bool = True,
    values: Sequence[tuple[BanKind, str]] = (),
    limit: int = 200,
) -> list[RowMapping]:
    where: list[ColumnElement[bool]] = []
    if active_only:
        where.append(_active(now))
    if site_ids is not None:
        where.append(or_(bans.c.site_id.is_(None), bans.c.site_id.in_(list(site_ids))))
    if values:
        where.append(or_(*[(bans.c.kind == k) & (bans.c.value == v) for k, v in values]))
    query = select(bans).where(*where).order_by(bans.c.id.desc()).limit(limit)
    return list(conn.execute(query).mappings())


# --- the audit log -----------------------------------------------------------------------------


def log_page(
    conn: Connection,
    *,
    site_ids: Sequence[int] | None,
    actor: str | None,
    action: str | None,
    comment_id: int | None,
    thread_id: int | None,
    before_id: int | None,
    limit: int,
) -> list[RowMapping]:
    where: list[ColumnElement[bool]] = []
    if site_ids is not None:
        where.append(moderation_log.c.site_id.in_(list(site_ids)))
    if actor:
        where.append(moderation_log.c.actor == actor)
    if action:
        where.append(moderation_log.c.action == action)
    if comment_id is not None:
        where.append(moderation_log.c.comment_id == comment_id)
    if thread_id is not None:
        where.append(moderation_log.c.thread_id == thread_id)
    if before_id is not None:
        where.append(moderation_log.c.id < before_id)
    query = select(moderation_log).where(*where).order_by(moderation_log.c.id.desc()).limit(limit)
    return list(conn.execute(query).mappings())
