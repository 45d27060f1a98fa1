"""The store's answers to what moderation checks ask about the past (moderation.History)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, func, or_, select

from townhall.store.database import Database
from townhall.store.schema import bans, comments, threads
from townhall.types import BanKind, CommentStatus

# Built once: the checks ask these for every submission, and building a statement costs more
# than running it. A NULL reader id or address matches nothing.
_POST_COLUMNS = (
    comments.c.thread_id,
    comments.c.reader_id,
    comments.c.ip_hash,
    comments.c.created_at,
    comments.c.text,
)
_RECENT_POSTS = (
    select(*_POST_COLUMNS)
    .where(
        or_(
            comments.c.reader_id == bindparam("reader_id"),
            comments.c.ip_hash == bindparam("ip_hash"),
        ),
        comments.c.created_at >= bindparam("since"),
    )
    .order_by(comments.c.id.desc())
    .limit(bindparam("limit"))
)
_THREAD_POSTS = (
    select(*_POST_COLUMNS)
    .where(
        comments.c.thread_id == bindparam("thread_id"),
        comments.c.created_at >= bindparam("since"),
    )
    .order_by(comments.c.id.desc())
    .limit(bindparam("limit"))
)


class SqlHistory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def approved_count(self, site_id: int, reader_id: str | None, email_hash: str | None) -> int:
        who = []
        if reader_id:
            who.append(comments.c.reader_id == reader_id)
        if email_hash:
            who.append(comments.c.email_hash == email_hash)
        if not who:
            return 0
        query = (
            select(func.count())
            .select_from(comments.join(threads, threads.c.id == comments.c.thread_id))
            .where(
                threads.c.site_id == site_id,
                comments.c.status == CommentStatus.PUBLISHED,
                or_(*who),
            )
        )
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def recent_count(
        self, *, reader_id: str | None, ip_hash: str | None, since: dt.datetime
    ) -> int:
        who = []
        if reader_id:
            who.append(comments.c.reader_id == reader_id)
        if ip_hash:
            who.append(comments.c.ip_hash == ip_hash)
        if not who:
            return 0
        query = select(func.count()).where(or_(*who), comments.c.created_at >= since)
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def thread_recent_count(self, thread_id: int, since: dt.datetime) -> int:
        query = select(func.count()).where(
            comments.c.thread_id == thread_id, comments.c.created_at >= since
        )
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def recent_texts(
        self, *, thread_id: int, reader_id: str | None, ip_hash: str | None, since: dt.datetime
    ) -> list[str]:
        who = []
        if reader_id:
            who.append(comments.c.reader_id == reader_id)
        if ip_hash:
            who.append(comments.c.ip_hash == ip_hash)
        if not who:
            return []
        query = (
            select(comments.c.text)
            .where(or_(*who), comments.c.created_at >= since)
            .order_by(comments.c.id.desc())
            .limit(50)
        )
        with self.db.read() as conn:
            return [row[0] for row in conn.execute(query)]

    def recent_posts(
        self, *, reader_id: str | None, ip_hash: str | None, since: dt.datetime, limit: int
    ) -> list[tuple[int, str | None, str | None, dt.datetime, str]]:
        if not reader_id and not ip_hash:
            return []
        params = {"reader_id": reader_id, "ip_hash": ip_hash, "since": since, "limit": limit}
        with self.db.read() as conn:
            return [tuple(row) for row in conn.execute(_RECENT_POSTS, params)]

    def thread_posts(
        self, thread_id: int, since: dt.datetime, limit: int
    ) -> list[tuple[int, str | None, str | None, dt.datetime, str]]:
        params = {"thread_id": thread_id, "since": since, "limit": limit}
        with self.db.read() as conn:
            return [tuple(row) for row in conn.execute(_THREAD_POSTS, params)]

    def active_ban(
        self,
        site_id: int,
        *,
        reader_id: str | None,
        email_hash: str | None,
        ip_hash: str | None,
        now: dt.datetime,
    ) -> dict[str, Any] | None:
        matches = []
        if reader_id:
            matches.append((bans.c.kind == BanKind.READER) & (bans.c.value == reader_id[:80]))
        if email_hash:
            matches.append((bans.c.kind == BanKind.EMAIL) & (bans.c.value == email_hash))
        if ip_hash:
            matches.append((bans.c.kind == BanKind.IP) & (bans.c.value == ip_hash))
        if not matches:
            return None
        query = (
            select(bans)
            .where(
                or_(*matches),
                or_(bans.c.site_id.is_(None), bans.c.site_id == site_id),
                bans.c.lifted_at.is_(None),
                or_(bans.c.until.is_(None), bans.c.until > now),
            )
            .order_by(bans.c.shadow)  # a full ban wins over a shadow ban
            .limit(1)
        )
        with self.db.read() as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row else None
