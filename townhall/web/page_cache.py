"""Encoded thread pages, keyed by thread version: a hit costs a dict lookup.

Every write bumps the thread's version, so an entry is never stale, only unused. Entries of a
thread's older versions are dropped as soon as a newer version is seen (a write's event, or a
page of the newer version being stored); the rest are evicted least-recently-used, bounded by
bytes as well as by count.

A large body is kept gzipped only (browsers, the widget and every HTTP library ask for gzip);
the plain body is inflated again for the rare client that does not accept it. An entry also
keeps the response heads it was answered with (status, headers), built once per kind of
request (304, gzip, plain; the CORS variant), so a cache hit sends prebuilt bytes."""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from typing import Any

GZIP_MIN_BYTES = 1024
ENTRY_OVERHEAD = 2048  # bytes an entry costs beside its bodies: key, object, prebuilt heads
MAX_HEADS = 8  # response heads kept per entry (origins × 304/gzip/plain)

Head = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, raw headers, body


class Encoded:
    """One encoded response body with its ETag; ``body`` is the plain JSON."""

    __slots__ = ("_body", "etag", "gzipped", "heads", "size")

    def __init__(self, body: bytes | None, gzipped: bytes | None, etag: str) -> None:
        if body is None and gzipped is None:
            raise ValueError("an encoded page needs a body")
        self._body = body
        self.gzipped = gzipped
        self.etag = etag
        self.heads: dict[Any, Head] = {}
        self.size = len(body or b"") + len(gzipped or b"") + ENTRY_OVERHEAD  # bytes held

    @classmethod
    def of(cls, body: bytes) -> Encoded:
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        if len(body) < GZIP_MIN_BYTES:
            return cls(body, None, etag)
        return cls(body, gzip.compress(body, compresslevel=5, mtime=0), etag)

    def compact(self) -> None:
        """Keep the gzipped body only (a cached page: kept long, nearly always sent gzipped)."""
        if self.gzipped is not None and self._body is not None:
            self.size -= len(self._body)
            self._body = None

    @property
    def body(self) -> bytes:
        body = self._body  # read once: compact() may drop it meanwhile
        if body is not None:
            return body
        assert self.gzipped is not None
        return gzip.decompress(self.gzipped)

    def head(self, key: Any, build: Any) -> Head:
        """The prebuilt response for ``key`` (built by ``build()`` the first time)."""
        head = self.heads.get(key)
        if head is None:
            head = build()
            if len(self.heads) < MAX_HEADS:
                self.heads[key] = head
        return head


PageKey = tuple[int, int, str, str, int]  # thread id, version, sort, cursor, limit


class PageCache:
    """Pages by (thread id, version, sort, cursor, limit), at most ``entries`` of them and
    ``max_bytes`` bytes in all, least recently used first out."""

    def __init__(self, entries: int, max_bytes: int = 24 * 2**20) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._data: OrderedDict[PageKey, Encoded] = OrderedDict()
        self._by_thread: dict[int, tuple[int, set[PageKey]]] = {}  # id: (version, its keys)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: PageKey) -> Encoded | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                self.misses += 1
                return None
            self.hits += 1
            self._data.move_to_end(key)
            return hit

    def put(self, key: PageKey, value: Encoded) -> None:
        thread_id, version = key[0], key[1]
        with self._lock:
            known = self._by_thread.get(thread_id)
            if known is not None and known[0] != version:
                if known[0] > version:
                    return  # a newer version is cached already: this page is dead on arrival
                self._drop_thread(thread_id)
                known = None
            if known is None:
                known = (version, set())
                self._by_thread[thread_id] = known
            old = self._data.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            value.compact()
            self._data[key] = value
            known[1].add(key)
            self.bytes += value.size
            while self._data and (len(self._data) > self.entries or self.bytes > self.max_bytes):
                evicted, page = self._data.popitem(last=False)
                self.bytes -= page.size
                keys = self._by_thread.get(evicted[0])
                if keys is not None:
                    keys[1].discard(evicted)
                    if not keys[1]:
                        del self._by_thread[evicted[0]]

    def forget_older(self, thread_id: int, version: int) -> None:
        """Drop a thread's pages of versions before ``version`` (it has changed)."""
        with self._lock:
            known = self._by_thread.get(thread_id)
            if known is not None and known[0] < version:
                self._drop_thread(thread_id)

    def _drop_thread(self, thread_id: int) -> None:
        _version, keys = self._by_thread.pop(thread_id)
        for key in keys:
            page = self._data.pop(key, None)
            if page is not None:
                self.bytes -= page.size

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._by_thread.clear()
            self.bytes = 0
