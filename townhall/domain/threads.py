"""Threads: named by site key + thread key, created by their first comment; and reading them."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from townhall.domain.errors import InvalidInput
from townhall.domain.events import ThreadChanged
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


_CHECKED: dict[str, str] = {}  # thread keys already checked: the same ones come again and again
CHECKED_MEMO = 20000


def check_thread_key(key: Any, field: str = "thread") -> str:
    if isinstance(key, str):
        checked = _CHECKED.get(key)
        if checked is not None:
            return checked
    clean = _check_thread_key(key, field)
    if len(_CHECKED) >= CHECKED_MEMO:
        _CHECKED.clear()
    _CHECKED[key] = clean
    return clean


def _check_thread_key(key: Any, field: str) -> str:
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


class ThreadIndex:
    """Thread rows by site and key, so a cached read needs no database round trip.

    An entry is dropped as soon as this node hears of a change to its thread (local writes,
    and other nodes' writes over the PostgreSQL relay); ``ttl`` bounds how long a change
    made where no event reaches us (another process on the same SQLite file, a lost relay
    connection) can go unseen."""

    def __init__(self, db: Database, ttl: float = 2.0, entries: int = 20000) -> None:
        self.db = db
        self.ttl = ttl
        self.entries = entries
        self._data: dict[tuple[str, str], tuple[float, Thread | None]] = {}
        self._lock = threading.Lock()

    def peek(self, site_key: str, key: str) -> Thread | Missing | None:
        hit = self._data.get((site_key, key))
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return MISSING
        return hit[1]

    def peek_counts(self, site_key: str, keys: Sequence[str]) -> dict[str, int] | None:
        """Visible comments per thread if every thread is in the index, else None."""
        data = self._data
        now = time.monotonic()
        ttl = self.ttl
        out: dict[str, int] = {}
        for key in keys:
            hit = data.get((site_key, key))
            if hit is None or now - hit[0] > ttl:
                return None
            thread = hit[1]
            out[key] = thread.count if thread is not None else 0
        return out

    def get(self, site: Site, key: str) -> Thread | None:
        hit = self.peek(site.key, key)
        if not isinstance(hit, Missing):
            return hit
        thread = find_thread(self.db, site, key)
        with self._lock:
            if len(self._data) >= self.entries:
                self._data.clear()  # rare; a cold cache costs one query per thread
            self._data[(site.key, key)] = (time.monotonic(), thread)
        return thread

    def get_many(self, site: Site, keys: Sequence[str]) -> dict[str, Thread | None]:
        found: dict[str, Thread | None] = {}
        wanted = []
        for key in keys:
            hit = self.peek(site.key, key)
            if isinstance(hit, Missing):
                wanted.append(key)
            else:
                found[key] = hit
        if wanted:
            with self.db.read() as conn:
                rows = thread_store.threads_by_keys(conn, site.id, wanted)
            fetched = {row["key"]: Thread.from_row(row) for row in rows}
            now = time.monotonic()
            with self._lock:
                if len(self._data) + len(wanted) > self.entries:
                    self._data.clear()
                for key in wanted:
                    found[key] = fetched.get(key)
                    self._data[(site.key, key)] = (now, found[key])
        return found

    def forget(self, event: ThreadChanged) -> None:
        with self._lock:
            self._data.pop((event.site_key, event.thread_key), None)


class Missing:
    """Not in the index (as opposed to None: known not to exist)."""


MISSING = Missing()


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
    cache.put(thread.id, version, snap)
    return snap


def reader_snapshot(
    db: Database, cache: SnapshotCache, thread: Thread, reader_id: str | None
) -> Snapshot | None:
    """The thread as one reader sees it, when that differs from everybody's (their own held or
    shadow-banned comments); None when it does not."""
    if reader_id is None:
        return None
    if reader_id not in load_snapshot(db, cache, thread).hidden_readers:
        return None
    hit = cache.get(thread.id, thread.version)
    rows: Iterable[Any]
    if hit is None:
        with db.read() as conn:
            rows = comment_store.listing_rows(conn, thread.id)
    else:
        rows = hit[1]  # the public snapshot's nodes: the same rows, already read
    return build_snapshot(rows, reader_id=reader_id)


def page(snap: Snapshot, *, sort: Sort, limit: int, cursor: str | None, replies_cap: int) -> Page:
    return cut_page(snap, sort=sort, limit=limit, cursor=cursor, replies_cap=replies_cap)


def check_count_keys(keys: Sequence[str]) -> list[str]:
    if len(keys) > MAX_COUNT_THREADS:
        raise InvalidInput(
            f"at most {MAX_COUNT_THREADS} threads per request; split the list", field="thread"
        )
    return [check_thread_key(k) for k in keys]


def counts(index: ThreadIndex, site: Site, keys: Sequence[str]) -> dict[str, int]:
    """Visible comments per thread; unknown threads count 0."""
    found = index.get_many(site, check_count_keys(keys))
    return {k: (t.count if t is not None else 0) for k, t in found.items()}


def cached_counts(index: ThreadIndex, site: Site, keys: Sequence[str]) -> dict[str, int] | None:
    """The counts if every thread is in the index, without touching the database."""
    return index.peek_counts(site.key, keys)
