"""Request rate limits per client address, in front of everything else.

Fixed windows of ten seconds per address and class (reads, writes): cheap, and the same
arithmetic in memory and in Redis (INCR + EXPIRE), so one node or many behave alike. The
moderation pipeline has its own, finer per-reader limits on posting; this layer keeps a flood
from costing the database anything."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from townhall.web.errors import error_response

log = logging.getLogger(__name__)

WINDOW = 10  # seconds
clock = time.time  # the wall clock windows are cut from (tests hold it still)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class Counter(Protocol):
    async def hit(self, key: str, window_start: int) -> int: ...

    async def close(self) -> None: ...


class MemoryCounter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._swept = 0

    async def hit(self, key: str, window_start: int) -> int:
        with self._lock:
            if window_start != self._swept:  # forget finished windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window_start}
                self._swept = window_start
            count = self._counts.get((key, window_start), 0) + 1
            self._counts[(key, window_start)] = count
            return count

    async def close(self) -> None:
        self._counts.clear()


class RedisCounter:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.fallback = MemoryCounter()

    async def hit(self, key: str, window_start: int) -> int:
        name = f"townhall:rl:{key}:{window_start}"
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, WINDOW * 2)
                count, _ = await pipe.execute()
            return int(count)
        except Exception as exc:  # Redis down: keep limiting, per process
            log.warning("rate limit store unavailable (%s); counting in memory", exc)
            return await self.fallback.hit(key, window_start)

    async def close(self) -> None:
        await self.client.aclose()


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        reads_per_minute: int,
        writes_per_minute: int,
        counter: Counter,
        trust_forwarded: bool = False,
        prefixes: tuple[str, ...] = ("/api/", "/isso/"),
        exempt: tuple[str, ...] = ("/api/v1/moderation/",),
    ) -> None:
        self.app = app
        self.reads = max(reads_per_minute * WINDOW // 60, 1) if reads_per_minute else 0
        self.writes = max(writes_per_minute * WINDOW // 60, 1) if writes_per_minute else 0
        self.counter = counter
        self.trust_forwarded = trust_forwarded
        self.prefixes = prefixes
        # Moderators are signed in and often share one newsroom address: not counted here.
        self.exempt = exempt

    def _address(self, scope: Scope) -> str:
        if self.trust_forwarded:
            for name, value in scope.get("headers", []):
                if name == b"x-forwarded-for":
                    return str(value.decode("latin-1").split(",")[0].strip())
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(self.prefixes)
            or scope["path"].startswith(self.exempt)
        ):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            await self.app(scope, receive, send)
            return
        write = method in WRITE_METHODS and not scope["path"].endswith("/preview")
        limit = self.writes if write else self.reads
        if limit:
            now = clock()
            window_start = int(now) // WINDOW * WINDOW
            who = hashlib.blake2b(self._address(scope).encode(), digest_size=10).hexdigest()
            count = await self.counter.hit(f"{'w' if write else 'r'}:{who}", window_start)
            if count > limit:
                retry = max(1, int(window_start + WINDOW - now) + 1)
                kind = "writes" if write else "requests"
                response = error_response(
                    429,
                    "rate_limited",
                    f"too many {kind} from your address; try again in {retry} seconds",
                    headers={"Retry-After": str(retry)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
