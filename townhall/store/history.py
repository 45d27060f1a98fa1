"""The store's answers to what moderation checks ask about the past (moderation.History)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select

from townhall.store.database import Database
from townhall.store.driver import DriverQuery
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
_RECENT_POSTS = DriverQuery(
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
# The flood check's questions: first the thread's latest signatures, from the index alone
# (thread_id, created_at, signature); then, for the few that may be near copies, the rest.
_THREAD_SIGNATURES = DriverQuery(
    select(comments.c.id, comments.c.signature)
    .where(
        comments.c.thread_id == bindparam("thread_id"), comments.c.created_at >= bindparam("since")
    )
    .order_by(comments.c.created_at.desc())  # the index's order (an id after it would not be)
    .limit(bindparam("limit"))
)
_THREAD_TEXTS = select(
    comments.c.id, comments.c.reader_id, comments.c.ip_hash, comments.c.text
).where(comments.c.id.in_(bindparam("ids", expanding=True)))

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
_ACTIVE_BAN = DriverQuery(
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


_RECENT_COUNT = DriverQuery(
    select(func.count()).where(
        or_(
            comments.c.reader_id == bindparam("reader_id"),
            comments.c.ip_hash == bindparam("ip_hash"),
        ),
        comments.c.created_at >= bindparam("since"),
    )
)
_THREAD_RECENT_COUNT = DriverQuery(
    select(func.count()).where(
        comments.c.thread_id == bindparam("thread_id"),
        comments.c.created_at >= bindparam("since"),
    )
)
_RECENT_TEXTS = (
    select(comments.c.text)
    .where(
        or_(
            comments.c.reader_id == bindparam("reader_id"),
            comments.c.ip_hash == bindparam("ip_hash"),
        ),
        comments.c.created_at >= bindparam("since"),
    )
    .order_by(comments.c.id.desc())
    .limit(50)
)

PostRow = tuple[int, str | None, str | None, dt.datetime, str]
ThreadSignature = tuple[int, bytes | None]
ThreadText = tuple[int, str | None, str | None, str]


class ConnHistory:
    """The answers, on one connection: the posting path asks them inside its write
    transaction, so what the checks count is what the write will add to (no second count
    needed, no race between concurrent posts of one author) and one submission costs one
    connection, not one per question."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def approved_count(self, site_id: int, reader_id: str | None, email_hash: str | None) -> int:
        if not reader_id and not email_hash:
            return 0
        params = {
            "site_id": site_id,
            "reader_id": reader_id or None,
            "email_hash": email_hash or None,
        }
        return int(self.conn.execute(_APPROVED, params).scalar_one())

    def recent_count(
        self, *, reader_id: str | None, ip_hash: str | None, since: dt.datetime
    ) -> int:
        if not reader_id and not ip_hash:
            return 0
        params = {"reader_id": reader_id or None, "ip_hash": ip_hash or None, "since": since}
        return int(_RECENT_COUNT.scalar(self.conn, params))

    def thread_recent_count(self, thread_id: int, since: dt.datetime) -> int:
        params = {"thread_id": thread_id, "since": since}
        return int(_THREAD_RECENT_COUNT.scalar(self.conn, params))

    def recent_texts(
        self, *, thread_id: int, reader_id: str | None, ip_hash: str | None, since: dt.datetime
    ) -> list[str]:
        if not reader_id and not ip_hash:
            return []
        params = {"reader_id": reader_id or None, "ip_hash": ip_hash or None, "since": since}
        return [row[0] for row in self.conn.execute(_RECENT_TEXTS, params)]

    def recent_posts(
        self, *, reader_id: str | None, ip_hash: str | None, since: dt.datetime, limit: int
    ) -> list[PostRow]:
        if not reader_id and not ip_hash:
            return []
        params = {
            "reader_id": reader_id or None,
            "ip_hash": ip_hash or None,
            "since": since,
            "limit": limit,
        }
        return _RECENT_POSTS.tuples(self.conn, params)

    def thread_signatures(
        self, thread_id: int, since: dt.datetime, limit: int
    ) -> list[ThreadSignature]:
        params = {"thread_id": thread_id, "since": since, "limit": limit}
        return _THREAD_SIGNATURES.rows(self.conn, params)

    def thread_texts(self, ids: list[int]) -> list[ThreadText]:
        if not ids:
            return []
        return [tuple(row) for row in self.conn.execute(_THREAD_TEXTS, {"ids": ids}).fetchall()]

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
        found = _ACTIVE_BAN.mappings(self.conn, params)
        return found[0] if found else None


class SqlHistory:
    """The same answers, each on a connection of its own (for callers outside a transaction:
    the scoring command, benchmarks, moderator tools)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def approved_count(self, site_id: int, reader_id: str | None, email_hash: str | None) -> int:
        with self.db.read() as conn:
            return ConnHistory(conn).approved_count(site_id, reader_id, email_hash)

    def recent_count(
        self, *, reader_id: str | None, ip_hash: str | None, since: dt.datetime
    ) -> int:
        with self.db.read() as conn:
            return ConnHistory(conn).recent_count(reader_id=reader_id, ip_hash=ip_hash, since=since)

    def thread_recent_count(self, thread_id: int, since: dt.datetime) -> int:
        with self.db.read() as conn:
            return ConnHistory(conn).thread_recent_count(thread_id, since)

    def recent_texts(
        self, *, thread_id: int, reader_id: str | None, ip_hash: str | None, since: dt.datetime
    ) -> list[str]:
        with self.db.read() as conn:
            return ConnHistory(conn).recent_texts(
                thread_id=thread_id, reader_id=reader_id, ip_hash=ip_hash, since=since
            )

    def recent_posts(
        self, *, reader_id: str | None, ip_hash: str | None, since: dt.datetime, limit: int
    ) -> list[PostRow]:
        with self.db.read() as conn:
            return ConnHistory(conn).recent_posts(
                reader_id=reader_id, ip_hash=ip_hash, since=since, limit=limit
            )

    def thread_signatures(
        self, thread_id: int, since: dt.datetime, limit: int
    ) -> list[ThreadSignature]:
        with self.db.read() as conn:
            return ConnHistory(conn).thread_signatures(thread_id, since, limit)

    def thread_texts(self, ids: list[int]) -> list[ThreadText]:
        with self.db.read() as conn:
            return ConnHistory(conn).thread_texts(ids)

    def active_ban(
        self,
        site_id: int,
        *,
        reader_id: str | None,
        email_hash: str | None,
        ip_hash: str | None,
        now: dt.datetime,
    ) -> dict[str, Any] | None:
        with self.db.read() as conn:
            return ConnHistory(conn).active_ban(
                site_id, reader_id=reader_id, email_hash=email_hash, ip_hash=ip_hash, now=now
            )
