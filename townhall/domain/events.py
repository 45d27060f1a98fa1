"""Things that happened, for whoever listens after the commit: live updates, cache eviction,
notifications. In-process fan-out; on PostgreSQL the web layer relays events between nodes
with LISTEN/NOTIFY so every node's subscribers hear every write."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThreadChanged:
    site_key: str
    thread_key: str
    thread_id: int
    version: int
    count: int
    comment_id: int | None = None  # the comment that changed, if one did
    kind: str = "comment"  # "comment" (created/updated/removed) or "thread" (closed, reopened)
    origin: str = ""  # which node published it (for the cross-node relay)


Listener = Callable[[ThreadChanged], Any]


@dataclass
class EventBus:
    _listeners: list[Listener] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, event: ThreadChanged) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed for %s", event)
