"""Sites: a publisher's key, name, allowed origins, edit window and moderation policy."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError

from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.moderation.policy import Policy, PolicyError, update_policy
from townhall.store import sites as site_store
from townhall.store.database import Database

SITE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DEFAULT_EDIT_WINDOW = 15 * 60


@dataclass(frozen=True)
class Site:
    id: int
    key: str
    name: str
    origins: tuple[str, ...]
    edit_window_seconds: int
    policy: dict[str, Any]

    def allows_origin(self, origin: str | None) -> bool:
        return origin is not None and normalise_origin(origin, strict=False) in self.origins

    def allows_url(self, url: str) -> bool:
        return normalise_origin(url, strict=False) in self.origins

    @classmethod
    def from_row(cls, row: Any) -> Site:
        return cls(
            id=row["id"],
            key=row["key"],
            name=row["name"],
            origins=tuple(row["origins"] or ()),
            edit_window_seconds=row["edit_window_seconds"],
            policy=dict(row["policy"] or {}),
        )


def normalise_origin(value: str, *, strict: bool = True) -> str | None:
    """``https://Example.com:443/path`` -> ``https://example.com``; None if not http(s)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        if strict:
            raise InvalidInput(f"{value!r} is not a valid origin", field="origins") from None
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        if strict:
            raise InvalidInput(
                f"{value!r} is not an origin: use scheme://host[:port], e.g. https://news.example",
                field="origins",
            )
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def _check_fields(
    key: str | None, name: str | None, origins: list[str] | None, edit_window: int | None
) -> list[str] | None:
    if key is not None and not SITE_KEY.fullmatch(key):
        raise InvalidInput(
            "site key must be 1-64 lowercase letters, digits, '-' or '_', starting with a letter "
            "or digit",
            field="key",
        )
    if name is not None and not 1 <= len(name.strip()) <= 200:
        raise InvalidInput("site name must be 1-200 characters", field="name")
    if edit_window is not None and not 0 <= edit_window <= 7 * 24 * 3600:
        raise InvalidInput("edit window must be between 0 and 604800 seconds", field="edit_window")
    if origins is None:
        return None
    normalised = [o for o in (normalise_origin(v) for v in origins) if o]
    return sorted(set(normalised))


def create_site(
    db: Database,
    *,
    key: str,
    name: str,
    origins: list[str],
    edit_window_seconds: int = DEFAULT_EDIT_WINDOW,
    policy: dict[str, Any] | None = None,
) -> Site:
    clean = _check_fields(key, name, origins, edit_window_seconds) or []
    try:
        checked = update_policy({}, policy or {})
    except PolicyError as exc:
        raise InvalidInput(f"policy: {exc}", field="policy") from None
    now = dt.datetime.now(dt.UTC)
    try:
        with db.write() as conn:
            site_store.insert_site(
                conn,
                key=key,
                name=name.strip(),
                origins=clean,
                edit_window_seconds=edit_window_seconds,
                policy=checked.to_json(),
                now=now,
            )
    except IntegrityError:
        raise Conflict(f"a site with key {key!r} exists already", field="key") from None
    return get_site(db, key)


def update_site(
    db: Database,
    key: str,
    *,
    name: str | None = None,
    origins: list[str] | None = None,
    edit_window_seconds: int | None = None,
    policy_changes: dict[str, Any] | None = None,
) -> Site:
    site = get_site(db, key)
    clean = _check_fields(None, name, origins, edit_window_seconds)
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = name.strip()
    if clean is not None:
        values["origins"] = clean
    if edit_window_seconds is not None:
        values["edit_window_seconds"] = edit_window_seconds
    if policy_changes:
        try:
            values["policy"] = update_policy(site.policy, policy_changes).to_json()
        except PolicyError as exc:
            raise InvalidInput(f"policy: {exc}", field="policy") from None
    if values:
        with db.write() as conn:
            site_store.update_site(conn, site.id, **values)
    return get_site(db, key)


def get_site(db: Database, key: str) -> Site:
    row = None
    if SITE_KEY.fullmatch(key):  # no site has another shape: do not ask the database about junk
        with db.read() as conn:
            row = site_store.site_by_key(conn, key)
    if row is None:
        raise NotFound(f"unknown site {key!r}: check data-townhall-site", field="site")
    return Site.from_row(row)


def list_sites(db: Database) -> list[Site]:
    with db.read() as conn:
        return [Site.from_row(r) for r in site_store.all_sites(conn)]


def site_policy(site: Site) -> Policy:
    return update_policy(site.policy, {})


class SiteCache:
    """Sites change rarely and are read on every request: keep them for a few seconds.
    A change made on another node is seen within ``ttl`` seconds."""

    def __init__(self, db: Database, ttl: float = 3.0) -> None:
        self.db = db
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Site]] = {}
        self._origins: tuple[float, frozenset[str]] | None = None
        self._lock = threading.Lock()

    def peek(self, key: str) -> Site | None:
        """The site if it is cached and fresh, without touching the database."""
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry[0] < self.ttl:
            return entry[1]
        return None

    def get(self, key: str) -> Site:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self.ttl:
            return entry[1]
        site = get_site(self.db, key)
        with self._lock:
            self._entries[key] = (now, site)
        return site

    def all_origins(self) -> frozenset[str]:
        """Every origin any site allows (for CORS preflights, which name no site)."""
        now = time.monotonic()
        cached = self._origins
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        origins = frozenset(o for site in list_sites(self.db) for o in site.origins)
        self._origins = (now, origins)
        return origins

    def forget(self, key: str | None = None) -> None:
        with self._lock:
            self._origins = None
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)
