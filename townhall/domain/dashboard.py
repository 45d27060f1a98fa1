"""The numbers moderators watch: queue sizes, comments per day and how many were held or turned
down, the toxicity score distribution, the busiest and the hottest threads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from townhall.domain.errors import InvalidInput
from townhall.domain.services import Services
from townhall.store import dashboard as store
from townhall.types import CommentStatus

MAX_DAYS = 90
MAX_HOURS = 24 * 14


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    published: int
    held: int
    turned_down: int  # rejected or spam
    removed: int  # removed by a moderator or deleted by the author

    @property
    def total(self) -> int:
        return self.published + self.held + self.turned_down + self.removed


@dataclass(frozen=True)
class ThreadStat:
    id: int
    site: str
    key: str
    title: str
    url: str
    closed: bool
    comments: int = 0
    held: int = 0
    turned_down: int = 0
    flagged: int = 0


@dataclass(frozen=True)
class Dashboard:
    days: list[DayCount]
    histogram: list[int]  # comments per toxicity band of 0.1
    busiest: list[ThreadStat]
    hottest: list[ThreadStat]
    moderators: list[tuple[str, int]]
    queue: dict[str, int]
    actions: dict[str, int]  # audit log entries per action in the period
    hot_hours: int

    @property
    def total(self) -> int:
        return sum(d.total for d in self.days)

    def share(self, what: str) -> float:
        """Which part of the period's comments now stand as ``what`` (a DayCount field)."""
        total = self.total
        return sum(getattr(d, what) for d in self.days) / total if total else 0.0

    @property
    def held_on_arrival(self) -> float:
        """Which part of the period's comments the pipeline held when they arrived (some
        were approved since; ``share("held")`` counts those still waiting)."""
        total = self.total
        return min(1.0, self.actions.get("auto_pending", 0) / total) if total else 0.0


def _site_ids(services: Services, site_keys: Sequence[str] | None) -> list[int] | None:
    if site_keys is None:
        return None
    return [services.sites.get(k).id for k in site_keys]


def queue_counts(services: Services, site_keys: Sequence[str] | None) -> dict[str, int]:
    """Comments waiting in the Pending and Flagged queues of these sites (None: all)."""
    ids = _site_ids(services, site_keys)
    with services.db.read() as conn:
        return store.queue_counts(conn, ids)


def _thread(row: Any, **counts: int) -> ThreadStat:
    return ThreadStat(
        id=row["id"],
        site=row["site_key"],
        key=row["key"],
        title=row["title"] or row["key"],
        url=row["url"],
        closed=bool(row["closed"]),
        **counts,
    )


def dashboard(
    services: Services,
    site_keys: Sequence[str] | None,
    *,
    days: int = 14,
    hot_hours: int = 24,
    top: int = 8,
    now: dt.datetime | None = None,
) -> Dashboard:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}", field="days")
    if not 1 <= hot_hours <= MAX_HOURS:
        raise InvalidInput(f"hours must be between 1 and {MAX_HOURS}", field="hours")
    ids = _site_ids(services, site_keys)
    now = now or dt.datetime.now(dt.UTC)
    first_day = (now - dt.timedelta(days=days - 1)).date()
    since = dt.datetime.combine(first_day, dt.time(), tzinfo=dt.UTC)
    hot_since = now - dt.timedelta(hours=hot_hours)
    with services.db.read() as conn:
        daily, histogram = store.period_counts(conn, ids, since)
        busiest = store.busiest_threads(conn, ids, hot_since, top)
        hottest = store.hottest_threads(conn, ids, hot_since, top)
        moderators = store.actions_by_moderator(conn, ids, since, top)
        queue = store.queue_counts(conn, ids)
        actions = store.actions_count(conn, ids, since)
    buckets: dict[str, dict[str, int]] = {}
    for day_key, status, n in daily:
        bucket = buckets.setdefault(day_key, {})
        bucket[status] = bucket.get(status, 0) + n
    out_days = []
    for i in range(days):
        day = first_day + dt.timedelta(days=i)
        b = buckets.get(day.isoformat(), {})
        out_days.append(
            DayCount(
                day=day,
                published=b.get(CommentStatus.PUBLISHED, 0),
                held=b.get(CommentStatus.PENDING, 0),
                turned_down=b.get(CommentStatus.REJECTED, 0) + b.get(CommentStatus.SPAM, 0),
                removed=b.get(CommentStatus.REMOVED, 0) + b.get(CommentStatus.DELETED, 0),
            )
        )
    return Dashboard(
        days=out_days,
        histogram=histogram,
        busiest=[_thread(r, comments=int(r["comments"])) for r in busiest],
        hottest=[
            _thread(
                r,
                held=int(r["held"]),
                turned_down=int(r["turned_down"]),
                flagged=int(r["flagged"]),
                comments=int(r["trouble"]),
            )
            for r in hottest
        ],
        moderators=moderators,
        queue=queue,
        actions=actions,
        hot_hours=hot_hours,
    )
