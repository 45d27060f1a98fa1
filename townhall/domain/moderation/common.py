"""Small pieces every moderator action shares: ids, reasons, clock, events."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from townhall.domain.errors import InvalidInput, NotFound
from townhall.domain.events import ThreadChanged
from townhall.domain.ids import parse_id
from townhall.domain.moderation.views import AuthorInfo, StatusCounts, ThreadRef
from townhall.domain.services import Services
from townhall.store import moderation as store
from townhall.store import sites as site_store
from townhall.types import Role

MAX_REASON = 1000
MAX_NOTE = 2000
MAX_PAGE = 200
HASH_PREFIX = 8  # how much of an IP or email hash a moderator sees: enough to compare
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def can_moderate(user_role: str | Role, user_site_ids: Sequence[int], site_id: int) -> bool:
    """Whether a moderator account may act on a site: admins everywhere, moderators on the
    sites they were given."""
    try:
        role = Role(user_role)
    except ValueError:
        return False
    return role is Role.ADMIN or site_id in set(user_site_ids)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def int_id(value: Any, field: str = "id") -> int:
    return parse_id(value, field, "an id as shown in the moderation queue")


def actor_name(actor: Any) -> str:
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 320:
        raise InvalidInput("actor must be the moderator's email address", field="actor")
    return actor.strip()


def bounded_text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{field} is empty: say why, for the audit log", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field} must be at most {limit} characters", field=field)
    return str(value)


def announce(services: Services, site_key: str, thread: Any, comment_id: int | None) -> None:
    services.events.publish(
        ThreadChanged(
            site_key=site_key,
            thread_key=thread["key"],
            thread_id=thread["id"],
            version=thread["version"],
            count=thread["comment_count"],
            comment_id=comment_id,
            kind="comment" if comment_id is not None else "thread",
        )
    )


def short_hash(value: str | None) -> str | None:
    return value[:HASH_PREFIX] if value else None


def author_info(row: Any) -> AuthorInfo:
    key = store.author_key(row)
    return AuthorInfo(
        name=row["author_name"],
        email=row["author_email"],
        website=row["author_website"],
        ip_hash_prefix=short_hash(row["ip_hash"]),
        key=f"{key[0]}:{key[1][:HASH_PREFIX]}" if key else None,
    )


def thread_ref(row: Any) -> ThreadRef:
    return ThreadRef(
        id=row["thread_id"],
        key=row["thread_key"],
        title=row["thread_title"],
        url=row["thread_url"],
        closed=bool(row["thread_closed"]),
    )


def status_counts_view(found: dict[str, int]) -> StatusCounts:
    known = {k: v for k, v in found.items() if k in StatusCounts.__struct_fields__}
    return StatusCounts(**known)


def site_id_of(services: Services, key: Any) -> int:
    if not isinstance(key, str):
        raise InvalidInput("site must be a site key", field="site")
    with services.db.read() as conn:
        row = site_store.site_by_key(conn, key)
    if row is None:
        raise NotFound(f"unknown site {key!r}", field="site")
    return int(row["id"])
