"""Bans of readers, by reader id, email hash or address hash; timed, shadow, lifted."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from typing import Any

from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.domain.moderation.common import (
    HASH_PREFIX,
    HEX64,
    MAX_REASON,
    actor_name,
    bounded_text,
    int_id,
    site_id_of,
    utc_now,
)
from townhall.domain.moderation.views import BanView
from townhall.domain.services import Services
from townhall.store import comments as comment_store
from townhall.store import moderation as store
from townhall.store import sites as site_store
from townhall.types import BanKind

# What bans write to the moderation log (a site-wide ban has no site: exports look these up).
BAN, SHADOW_BAN, UNBAN = "ban", "shadow_ban", "unban"
BAN_ACTIONS = (BAN, SHADOW_BAN, UNBAN)


def ban_view(row: Any, site_key: str | None) -> BanView:
    return BanView(
        id=row["id"],
        kind=str(row["kind"]),
        value_prefix=row["value"][:HASH_PREFIX],
        site=site_key,
        shadow=bool(row["shadow"]),
        until=row["until"],
        reason=row["reason"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        lifted_at=row["lifted_at"],
    )


def _ban_kind(kind: Any) -> BanKind:
    try:
        return BanKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in BanKind)
        raise InvalidInput(f"kind must be one of: {choices}", field="kind") from None


def _ban_value(services: Services, kind: BanKind, value: Any) -> str:
    """A ban value as stored: a hash. Raw emails and addresses are hashed here."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("value is required when no comment is given", field="value")
    given: str = value.strip()
    if HEX64.match(given.lower()):
        return given.lower()
    if kind is BanKind.EMAIL and "@" in given:
        return services.hasher.email(given)
    if kind is BanKind.IP:
        try:
            return services.hasher.ip(str(ipaddress.ip_address(given)))
        except ValueError:
            pass
    raise InvalidInput(
        f"value must be a {kind.value} hash as shown to moderators"
        + (", or an email address" if kind is BanKind.EMAIL else "")
        + (", or an IP address" if kind is BanKind.IP else ""),
        field="value",
    )


def ban(
    services: Services,
    actor: str,
    *,
    kind: BanKind | str,
    reason: str,
    comment_id: Any = None,
    value: str | None = None,
    site: str | None = None,
    all_sites: bool = False,
    until: dt.datetime | None = None,
    shadow: bool = False,
) -> BanView:
    """Ban a comment's author (by reader id, email hash or IP hash), or a given value, on one
    site (the comment's, or ``site``) or on every site. A shadow ban lets them post, but only
    they see what they post."""
    who = actor_name(actor)
    why = bounded_text(reason, "reason", 500, required=True)
    ban_kind = _ban_kind(kind)
    now = utc_now()
    if until is not None and (until.tzinfo is None or until <= now):
        raise InvalidInput("until must be a time in the future, with a time zone", field="until")
    cid: int | None = None
    site_id: int | None = None
    if comment_id is not None:
        cid = int_id(comment_id, "comment_id")
        with services.db.read() as conn:
            row = store.comment_in_context(conn, cid)
        if row is None:
            raise NotFound(f"comment {cid} does not exist", field="comment_id")
        column = {"reader": "reader_id", "email": "email_hash", "ip": "ip_hash"}[ban_kind.value]
        stored = row[column]
        if not stored:
            what = {"reader": "reader id", "email": "email address", "ip": "IP address"}
            raise Conflict(
                f"comment {cid} has no {what[ban_kind.value]} on record (IP hashes expire); "
                "ban its author by another kind",
                field="kind",
            )
        ban_value = str(stored)
        site_id = None if all_sites else int(row["site_id"])
    else:
        ban_value = _ban_value(services, ban_kind, value)
        if not all_sites:
            if site is None:
                raise InvalidInput("site is required (or all_sites)", field="site")
            site_id = site_id_of(services, site)
    with services.db.write() as conn:
        existing = store.active_ban_for(
            conn, site_id=site_id, kind=ban_kind, value=ban_value, now=now
        )
        if existing is not None:
            raise Conflict(
                f"this {ban_kind.value} is banned already (ban {existing['id']}); lift that ban "
                "to change it"
            )
        ban_id = store.insert_ban(
            conn,
            site_id=site_id,
            kind=ban_kind,
            value=ban_value,
            shadow=shadow,
            until=until,
            reason=why,
            created_by=who,
            created_at=now,
        )
        comment_store.log_action(
            conn,
            site_id=site_id,
            comment_id=cid,
            actor=who,
            action=SHADOW_BAN if shadow else BAN,
            now=now,
            reason=why,
            details={
                "ban_id": ban_id,
                "kind": ban_kind.value,
                "value_prefix": ban_value[:HASH_PREFIX],
                "until": until.isoformat() if until else None,
                "all_sites": site_id is None,
            },
        )
        row = store.ban_by_id(conn, ban_id)
        site_row = site_store.site_by_id(conn, site_id) if site_id is not None else None
    assert row is not None
    return ban_view(row, site_row["key"] if site_row else None)


def unban(services: Services, actor: str, ban_id: Any, reason: str = "") -> BanView:
    """Lift a ban now. The row stays, for the record."""
    who = actor_name(actor)
    why = bounded_text(reason, "reason", MAX_REASON)
    bid = int_id(ban_id, "ban_id")
    now = utc_now()
    with services.db.write() as conn:
        row = store.ban_by_id(conn, bid)
        if row is None:
            raise NotFound(f"ban {bid} does not exist", field="ban_id")
        if row["lifted_at"] is not None:
            raise Conflict(f"ban {bid} was lifted already")
        if row["until"] is not None and row["until"] <= now:
            raise Conflict(f"ban {bid} has expired already")
        store.lift_ban(conn, bid, now)
        comment_store.log_action(
            conn,
            site_id=row["site_id"],
            actor=who,
            action=UNBAN,
            now=now,
            reason=why,
            details={"ban_id": bid, "kind": str(row["kind"])},
        )
        after = store.ban_by_id(conn, bid)
        site_row = site_store.site_by_id(conn, row["site_id"]) if row["site_id"] else None
    assert after is not None
    return ban_view(after, site_row["key"] if site_row else None)


def list_bans(
    services: Services, *, sites: Sequence[str] | None = None, active_only: bool = True
) -> list[BanView]:
    """Bans on the given sites (and those on every site), newest first."""
    site_ids = [site_id_of(services, s) for s in sites] if sites is not None else None
    with services.db.read() as conn:
        rows = store.bans_matching(conn, site_ids=site_ids, now=utc_now(), active_only=active_only)
        keys = {r["id"]: r["key"] for r in site_store.all_sites(conn)}
    return [ban_view(r, keys.get(r["site_id"])) for r in rows]
