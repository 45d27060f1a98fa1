"""Aggregate queries for the moderators' dashboard and queue badges. Same SQL on SQLite and
PostgreSQL: ``date()`` exists on both, and ``COUNT(*) FILTER (WHERE ...)`` too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, RowMapping, and_, func, or_, select

from townhall.store.schema import comments, flags, moderation_log, sites, threads
from townhall.types import CommentStatus

_HELD = (CommentStatus.PENDING.value,)
_TURNED_DOWN = (CommentStatus.REJECTED.value, CommentStatus.SPAM.value)
_JOINED = comments.join(threads, threads.c.id == comments.c.thread_id)


def _sites(site_ids: Sequence[int] | None) -> list[ColumnElement[bool]]:
    return [] if site_ids is None else [threads.c.site_id.in_(list(site_ids))]


def queue_counts(conn: Connection, site_ids: Sequence[int] | None) -> dict[str, int]:
    """How many comments wait in the Pending and Flagged queues. Polled by every open moderator
    page, so both counts start from small sets: held comments through the (status, created_at)
    index, flagged ones through the flags table (flags are rare; published comments are not)."""
    pending_from = comments if site_ids is None else _JOINED
    pending = conn.execute(
        select(func.count())
        .select_from(pending_from)
        .where(comments.c.status == CommentStatus.PENDING.value, *_sites(site_ids))
    ).scalar_one()
    # Drive from the flags (few) to their comments by primary key: a planner starting from
    # the comments' status index would walk every published comment.
    waiting = (
        select(comments.c.id)
        .select_from(comments if site_ids is None else _JOINED)
        .where(
            comments.c.id == flags.c.comment_id,
            comments.c.flag_count > 0,
            comments.c.status.in_([CommentStatus.PUBLISHED.value, CommentStatus.PENDING.value]),
            *_sites(site_ids),
        )
    )
    flagged = conn.execute(
        select(func.count(func.distinct(flags.c.comment_id))).where(waiting.exists())
    ).scalar_one()
    return {"pending": int(pending), "flagged": int(flagged)}


def period_counts(
    conn: Connection, site_ids: Sequence[int] | None, since: dt.datetime, bins: int = 10
) -> tuple[list[tuple[str, str, int]], list[int]]:
    """In one pass over the comments written since ``since``: (UTC day "YYYY-MM-DD", status,
    comments) rows, and comments per toxicity band [i/bins, (i+1)/bins) (the last includes 1)."""
    day = func.date(comments.c.created_at)
    score = comments.c.toxicity
    bands = []
    for i in range(bins):
        low, high = i / bins, (i + 1) / bins
        upper = score <= high if i == bins - 1 else score < high
        bands.append(func.count().filter(and_(score >= low, upper)))
    rows = conn.execute(
        select(day, comments.c.status, func.count(), *bands)
        .select_from(comments if site_ids is None else _JOINED)
        .where(comments.c.created_at >= since, *_sites(site_ids))
        .group_by(day, comments.c.status)
    ).all()
    daily = [(str(r[0])[:10], str(r[1]), int(r[2])) for r in rows]
    histogram = [sum(int(r[3 + i]) for r in rows) for i in range(bins)]
    return daily, histogram


def busiest_threads(
    conn: Connection, site_ids: Sequence[int] | None, since: dt.datetime, limit: int
) -> list[RowMapping]:
    """Threads with the most comments written since ``since``."""
    n = func.count().label("comments")
    query = (
        select(
            threads.c.id,
            threads.c.key,
            threads.c.title,
            threads.c.url,
            threads.c.closed,
            sites.c.key.label("site_key"),
            n,
        )
        .select_from(_JOINED.join(sites, sites.c.id == threads.c.site_id))
        .where(comments.c.created_at >= since, *_sites(site_ids))
        .group_by(
            threads.c.id,
            threads.c.key,
            threads.c.title,
            threads.c.url,
            threads.c.closed,
            sites.c.key,
        )
        .order_by(n.desc(), threads.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


def hottest_threads(
    conn: Connection, site_ids: Sequence[int] | None, since: dt.datetime, limit: int
) -> list[RowMapping]:
    """Threads with the most comments held, turned down or flagged since ``since``: where a
    discussion is going wrong."""
    trouble = or_(
        comments.c.status.in_(_HELD + _TURNED_DOWN),
        comments.c.flag_count > 0,
    )
    held = func.count().filter(comments.c.status.in_(_HELD)).label("held")
    turned_down = func.count().filter(comments.c.status.in_(_TURNED_DOWN)).label("turned_down")
    flagged = func.count().filter(comments.c.flag_count > 0).label("flagged")
    total = func.count().label("trouble")
    query = (
        select(
            threads.c.id,
            threads.c.key,
            threads.c.title,
            threads.c.url,
            threads.c.closed,
            sites.c.key.label("site_key"),
            held,
            turned_down,
            flagged,
            total,
        )
        .select_from(_JOINED.join(sites, sites.c.id == threads.c.site_id))
        .where(comments.c.created_at >= since, trouble, *_sites(site_ids))
        .group_by(
            threads.c.id,
            threads.c.key,
            threads.c.title,
            threads.c.url,
            threads.c.closed,
            sites.c.key,
        )
        .order_by(total.desc(), threads.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


def actions_by_moderator(
    conn: Connection, site_ids: Sequence[int] | None, since: dt.datetime, limit: int
) -> list[tuple[str, int]]:
    """Decisions per moderator since ``since`` (the pipeline's "system" entries left out)."""
    n = func.count().label("n")
    where: list[ColumnElement[bool]] = [
        moderation_log.c.created_at >= since,
        moderation_log.c.actor != "system",
        moderation_log.c.actor != "author",
        # decisions on comments, readers and threads; not account changes
        or_(
            moderation_log.c.comment_id.is_not(None),
            moderation_log.c.thread_id.is_not(None),
            moderation_log.c.action.in_(["ban", "shadow_ban", "unban", "update_policy"]),
        ),
    ]
    if site_ids is not None:
        where.append(moderation_log.c.site_id.in_(list(site_ids)))
    rows = conn.execute(
        select(moderation_log.c.actor, n)
        .where(*where)
        .group_by(moderation_log.c.actor)
        .order_by(n.desc())
        .limit(limit)
    )
    return [(str(actor), int(count)) for actor, count in rows]


def actions_count(
    conn: Connection, site_ids: Sequence[int] | None, since: dt.datetime
) -> dict[str, int]:
    """Audit log entries per action since ``since`` (e.g. ``auto_pending``: held on arrival)."""
    where: list[ColumnElement[bool]] = [moderation_log.c.created_at >= since]
    if site_ids is not None:
        where.append(moderation_log.c.site_id.in_(list(site_ids)))
    rows = conn.execute(
        select(moderation_log.c.action, func.count())
        .where(*where)
        .group_by(moderation_log.c.action)
    )
    return {str(action): int(n) for action, n in rows}
