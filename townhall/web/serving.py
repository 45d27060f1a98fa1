"""Serving the app with uvicorn, with what a public server needs on top of its defaults.

* Slow clients are timed out (issue 8, slowloris): uvicorn waits forever for the headers of a
  request once its first byte arrived, for a connection that never sends anything, and for a
  body that trickles in a byte at a time. Here a request's headers must arrive within
  ``HEADER_TIMEOUT`` seconds of the connection (or of the request's first byte, on a kept-alive
  connection), and its body within ``BODY_TIMEOUT`` seconds of the headers; else 408 and the
  connection is closed. Other clients are served all the while.
* The access log names no client address: raw IPs never reach a log line (DESIGN.md,
  "Security and privacy, by default")."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 20.0
_TIMEOUT_BODY = b'{"error":{"code":"request_timeout","message":"the request came too slowly"}}'
_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


def _guarded_protocol() -> type[asyncio.Protocol] | str:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools missing (uvicorn without [standard]): unguarded h11
        return "auto"

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._deadline: asyncio.TimerHandle | None = None
            self._phase = "idle"  # idle, headers, body, done

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            unanswered = self._phase == "headers" or (
                self._phase == "body" and not self.cycle.response_started
            )
            if unanswered:
                self.transport.write(_TIMED_OUT)
            self.transport.close()  # an app waiting for the body sees a disconnect

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(HEADER_TIMEOUT)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._phase = "headers"
            if self._deadline is None:
                self._arm(HEADER_TIMEOUT)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._phase = "body"
            self._arm(BODY_TIMEOUT)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._phase = "done"
            self._disarm()

        def on_response_complete(self) -> None:
            if self._phase != "body":  # answered early (413, 429...): the body keeps its limit
                self._disarm()
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return GuardedHttpToolsProtocol


def log_config() -> dict[str, Any]:
    """uvicorn's logging setup with an access line of request and status only."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"]["fmt"] = '%(levelprefix)s "%(request_line)s" %(status_code)s'
    return config


def run(app: Any, *, host: str, port: int, log_level: str, proxy_headers: bool) -> None:
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=log_config(),
        proxy_headers=proxy_headers,
        server_header=False,
        http=_guarded_protocol(),
    )
