"""Who is writing: reader tokens, edit tokens and the keyed hashes that stand for emails and IPs.

Raw tokens go to the client once and are stored only as hashes. Emails are kept (moderators
and mail need them) but compared and banned by hash; IPs are stored only as keyed hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Hasher:
    """Keyed hashes of personal data, so a leaked database does not reveal who posted."""

    secret: bytes

    def _keyed(self, purpose: str, value: str) -> str:
        return hmac.new(self.secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def ip(self, address: str) -> str:
        return self._keyed("ip", address.strip().lower())

    def email(self, address: str) -> str:
        return self._keyed("email", address.strip().lower())


@dataclass(frozen=True)
class Reader:
    """A request's author: the reader id (hash of their reader token) and their IP hash."""

    reader_id: str | None
    ip_hash: str | None
    new_token: str | None = None  # set when the server minted a token for this request

    @property
    def voter_key(self) -> str:
        """One vote or flag per reader: their token when they have one, else their address."""
        if self.reader_id:
            return "r:" + self.reader_id[:40]
        return "ip:" + (self.ip_hash or "unknown")[:40]


def reader_from_token(token: str | None, ip_hash: str | None, *, mint: bool) -> Reader:
    """The reader behind a token; a malformed or missing token gets a new one when minting."""
    if token and 16 <= len(token) <= 128 and token.replace("-", "").replace("_", "").isalnum():
        return Reader(reader_id=token_hash(token), ip_hash=ip_hash)
    if mint:
        fresh = new_token()
        return Reader(reader_id=token_hash(fresh), ip_hash=ip_hash, new_token=fresh)
    return Reader(reader_id=None, ip_hash=ip_hash)
