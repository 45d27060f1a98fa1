"""Encoded thread pages, keyed by thread version: a hit costs a dict lookup.

Every write bumps the thread's version, so an entry is never stale, only unused; entries
are evicted least-recently-used. Bodies are stored both plain and gzipped."""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

GZIP_MIN_BYTES = 1024


@dataclass(frozen=True)
class Encoded:
    body: bytes
    gzipped: bytes | None
    etag: str

    @classmethod
    def of(cls, body: bytes) -> Encoded:
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        gzipped = gzip.compress(body, compresslevel=5) if len(body) >= GZIP_MIN_BYTES else None
        return cls(body=body, gzipped=gzipped, etag=etag)


PageKey = tuple[int, int, str, str, int]  # thread id, version, sort, cursor, limit


class PageCache:
    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._data: OrderedDict[PageKey, Encoded] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

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
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)
