"""The moderator session: a signed cookie (itsdangerous) holding the user id, the account's
session version and a CSRF secret. Stateless, so any node can check it; a password change or
"sign out everywhere" bumps the version in the database and every older cookie stops working.

The cookie is HttpOnly, SameSite=Lax, Secure when the request came over HTTPS (directly, or via
a trusted proxy's X-Forwarded-Proto, or when ``public_url`` is https). The CSRF secret is sent
back in every form (``csrf_token``) and by the admin's scripts (``X-CSRF-Token``); it is new at
every sign-in, so a token seen before signing in is worthless after.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import HTTPConnection
from starlette.responses import Response

from townhall.web.state import web_state

COOKIE = "townhall_admin"
FLASH_COOKIE = "townhall_flash"
IDLE_SECONDS = 12 * 3600  # a session unused this long ends
ABSOLUTE_SECONDS = 7 * 24 * 3600  # and none outlives a week, used or not
REFRESH_SECONDS = 300  # re-sign the cookie (sliding idle timeout) at most this often
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    csrf: str
    user_id: int | None = None
    version: int | None = None
    signed_in_at: int = 0  # unix time of the sign-in
    stamped_at: int = 0  # unix time the cookie was signed; 0: never sent yet

    @property
    def stale(self) -> bool:
        return time.time() - self.stamped_at > REFRESH_SECONDS

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"c": self.csrf}
        if self.user_id is not None:
            data.update(u=self.user_id, v=self.version, t=self.signed_in_at)
        return data

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), (token or "").encode())


def _serializer(conn: HTTPConnection, salt: str = "townhall.admin.session") -> Any:
    secret = web_state(conn).services.settings.secret_bytes()
    return URLSafeTimedSerializer(secret, salt=salt)


def anonymous() -> Session:
    return Session(csrf=secrets.token_urlsafe(32))


def signed_in(user_id: int, version: int) -> Session:
    """A fresh session for a user who just proved who they are (new CSRF secret: no fixation)."""
    return Session(
        csrf=secrets.token_urlsafe(32),
        user_id=user_id,
        version=version,
        signed_in_at=int(time.time()),
    )


def read(conn: HTTPConnection) -> Session | None:
    raw = conn.cookies.get(COOKIE)
    if not raw or len(raw) > 1024:
        return None
    try:
        data, stamped = _serializer(conn).loads(raw, max_age=IDLE_SECONDS, return_timestamp=True)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    session = Session(csrf=data["c"], stamped_at=int(stamped.timestamp()))
    if "u" in data:
        user_id, version, at = data.get("u"), data.get("v"), data.get("t")
        if not (_int(user_id) and _int(version) and _int(at)):
            return None
        assert isinstance(user_id, int) and isinstance(version, int) and isinstance(at, int)
        if time.time() - at > ABSOLUTE_SECONDS:
            return None
        session = replace(session, user_id=user_id, version=version, signed_in_at=at)
    return session


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_https(conn: HTTPConnection) -> bool:
    settings = web_state(conn).services.settings
    if conn.url.scheme == "https" or settings.public_url.startswith("https://"):
        return True
    # The proxy's own entry is the last (as for the address, web/state.py forwarded_client):
    # what comes before it, the client wrote.
    proto = conn.headers.get("x-forwarded-proto", "")
    return settings.trust_forwarded_for and proto.split(",")[-1].strip().lower() == "https"


def write(conn: HTTPConnection, response: Response, session: Session) -> None:
    response.set_cookie(
        COOKIE,
        _serializer(conn).dumps(session.as_json()),
        max_age=IDLE_SECONDS,
        path="/",
        secure=is_https(conn),
        httponly=True,
        samesite="lax",
    )


def clear(conn: HTTPConnection, response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", secure=is_https(conn), httponly=True, samesite="lax")


# --- one-shot messages after a redirect ("Approved comment 12") --------------------------------


def flash(conn: HTTPConnection, response: Response, message: str, kind: str = "ok") -> None:
    value = _serializer(conn, "townhall.admin.flash").dumps([kind, message[:300]])
    response.set_cookie(
        FLASH_COOKIE,
        value,
        max_age=60,
        path="/admin",
        secure=is_https(conn),
        httponly=True,
        samesite="lax",
    )


def take_flash(conn: HTTPConnection) -> tuple[str, str] | None:
    raw = conn.cookies.get(FLASH_COOKIE)
    if not raw or len(raw) > 1024:
        return None
    try:
        data = _serializer(conn, "townhall.admin.flash").loads(raw, max_age=60)
    except BadSignature:
        return None
    if (
        isinstance(data, list)
        and len(data) == 2
        and all(isinstance(x, str) for x in data)
        and data[0] in ("ok", "error")
    ):
        return data[0], data[1]
    return None
