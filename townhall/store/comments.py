"""Queries on comments, votes and flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    bindparam,
    false,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError

from townhall.store.driver import DriverQuery
from townhall.store.schema import LISTED, comments, flags, moderation_log, votes
from townhall.types import CommentStatus

# What a thread listing needs; the Markdown source, email and hashes stay in the database.
LISTING_COLUMNS = (
    comments.c.id,
    comments.c.parent_id,
    comments.c.depth,
    comments.c.status,
    comments.c.shadow,
    comments.c.author_name,
    comments.c.author_website,
    comments.c.html,
    comments.c.created_at,
    comments.c.edited_at,
    comments.c.likes,
    comments.c.dislikes,
    comments.c.reader_id,
)


_BY_ID = select(comments).where(comments.c.id == bindparam("comment_id"))
_INSERT = insert(comments)
# A new comment as the domain writes one (every column but these three): on the driver's cursor
# (store/driver.py), as SQLAlchemy's processing of 24 parameters cost more than the insert.
_NEW_KEYS = frozenset(c.name for c in comments.columns) - {"id", "user_id", "source_id"}
_INSERT_NEW = DriverQuery(
    insert(comments)
    .values({name: bindparam(f"new_{name}") for name in sorted(_NEW_KEYS)})
    .returning(comments.c.id)
)


def insert_comment(conn: Connection, **values: Any) -> int:
    if values.keys() == _NEW_KEYS:
        comment_id = int(_INSERT_NEW.scalar(conn, {f"new_{k}": v for k, v in values.items()}))
    else:
        result = conn.execute(_INSERT, values)
        assert result.inserted_primary_key is not None
        comment_id = int(result.inserted_primary_key[0])
    if values.get("parent_id") is not None:
        _MARK_PARENT.execute(conn, {"parent_id": values["parent_id"]})
    return comment_id


def mark_replied(conn: Connection, parent_ids: Collection[int]) -> None:
    """Set ``has_replies`` on these comments: the parents of comments written in bulk
    (imports, a restore), as ``insert_comment`` does for one."""
    ids = sorted(set(parent_ids))
    for start in range(0, len(ids), 500):
        conn.execute(
            update(comments)
            .where(comments.c.id.in_(ids[start : start + 500]), comments.c.has_replies == false())
            .values(has_replies=true())
        )


def comment_by_id(conn: Connection, comment_id: int) -> RowMapping | None:
    return conn.execute(_BY_ID, {"comment_id": comment_id}).mappings().first()


# Built once (building it cost more than running it on a 50-comment thread): everything but
# deleted, removed and rejected comments without replies, which no reader can ever see. The
# condition is the partial index's own text (schema.LISTED), so the read goes through that
# index and never visits the rows it leaves out.
_LISTING = (
    select(*LISTING_COLUMNS)
    .where(comments.c.thread_id == bindparam("thread_id"), text(f"({LISTED})"))
    .order_by(comments.c.created_at, comments.c.id)
)
_MARK_PARENT = DriverQuery(
    update(comments)
    .where(comments.c.id == bindparam("parent_id"), comments.c.has_replies == false())
    .values(has_replies=true())
)


def listing_rows(conn: Connection, thread_id: int) -> list[RowMapping]:
    """The rows a thread's snapshot is built from (see ``_LISTING``): leaving out what nobody
    sees keeps a busy thread's cached snapshot from growing with every comment it ever had
    (issue 8's soak)."""
    return list(conn.execute(_LISTING, {"thread_id": thread_id}).mappings())


def update_comment(conn: Connection, comment_id: int, **values: Any) -> None:
    conn.execute(update(comments).where(comments.c.id == comment_id).values(**values))


def lock_author(conn: Connection, keys: Sequence[str]) -> None:
    """Until the transaction ends, serialise the writes of one author (reader id, IP hash), so
    that a count of their recent comments taken next is exact. SQLite serialises every writer
    already; PostgreSQL takes a transaction-level advisory lock per key."""
    if conn.dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


def has_children(conn: Connection, comment_id: int) -> bool:
    return (
        conn.execute(
            select(comments.c.id).where(comments.c.parent_id == comment_id).limit(1)
        ).first()
        is not None
    )


def set_vote(
    conn: Connection, comment_id: int, voter: str, value: int, now: dt.datetime
) -> tuple[int, int]:
    """Record (or withdraw, with 0) one reader's vote and return the new likes and dislikes.

    The counters move by the difference, so likes carried over from an import (which have
    no vote rows behind them) are kept."""
    previous = conn.execute(
        select(votes.c.value).where(votes.c.comment_id == comment_id, votes.c.voter == voter)
    ).scalar()
    old = int(previous or 0)
    if old != value:
        conn.execute(votes.delete().where(votes.c.comment_id == comment_id, votes.c.voter == voter))
        if value:
            conn.execute(
                insert(votes).values(
                    comment_id=comment_id, voter=voter, value=value, created_at=now
                )
            )
        conn.execute(
            update(comments)
            .where(comments.c.id == comment_id)
            .values(
                likes=comments.c.likes + (int(value > 0) - int(old > 0)),
                dislikes=comments.c.dislikes + (int(value < 0) - int(old < 0)),
            )
        )
    likes, dislikes = conn.execute(
        select(comments.c.likes, comments.c.dislikes).where(comments.c.id == comment_id)
    ).one()
    return int(likes), int(dislikes)


def add_flag(
    conn: Connection,
    comment_id: int,
    flagger: str,
    reason: str,
    note: str | None,
    now: dt.datetime,
) -> int | None:
    """Store a flag; returns the comment's new flag count, or None if this reader flagged it."""
    try:
        with conn.begin_nested():
            conn.execute(
                insert(flags).values(
                    comment_id=comment_id,
                    flagger=flagger,
                    reason=reason,
                    note=note,
                    created_at=now,
                )
            )
    except IntegrityError:
        return None
    conn.execute(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(flag_count=comments.c.flag_count + 1)
    )
    return int(
        conn.execute(select(comments.c.flag_count).where(comments.c.id == comment_id)).scalar_one()
    )


_LOG = insert(moderation_log)  # built once: .values() per call cost more than the insert


def log_action(
    conn: Connection,
    *,
    site_id: int | None,
    actor: str,
    action: str,
    now: dt.datetime,
    thread_id: int | None = None,
    comment_id: int | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        _LOG,
        {
            "site_id": site_id,
            "thread_id": thread_id,
            "comment_id": comment_id,
            "actor": actor,
            "action": action,
            "reason": reason[:1000],
            "details": details,
            "created_at": now,
        },
    )


def visible_child_count(conn: Connection, comment_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(
                comments.c.parent_id == comment_id,
                comments.c.status.in_(
                    [CommentStatus.PUBLISHED, CommentStatus.DELETED, CommentStatus.REMOVED]
                ),
            )
        ).scalar_one()
    )


def erase_ip_hashes(conn: Connection, before: dt.datetime) -> int:
    """Forget which address posted comments older than ``before``; returns how many."""
    result = conn.execute(
        update(comments)
        .where(comments.c.created_at < before, comments.c.ip_hash.is_not(None))
        .values(ip_hash=None)
    )
    return int(result.rowcount or 0)


def stop_reply_mail(conn: Connection, comment_id: int) -> int:
    """No more reply mail for this comment's author (every comment of that address)."""
    row = conn.execute(select(comments.c.email_hash).where(comments.c.id == comment_id)).first()
    if row is None:
        return 0
    target = comments.c.email_hash == row[0] if row[0] is not None else comments.c.id == comment_id
    result = conn.execute(update(comments).where(target).values(notify_replies=False))
    return int(result.rowcount or 0)
