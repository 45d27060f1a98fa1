"""The store's answers to what moderation checks ask about the past (moderation.History)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, func, or_, select

from townhall.store.database import Database
from townhall.store.schema import bans, comments, threads
from townhall.types import BanKind, CommentStatus

# Built once: the checks ask these for every submission, and building a statement costs more
# CPU than running it. A NULL parameter (no reader id, email or address) matches nothing.
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
        func.length(comments.c.text) >= bindparam("min_length"),
    )
    .order_by(comments.c.created_at.desc(), comments.c.id.desc())  # the index's own order
    .limit(bindparam("limit"))
)

_APPROVED = (
    select(func.count())
    .select_from(comments.join(threads, threads.c.id == comments.c.thread_id))
    .where(
        threads.c.site_id == bindparam("site_id"),
        # Wrapped so no planner drives this from the status index (every published comment
        # of every site): the author's own rows, found by reader id or email, are few.
        func.coalesce(comments.c.status, "") == CommentStatus.PUBLISHED.value,
        or_(
            comments.c.reader_id == bindparam("reader_id"),
            comments.c.email_hash == bindparam("email_hash"),
        ),
    )
)
_ACTIVE_BAN = (
    select(bans)
    .where(
        or_(
            (bans.c.kind == BanKind.READER) & (bans.c.value == bindparam("reader")),
            (bans.c.kind == BanKind.EMAIL) & (bans.c.value == bindparam("email")),
            (bans.c.kind == BanKind.IP) & (bans.c.value == bindparam("ip")),
        ),
        or_(bans.c.site_id.is_(None), bans.c.site_id == bindparam("site_id")),
        bans.c.lifted_at.is_(None),
        or_(bans.c.until.is_(None), bans.c.until > bindparam("now")),
    )
    .order_by(bans.c.shadow)  # a full ban wins over a shadow ban
    .limit(1)
)


class SqlHistory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def approved_count(self, site_id: int, reader_id: str | None, email_hash: str | None) -> int:
        if not reader_id and not email_hash:
            return 0
        params = {
            "site_id": site_id,
            "reader_id": reader_id or None,
            "email_hash": email_hash or None,
        }
        with self.db.read() as conn:
            return int(conn.execute(_APPROVED, params).scalar_one())

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
        params = {
            "reader_id": reader_id or None,
            "ip_hash": ip_hash or None,
            "since": since,
            "limit": limit,
        }
        with self.db.read() as conn:
            return [tuple(row) for row in conn.execute(_RECENT_POSTS, params)]

    def thread_posts(
        self, thread_id: int, since: dt.datetime, limit: int, min_length: int = 0
    ) -> list[tuple[int, str | None, str | None, dt.datetime, str]]:
        params = {"thread_id": thread_id, "since": since, "limit": limit, "min_length": min_length}
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
        if not reader_id and not email_hash and not ip_hash:
            return None
        params = {
            "site_id": site_id,
            "reader": reader_id[:80] if reader_id else None,
            "email": email_hash or None,
            "ip": ip_hash or None,
            "now": now,
        }
        with self.db.read() as conn:
            row = conn.execute(_ACTIVE_BAN, params).mappings().first()
        return dict(row) if row else None
