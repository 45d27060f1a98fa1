"""Threads: named by site key + thread key, created by their first comment; and reading them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from townhall.domain.errors import InvalidInput
from townhall.domain.listing import Page, Snapshot, SnapshotCache, build_snapshot, cut_page
from townhall.domain.sites import Site
from townhall.domain.views import ThreadView
from townhall.store import comments as comment_store
from townhall.store import threads as thread_store
from townhall.store.database import Database
from townhall.types import Sort

MAX_COUNT_THREADS = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Thread:
    id: int
    site_id: int
    key: str
    title: str
    url: str
    closed: bool
    policy: dict[str, Any] | None
    count: int
    version: int

    @classmethod
    def from_row(cls, row: Any) -> Thread:
        return cls(
            id=row["id"],
            site_id=row["site_id"],
            key=row["key"],
            title=row["title"],
            url=row["url"],
            closed=bool(row["closed"]),
            policy=row["policy"],
            count=row["comment_count"],
            version=row["version"],
        )

    def view(self, site: Site, premoderated: bool) -> ThreadView:
        return ThreadView(
            key=self.key,
            title=self.title,
            url=self.url,
            count=self.count,
            closed=self.closed,
            edit_window_seconds=site.edit_window_seconds,
            premoderated=premoderated,
        )


def check_thread_key(key: Any, field: str = "thread") -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput(
            "thread is required: the article's identifier or its URL path", field=field
        )
    key = key.strip()
    if len(key) > 512 or _CONTROL.search(key):
        raise InvalidInput(
            "thread must be at most 512 characters without control characters", field=field
        )
    return str(key)


def check_page_url(site: Site, url: str | None, field: str = "thread_url") -> str:
    if not url:
        return ""
    if len(url) > 2048:
        raise InvalidInput("thread_url must be at most 2048 characters", field=field)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("thread_url must be an http(s) URL of the article", field=field)
    if not site.allows_url(url):
        raise InvalidInput(
            f"thread_url {url!r} is not on an allowed origin of site {site.key!r}", field=field
        )
    return url


def find_thread(db: Database, site: Site, key: str) -> Thread | None:
    with db.read() as conn:
        row = thread_store.thread_by_key(conn, site.id, key)
    return None if row is None else Thread.from_row(row)


def load_snapshot(db: Database, cache: SnapshotCache, thread: Thread) -> Snapshot:
    hit = cache.get(thread.id, thread.version)
    if hit is not None:
        return hit[0]
    with db.read() as conn:
        row = thread_store.thread_by_id(conn, thread.id)
        rows = comment_store.listing_rows(conn, thread.id)
    version = row["version"] if row is not None else thread.version
    snap = build_snapshot(rows)
    cache.put(thread.id, version, snap, rows)
    return snap


def reader_snapshot(
    db: Database, cache: SnapshotCache, thread: Thread, reader_id: str | None
) -> Snapshot | None:
    """The thread as one reader sees it, when that differs from everybody's (their own held or
    shadow-banned comments); None when it does not."""
    if reader_id is None:
        return None
    with db.read() as conn:
        if not comment_store.reader_has_hidden(conn, thread.id, reader_id):
            return None
    load_snapshot(db, cache, thread)
    hit = cache.get(thread.id, thread.version)
    if hit is None:
        with db.read() as conn:
            rows: Sequence[Any] = comment_store.listing_rows(conn, thread.id)
    else:
        rows = hit[1]
    return build_snapshot(rows, reader_id=reader_id)


def page(snap: Snapshot, *, sort: Sort, limit: int, cursor: str | None, replies_cap: int) -> Page:
    return cut_page(snap, sort=sort, limit=limit, cursor=cursor, replies_cap=replies_cap)


def counts(db: Database, site: Site, keys: Sequence[str]) -> dict[str, int]:
    if len(keys) > MAX_COUNT_THREADS:
        raise InvalidInput(
            f"at most {MAX_COUNT_THREADS} threads per request; split the list", field="thread"
        )
    clean = [check_thread_key(k) for k in keys]
    with db.read() as conn:
        found = thread_store.counts_by_key(conn, site.id, clean)
    return {k: found.get(k, 0) for k in clean}
