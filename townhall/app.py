"""``create_app(settings)``: the one place a townhall application is put together."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
from collections.abc import AsyncIterator

import msgspec
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from townhall.domain.errors import DomainError
from townhall.domain.events import ThreadChanged
from townhall.domain.listing import SnapshotCache
from townhall.domain.privacy import erase_expired_ip_hashes
from townhall.domain.services import Services
from townhall.notify.worker import deliver_due
from townhall.settings import Settings, ensure_secret
from townhall.store.relay import PgRelay
from townhall.web import errors
from townhall.web.api import FastReads
from townhall.web.cors import CorsMiddleware
from townhall.web.live import LiveHub
from townhall.web.memory import TRIM_SECONDS, release_free_memory
from townhall.web.metrics import Metrics, MetricsMiddleware
from townhall.web.openapi import build_document
from townhall.web.page_cache import PageCache
from townhall.web.ratelimit import (
    MemoryCounter,
    RateLimiter,
    RateLimitMiddleware,
    RedisCounter,
)
from townhall.web.routes import documented_operations, routes
from townhall.web.state import WebState

log = logging.getLogger("townhall")
HOUSEKEEPING_SECONDS = 3600
OUTBOX_SECONDS = 2.0
# On shutdown the mail worker finishes the message in hand (so its outcome is recorded) and gives
# back the rest of its batch; a warning is logged if that takes longer than this (one SMTP
# exchange, whose every step may take up to mail.SMTP_TIMEOUT seconds).
OUTBOX_DRAIN_SECONDS = 20.0


def create_app(settings: Settings, *, services: Services | None = None) -> Starlette:
    settings = ensure_secret(settings)
    if services is None:
        if settings.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        services = Services.from_settings(settings)
        services.db.migrate()  # a failed migration raises here: the server does not start
    cache_bytes = max(1, settings.thread_cache_mb) * 2**20
    state = WebState(
        services=services,
        pages=PageCache(settings.thread_cache_entries, max_bytes=cache_bytes * 3 // 4),
        snapshots=SnapshotCache(
            max(64, settings.thread_cache_entries // 4), max_bytes=cache_bytes // 4
        ),
    )

    def drop_superseded(event: ThreadChanged) -> None:  # a thread changed: free its old pages
        state.pages.forget_older(event.thread_id, event.version)
        state.snapshots.forget_older(event.thread_id, event.version)

    services.events.subscribe(drop_superseded)
    metrics = Metrics()
    hub = LiveHub(state)
    counter = (
        RedisCounter(settings.redis_url, namespace=_installation(settings))
        if settings.redis_url
        else MemoryCounter()
    )
    limiter = RateLimiter(
        reads_per_minute=settings.rate_limit_reads,
        writes_per_minute=settings.rate_limit_writes,
        counter=counter,
        trust_forwarded=settings.trust_forwarded_for,
    )

    relay = None if settings.is_sqlite else PgRelay(settings.resolved_database_url, services.events)

    async def housekeeping() -> None:
        while True:
            try:
                erased = await run_in_threadpool(erase_expired_ip_hashes, services)
                if erased:
                    log.info("erased %d expired IP hashes", erased)
            except Exception:
                log.exception("housekeeping failed; retrying in an hour")
            await asyncio.sleep(HOUSEKEEPING_SECONDS)

    base_url = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"

    async def mail_worker(stopping: asyncio.Event, stop: threading.Event) -> None:
        while not stopping.is_set():
            try:
                await run_in_threadpool(deliver_due, services, base_url, stop=stop)
            except Exception:
                log.exception("outbox delivery failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), OUTBOX_SECONDS)

    async def trim_memory() -> None:  # free heap pages back to the system (web/memory.py)
        while True:
            await asyncio.sleep(TRIM_SECONDS)
            try:
                await run_in_threadpool(release_free_memory)
            except Exception:
                log.exception("releasing free memory failed")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        chores = [asyncio.create_task(housekeeping()), asyncio.create_task(trim_memory())]
        stopping = asyncio.Event()  # made in the running loop, like the tasks it stops
        stop_delivery = threading.Event()  # read by deliver_due in its thread
        mailer = None
        if settings.smtp_host:
            mailer = asyncio.create_task(mail_worker(stopping, stop_delivery))
        hub.start()
        if relay is not None:
            await run_in_threadpool(relay.start)
        try:
            yield
        finally:
            for chore in chores:
                chore.cancel()
            if mailer is not None:
                # Cancelling would leave a delivery running in its thread, its outcome unwritten.
                stopping.set()
                stop_delivery.set()
                done, _ = await asyncio.wait([mailer], timeout=OUTBOX_DRAIN_SECONDS)
                if not done:
                    log.warning("shutdown waits for a mail server still answering")
                    await mailer
            hub.stop()
            if relay is not None:
                await run_in_threadpool(relay.stop)
            await counter.close()

    app = Starlette(
        routes=routes(),
        middleware=[
            # Cached page reads are answered here, doing what the three below would do.
            Middleware(FastReads, state=state, limiter=limiter, metrics=metrics),
            Middleware(MetricsMiddleware, metrics=metrics),
            Middleware(CorsMiddleware, sites=services.sites, prefixes=("/api/", "/isso/")),
            Middleware(RateLimitMiddleware, limiter=limiter),
        ],
        exception_handlers={
            DomainError: errors.domain_error,
            HTTPException: errors.http_error,
            Exception: errors.server_error,
        },
        lifespan=lifespan,
    )
    document = build_document(documented_operations())
    app.state.townhall = state
    app.state.metrics = metrics
    app.state.live = hub
    app.state.demo = settings.demo
    app.state.openapi = document
    app.state.openapi_bytes = msgspec.json.encode(document)
    return app


def _installation(settings: Settings) -> str:
    """A name for this installation's shared state in Redis: from its secret key (every node of
    one installation has the same), hashed so the key itself never leaves the process."""
    return hashlib.blake2b(
        settings.secret_bytes(), digest_size=6, person=b"townhall-redis"
    ).hexdigest()
