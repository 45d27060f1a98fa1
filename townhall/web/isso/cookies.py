"""The cookies of the Isso protocol.

Isso's client proves authorship with a signed cookie per comment: the server sets it on the
API's origin (sent back with ``withCredentials`` on edit and delete) and repeats it in an
``X-Set-Cookie`` header, which the client copies into ``document.cookie`` on the article's
origin as ``isso-<id>``: that copy only tells the client to show the edit and delete links,
and disappears when the edit window closes.

Our value signs ``[comment id, edit token]`` with the server secret (itsdangerous, timed), so
the townhall edit token travels inside it and the domain checks it as for every other client.
A second, HttpOnly cookie carries the reader token that townhall's own widget sends as a
header: one vote per reader, and a reader sees their own held comments.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from email.utils import format_datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request

READER_COOKIE = "townhall-reader"
READER_MAX_AGE = 365 * 24 * 3600
_SALT = "townhall.isso.edit-cookie"
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


@dataclass(frozen=True)
class CookiePolicy:
    """Where the API's own cookies live and whether a cross-site page may send them back.

    A page on another site gets cookies back only when they are ``SameSite=None; Secure``;
    browsers accept ``Secure`` over HTTPS and on loopback addresses. On a plain-HTTP public
    host we fall back to ``SameSite=Lax``, as Isso does: then edit and delete work only when
    the article and the API share a site."""

    path: str
    secure: bool

    @classmethod
    def of(cls, request: Request, public_url: str) -> CookiePolicy:
        host = request.url.hostname or ""
        secure = (
            public_url.startswith("https://") or request.url.scheme == "https" or _loopback(host)
        )
        path = str(request.scope.get("root_path") or "/") or "/"
        return cls(path=path, secure=secure)

    def attributes(self, max_age: int, *, path: str | None = None) -> str:
        expires = (
            _EPOCH
            if max_age <= 0
            else format_datetime(
                dt.datetime.now(dt.UTC) + dt.timedelta(seconds=max_age), usegmt=True
            )
        )
        same_site = "SameSite=None; Secure" if self.secure else "SameSite=Lax"
        return (
            f"Expires={expires}; Max-Age={max(0, max_age)}; Path={path or self.path}; {same_site}"
        )


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class EditCookies:
    """Signs and reads the per-comment authorship cookie."""

    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)

    def sign(self, comment_id: int, edit_token: str) -> str:
        return self._serializer.dumps([comment_id, edit_token])

    def token_for(self, request: Request, comment_id: int, max_age: int) -> str | None:
        """The edit token the request carries for this comment, if its cookie is genuine,
        younger than ``max_age`` seconds and names this comment."""
        for name in (str(comment_id), f"isso-{comment_id}"):
            value = request.cookies.get(name)
            if not value or len(value) > 512:
                continue
            try:
                data = self._serializer.loads(value, max_age=max_age)
            except BadSignature:  # also SignatureExpired
                continue
            if (
                isinstance(data, list)
                and len(data) == 2
                and data[0] == comment_id
                and isinstance(data[1], str)
            ):
                return data[1]
        return None

    @staticmethod
    def headers(
        policy: CookiePolicy, comment_id: int, value: str, max_age: int
    ) -> list[tuple[str, str]]:
        """``Set-Cookie`` for the API's origin and ``X-Set-Cookie`` for the article's; an empty
        value with ``max_age`` 0 removes both."""
        api = f"{comment_id}={value}; {policy.attributes(max_age)}; HttpOnly"
        # The page copy is first-party on the article's origin: Lax works on HTTP and HTTPS.
        page_policy = CookiePolicy(path="/", secure=False)
        page = f"isso-{comment_id}={value}; {page_policy.attributes(max_age)}"
        return [("set-cookie", api), ("x-set-cookie", page)]


def reader_cookie(policy: CookiePolicy, token: str) -> tuple[str, str]:
    return ("set-cookie", f"{READER_COOKIE}={token}; {policy.attributes(READER_MAX_AGE)}; HttpOnly")
