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

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from townhall.web.errors import error_response
from townhall.web.state import forwarded_client

log = logging.getLogger(__name__)

WINDOW = 10  # seconds
clock = time.time  # the wall clock windows are cut from (tests hold it still)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# POSTs that write nothing (a Markdown preview; counts, which count.js and Isso's count.js
# send as POST for their many thread keys): limited as the reads they are.
READS_BY_POST = ("/preview", "/counts", "/count")


class Counter(Protocol):
    async def hit(self, key: str, window_start: int) -> int: ...

    async def close(self) -> None: ...


class MemoryCounter:
    """Counts per key in the current window(s), in this process. ``hit_now`` is the same
    without a coroutine, for callers on the event loop."""

    hashed_keys = False  # keys stay in this process's memory for one window: no need

    def __init__(self) -> None:
        self._windows: dict[int, dict[str, int]] = {}
        self._lock = threading.Lock()
        self._swept = 0

    def hit_now(self, key: str, window_start: int) -> int:
        with self._lock:
            if window_start != self._swept:  # forget finished windows
                self._windows = {w: c for w, c in self._windows.items() if w >= window_start}
                self._swept = window_start
            counts = self._windows.get(window_start)
            if counts is None:
                counts = self._windows[window_start] = {}
            count = counts.get(key, 0) + 1
            counts[key] = count
            return count

    async def hit(self, key: str, window_start: int) -> int:
        return self.hit_now(key, window_start)

    async def close(self) -> None:
        self._windows.clear()


class RedisCounter:
    hashed_keys = True  # raw addresses never leave the process

    def __init__(self, url: str, namespace: str = "") -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.fallback = MemoryCounter()
        # The nodes of one installation share counts; another installation on the same Redis
        # (staging beside production, a test run beside a server) must not.
        self.prefix = f"townhall:rl:{namespace}:" if namespace else "townhall:rl:"

    async def hit(self, key: str, window_start: int) -> int:
        name = f"{self.prefix}{key}:{window_start}"
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


RATE_COUNTED = "townhall.rate_counted"  # scope key: this request was counted already (count)
MAX_RAW_KEY = 64  # longer addresses (junk in X-Forwarded-For) are hashed to bound memory


class RateLimiter:
    """The limits and their counter, shared by the middleware and the cached-read fast path
    (which counts a request itself and, when it is over the limit, leaves the 429 to the
    middleware with the count it took, so no request is ever counted twice)."""

    def __init__(
        self,
        *,
        reads_per_minute: int,
        writes_per_minute: int,
        counter: Counter,
        trust_forwarded: bool = False,
        prefixes: tuple[str, ...] = ("/api/", "/isso/"),
        exempt: tuple[str, ...] = ("/api/v1/moderation/",),
    ) -> None:
        self.reads = max(reads_per_minute * WINDOW // 60, 1) if reads_per_minute else 0
        self.writes = max(writes_per_minute * WINDOW // 60, 1) if writes_per_minute else 0
        self.counter = counter
        self.trust_forwarded = trust_forwarded
        self.prefixes = prefixes
        # Moderators are signed in and often share one newsroom address: not counted here.
        self.exempt = exempt
        self._hashed = bool(getattr(counter, "hashed_keys", True))
        self._now = counter.hit_now if isinstance(counter, MemoryCounter) else None

    def address(self, scope: Scope) -> str:
        if self.trust_forwarded:
            for name, value in scope.get("headers", []):
                if name == b"x-forwarded-for":
                    address = forwarded_client(value.decode("latin-1"))
                    if address:
                        return address
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    def _key(self, write: bool, address: str) -> str:
        if self._hashed or len(address) > MAX_RAW_KEY:
            who = hashlib.blake2b(address.encode(), digest_size=10).hexdigest()
            if not self._hashed:
                who = "#" + who  # never equal to a raw address
        else:
            who = address
        return f"{'w' if write else 'r'}:{who}"

    async def count(self, scope: Scope, write: bool, address: str | None = None) -> int:
        """Count this request; its number in the current window."""
        key = self._key(write, self.address(scope) if address is None else address)
        window_start = int(clock()) // WINDOW * WINDOW
        if self._now is not None:
            return self._now(key, window_start)
        return await self.counter.hit(key, window_start)

    def over(self, count: int, write: bool) -> bool:
        limit = self.writes if write else self.reads
        return bool(limit) and count > limit

    @staticmethod
    def refusal(write: bool) -> Response:
        now = clock()
        window_start = int(now) // WINDOW * WINDOW
        retry = max(1, int(window_start + WINDOW - now) + 1)
        kind = "writes" if write else "requests"
        return error_response(
            429,
            "rate_limited",
            f"too many {kind} from your address; try again in {retry} seconds",
            headers={"Retry-After": str(retry)},
        )


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.limiter
        path = scope["path"] if scope["type"] == "http" else ""
        if not path.startswith(limiter.prefixes) or path.startswith(limiter.exempt):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            await self.app(scope, receive, send)
            return
        write = method in WRITE_METHODS and not path.endswith(READS_BY_POST)
        if limiter.writes if write else limiter.reads:
            count = scope.get(RATE_COUNTED)
            if count is None:
                count = await limiter.count(scope, write)
            if limiter.over(count, write):
                await limiter.refusal(write)(scope, receive, send)
                return
        await self.app(scope, receive, send)
