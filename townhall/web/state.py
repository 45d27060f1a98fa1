"""What handlers reach through ``request.app.state``, typed in one place."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from townhall.domain.identity import Reader, reader_from_token
from townhall.domain.listing import SnapshotCache
from townhall.domain.services import Services
from townhall.web.page_cache import PageCache

READER_HEADER = "x-townhall-reader"
EDIT_TOKEN_HEADER = "x-townhall-edit-token"  # noqa: S105 (a header name)


@dataclass
class WebState:
    services: Services
    pages: PageCache
    snapshots: SnapshotCache


def web_state(conn: HTTPConnection) -> WebState:
    state = conn.app.state.townhall
    assert isinstance(state, WebState)
    return state


def forwarded_client(header: str) -> str:
    """The client address in an X-Forwarded-For value: the last one, which our proxy appended.
    Those before it come from the client (or proxies before ours) and can be anything: taking
    the first let a flooder pick a new address per request past the limits and bans."""
    return header.rsplit(",", 1)[-1].strip()


def client_ip(conn: HTTPConnection, trust_forwarded: bool) -> str:
    if trust_forwarded:
        forwarded = conn.headers.get("x-forwarded-for")
        if forwarded and forwarded_client(forwarded):
            return forwarded_client(forwarded)
    return conn.client.host if conn.client else "unknown"


def reader_of(conn: HTTPConnection, *, mint: bool) -> Reader:
    state = web_state(conn)
    settings = state.services.settings
    ip_hash = state.services.hasher.ip(client_ip(conn, settings.trust_forwarded_for))
    return reader_from_token(conn.headers.get(READER_HEADER), ip_hash, mint=mint)
