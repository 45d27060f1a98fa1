"""Carrying thread events between nodes over PostgreSQL LISTEN/NOTIFY, so a reader connected to
one node sees comments posted through another live, with no extra service to run.

Local events (``origin == ""``) are sent out with this node's id; events heard from other
nodes are published locally with theirs, so nothing echoes back."""

from __future__ import annotations

import dataclasses
import json
import logging
import select
import threading
import uuid
from typing import Any

from sqlalchemy.engine import make_url

from townhall.domain.events import EventBus, ThreadChanged

log = logging.getLogger(__name__)

CHANNEL = "townhall_events"


def _libpq_url(sqlalchemy_url: str) -> str:
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PgRelay:
    def __init__(self, database_url: str, bus: EventBus) -> None:
        self.dsn = _libpq_url(database_url)
        self.bus = bus
        self.node = uuid.uuid4().hex[:12]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="townhall-relay", daemon=True)
        self._send_lock = threading.Lock()
        self._sender: Any = None
        self._ready = threading.Event()

    def start(self) -> None:
        self._unsubscribe = self.bus.subscribe(self._send)
        self._thread.start()
        self._ready.wait(timeout=5)

    def stop(self) -> None:
        self._unsubscribe()
        self._stop.set()
        self._thread.join(timeout=5)
        with self._send_lock:
            if self._sender is not None:
                self._sender.close()
                self._sender = None

    def _send(self, event: ThreadChanged) -> None:
        if event.origin:
            return  # heard from another node: do not echo
        payload = json.dumps(dataclasses.asdict(dataclasses.replace(event, origin=self.node)))
        import psycopg

        with self._send_lock:
            for attempt in (1, 2):
                try:
                    if self._sender is None or self._sender.closed:
                        self._sender = psycopg.connect(self.dsn, autocommit=True)
                    self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                    return
                except psycopg.Error as exc:
                    self._sender = None
                    if attempt == 2:
                        log.warning("could not relay an event to other nodes: %s", exc)

    def _listen(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    while not self._stop.is_set():
                        ready, _, _ = select.select([conn.fileno()], [], [], 0.5)
                        if not ready:
                            continue
                        for note in conn.notifies(timeout=0, stop_after=100):
                            self._receive(note.payload)
            except psycopg.Error as exc:
                log.warning("event relay lost its connection (%s); reconnecting", exc)
                self._ready.set()
                self._stop.wait(1.0)

    def _receive(self, payload: str) -> None:
        try:
            data = json.loads(payload)
            event = ThreadChanged(**data)
        except (ValueError, TypeError):
            log.warning("ignored a malformed relayed event")
            return
        if event.origin != self.node:
            self.bus.publish(event)
