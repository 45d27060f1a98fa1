"""Prometheus metrics, one registry per app (so tests can run several apps side by side)."""

from __future__ import annotations

import sys
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "townhall_http_requests",
            "HTTP requests",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "townhall_http_request_seconds",
            "Time to answer a request",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.comments = Counter(
            "townhall_comments_posted",
            "Comments posted, by moderation outcome",
            ["status"],
            registry=self.registry,
        )
        self.page_cache_hits = Gauge(
            "townhall_page_cache_hits",
            "Thread page cache hits since start",
            registry=self.registry,
        )
        self.page_cache_misses = Gauge(
            "townhall_page_cache_misses",
            "Thread page cache misses since start",
            registry=self.registry,
        )

        self.cache_bytes = Gauge(
            "townhall_cache_bytes",
            "Bytes held by the thread page cache and the snapshot cache",
            ["cache"],
            registry=self.registry,
        )
        self.cache_entries = Gauge(
            "townhall_cache_entries",
            "Entries in the thread page cache and the snapshot cache",
            ["cache"],
            registry=self.registry,
        )
        self.memo_bytes = Gauge(
            "townhall_memo_bytes",
            "Bytes (as each memo weighs its entries) held by the moderation checks' memos",
            ["memo"],
            registry=self.registry,
        )
        self.memo_budget = Gauge(
            "townhall_memo_budget_bytes",
            "The most bytes each moderation memo holds",
            ["memo"],
            registry=self.registry,
        )
        self.memo_entries = Gauge(
            "townhall_memo_entries",
            "Entries in the moderation checks' memos (and the toxicity model's word cache)",
            ["memo"],
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency (label children kept, not looked up)."""
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route),
            )
            if len(self._children) < 4096:  # routes are few; methods and statuses too
                self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    @staticmethod
    def _route_name(scope: Scope) -> str:
        route = scope.get("route")  # set by Starlette's router once it matched
        return str(getattr(route, "path", "other"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = self._route_name(scope)
            self.metrics.observe(route, scope["method"], status, time.perf_counter() - start)


def moderation_memos() -> dict[str, Any]:
    """The byte-bounded memos of the moderation checks, by name (they fill as comments come
    in, up to their budgets: the soak reads how full they are)."""
    from townhall.moderation import normalise
    from townhall.moderation.checks import duplicates
    from townhall.moderation.memo import WeightedMemo

    found: dict[int, tuple[str, Any]] = {}
    for module in (normalise, duplicates):
        for name, memo in vars(module).items():
            if isinstance(memo, WeightedMemo) and id(memo) not in found:  # imported ones too
                short = module.__name__.rsplit(".", 1)[-1]
                found[id(memo)] = (f"{short}.{name.lstrip('_')}", memo)
    return dict(found.values())


def word_cache_entries() -> int | None:
    """Words in the toxicity model's normalised-word cache (an LRU), if it is loaded."""
    module = sys.modules.get("townhall.moderation.toxicity.normalize")
    info = getattr(getattr(module, "_normalize_word", None), "cache_info", None)
    return int(info().currsize) if info is not None else None


def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    state = request.app.state.townhall
    pages = state.pages
    metrics.page_cache_hits.set(pages.hits)
    metrics.page_cache_misses.set(pages.misses)
    for name, cache in (("pages", pages), ("snapshots", state.snapshots)):
        metrics.cache_bytes.labels(name).set(cache.bytes)
        metrics.cache_entries.labels(name).set(len(cache))
    for name, memo in moderation_memos().items():
        metrics.memo_bytes.labels(name).set(memo.weight)
        metrics.memo_budget.labels(name).set(memo.budget)
        metrics.memo_entries.labels(name).set(len(memo))
    words = word_cache_entries()
    if words is not None:
        metrics.memo_entries.labels("toxicity.normalize_word").set(words)
    return metrics.render()
