"""Live updates over Server-Sent Events: ``GET /api/v1/events?site=S&thread=T``.

Each change to a thread is turned into one payload per node (not per listener) and pushed to
every listener of that thread: ``{"type": "comment", "comment": Comment, "count"}`` when a
comment became visible or changed, ``{"type": "remove", "id", "count"}`` when it vanished, and
``{"type": "count", "count"}`` otherwise."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from townhall.domain import threads as thread_domain
from townhall.domain.errors import InvalidInput
from townhall.domain.events import ThreadChanged
from townhall.web import cors
from townhall.web.state import WebState, web_state

KEEPALIVE_SECONDS = 15.0
MAX_QUEUE = 100


class LiveHub:
    def __init__(self, state: WebState) -> None:
        self.state = state
        self.loop: asyncio.AbstractEventLoop | None = None
        self.listeners: dict[tuple[str, str], set[asyncio.Queue[bytes]]] = {}
        # One fan-out at a time per thread, in the order the changes happened: each payload
        # reads the thread's count when it is built, so built in parallel an older count could
        # overtake a newer one and stay on readers' screens until the next change.
        self.order: dict[tuple[str, str], asyncio.Lock] = {}

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._unsubscribe = self.state.services.events.subscribe(self._on_event)

    def stop(self) -> None:
        if self.loop is not None:
            self._unsubscribe()

    def _on_event(self, event: ThreadChanged) -> None:
        loop = self.loop
        if loop is None or (event.site_key, event.thread_key) not in self.listeners:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(lambda: loop.create_task(self._fan_out(event)))

    async def _fan_out(self, event: ThreadChanged) -> None:
        key = (event.site_key, event.thread_key)
        if not self.listeners.get(key):
            return
        async with self.order.setdefault(key, asyncio.Lock()):  # FIFO: tasks start in order
            queues = self.listeners.get(key)
            if not queues:
                return
            payload = await run_in_threadpool(self._payload, event)
            frame = b"data: " + payload + b"\n\n"
            for queue in list(queues):
                if queue.qsize() < MAX_QUEUE:
                    queue.put_nowait(frame)

    def _payload(self, event: ThreadChanged) -> bytes:
        services = self.state.services
        site = services.sites.get(event.site_key)
        thread = thread_domain.find_thread(services.db, site, event.thread_key)
        count = thread.count if thread else event.count
        data: dict[str, Any] = {"type": "count", "count": count}
        if thread is not None and event.comment_id is not None:
            snap = thread_domain.load_snapshot(services.db, self.state.snapshots, thread)
            if event.comment_id in snap.visible_status:
                data = {"type": "comment", "comment": snap.view(event.comment_id), "count": count}
            else:
                data = {"type": "remove", "id": str(event.comment_id), "count": count}
        return msgspec.json.encode(data)

    async def stream(self, key: tuple[str, str]) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.listeners.setdefault(key, set()).add(queue)
        try:
            yield b"retry: 3000\n: connected\n\n"
            while True:
                try:
                    frame = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    frame = b": keep-alive\n\n"
                yield frame
        finally:
            listeners = self.listeners.get(key)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    self.listeners.pop(key, None)
                    self.order.pop(key, None)


async def events(request: Request) -> Response:
    state = web_state(request)
    site_key = request.query_params.get("site")
    thread_key = thread_domain.check_thread_key(request.query_params.get("thread"))
    if not site_key:
        raise InvalidInput("query parameter 'site' is required", field="site")
    site = await run_in_threadpool(state.services.sites.get, site_key)
    hub: LiveHub = request.app.state.live
    response = StreamingResponse(
        hub.stream((site.key, thread_key)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    return cors.apply(response, request, site)
