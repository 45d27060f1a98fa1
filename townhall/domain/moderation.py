"""What moderators do: decide on comments, ban authors, close threads, tune a site's policy,
and read the queue, a reader's history and the audit log. No HTTP here.

Every action is one transaction: the status change, the thread's visible count (published
comments only) and version, and a ``moderation_log`` row (who, when, what, why). Events go out
after the commit, like the reader write paths in :mod:`townhall.domain.comments`.

Who may act on which site is the web layer's question; it asks :func:`can_moderate`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.domain.events import ThreadChanged
from townhall.domain.ids import parse_id
from townhall.domain.services import Services
from townhall.moderation.checks.toxicity import explanation, load_model
from townhall.moderation.policy import Policy, PolicyError, merge_policy
from townhall.moderation.policy import update_policy as policy_with
from townhall.notify.replies import queue_reply_notice
from townhall.store import comments as comment_store
from townhall.store import moderation as store
from townhall.store import sites as site_store
from townhall.store import threads as thread_store
from townhall.types import BanKind, CommentStatus, Role, Verdict

MAX_REASON = 1000
MAX_NOTE = 2000
MAX_PAGE = 200
HASH_PREFIX = 8  # how much of an IP or email hash a moderator sees: enough to compare
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def can_moderate(user_role: str | Role, user_site_ids: Sequence[int], site_id: int) -> bool:
    """Whether a moderator account may act on a site: admins everywhere, moderators on the
    sites they were given."""
    try:
        role = Role(user_role)
    except ValueError:
        return False
    return role is Role.ADMIN or site_id in set(user_site_ids)


# --- results -----------------------------------------------------------------------------------


class ActionResult(msgspec.Struct):
    comment_id: str
    status: str
    previous_status: str
    thread_id: int
    thread_count: int
    thread_version: int


class BanView(msgspec.Struct):
    id: int
    kind: str
    value_prefix: str  # the start of the hash: enough to tell bans apart, useless to a thief
    site: str | None  # None: every site
    shadow: bool
    until: dt.datetime | None
    reason: str
    created_by: str
    created_at: dt.datetime
    lifted_at: dt.datetime | None


class ThreadResult(msgspec.Struct):
    thread_id: int
    site: str
    key: str
    closed: bool
    premoderation: bool | None  # the thread's own override; None: the site's setting applies
    count: int
    version: int


class AuthorInfo(msgspec.Struct):
    name: str
    email: str | None
    website: str | None
    ip_hash_prefix: str | None
    key: str | None  # "reader:…", "email:…" or "ip:…" prefix: what notes and history follow


class StatusCounts(msgspec.Struct):
    published: int = 0
    pending: int = 0
    rejected: int = 0
    spam: int = 0
    removed: int = 0
    deleted: int = 0


class ThreadRef(msgspec.Struct):
    id: int
    key: str
    title: str
    url: str
    closed: bool


class FlagView(msgspec.Struct):
    reason: str
    note: str | None
    created_at: dt.datetime


class QueueItem(msgspec.Struct):
    id: str
    site: str
    thread: ThreadRef
    parent_id: str | None
    status: str
    shadow: bool
    text: str
    html: str
    created_at: dt.datetime
    edited_at: dt.datetime | None
    author: AuthorInfo
    history: StatusCounts
    verdict: str | None
    checks: list[dict[str, Any]]  # every check's verdict, reason, score and details
    toxicity: float | None
    toxicity_explanation: list[dict[str, Any]]
    flag_count: int
    flags: list[FlagView]
    likes: int
    dislikes: int


class QueuePage(msgspec.Struct):
    items: list[QueueItem]
    next_cursor: str | None


class NoteView(msgspec.Struct):
    id: int
    note: str
    created_by: str
    created_at: dt.datetime


class HistoryEntry(msgspec.Struct):
    id: str
    status: str
    thread: ThreadRef
    text: str
    created_at: dt.datetime
    reasons: list[str]


class ReaderHistory(msgspec.Struct):
    site: str
    author: AuthorInfo
    counts: StatusCounts
    comments: list[HistoryEntry]
    bans: list[BanView]
    notes: list[NoteView]


class LogEntry(msgspec.Struct):
    id: int
    site_id: int | None
    thread_id: int | None
    comment_id: str | None
    actor: str
    action: str
    reason: str
    details: dict[str, Any] | None
    created_at: dt.datetime


class AuditPage(msgspec.Struct):
    entries: list[LogEntry]
    next_cursor: str | None


class BulkOutcome(msgspec.Struct):
    comment_id: str
    ok: bool
    status: str | None = None
    error: str | None = None


# --- helpers -----------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _id(value: Any, field: str = "id") -> int:
    return parse_id(value, field, "an id as shown in the moderation queue")


def _actor(actor: Any) -> str:
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 320:
        raise InvalidInput("actor must be the moderator's email address", field="actor")
    return actor.strip()


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
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


def _announce(services: Services, site_key: str, thread: Any, comment_id: int | None) -> None:
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


def _prefix(value: str | None) -> str | None:
    return value[:HASH_PREFIX] if value else None


def _author(row: Any) -> AuthorInfo:
    key = store.author_key(row)
    return AuthorInfo(
        name=row["author_name"],
        email=row["author_email"],
        website=row["author_website"],
        ip_hash_prefix=_prefix(row["ip_hash"]),
        key=f"{key[0]}:{key[1][:HASH_PREFIX]}" if key else None,
    )


def _thread_ref(row: Any) -> ThreadRef:
    return ThreadRef(
        id=row["thread_id"],
        key=row["thread_key"],
        title=row["thread_title"],
        url=row["thread_url"],
        closed=bool(row["thread_closed"]),
    )


def _counts(found: dict[str, int]) -> StatusCounts:
    known = {k: v for k, v in found.items() if k in StatusCounts.__struct_fields__}
    return StatusCounts(**known)


def _site_id(services: Services, key: Any) -> int:
    if not isinstance(key, str):
        raise InvalidInput("site must be a site key", field="site")
    with services.db.read() as conn:
        row = site_store.site_by_key(conn, key)
    if row is None:
        raise NotFound(f"unknown site {key!r}", field="site")
    return int(row["id"])


# --- decisions on comments ---------------------------------------------------------------------


class Action(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    MARK_SPAM = "mark_spam"
    REMOVE = "remove"
    RESTORE = "restore"


_P, _Q, _R, _S, _X = (
    CommentStatus.PUBLISHED,
    CommentStatus.PENDING,
    CommentStatus.REJECTED,
    CommentStatus.SPAM,
    CommentStatus.REMOVED,
)
# action: (statuses it applies to, status it leads to, what to do instead when it does not)
_TRANSITIONS: dict[Action, tuple[frozenset[CommentStatus], CommentStatus, dict[str, str]]] = {
    Action.APPROVE: (
        frozenset({_Q, _R, _S}),
        _P,
        {_P: "it is published already", _X: "it was removed: restore it instead"},
    ),
    Action.REJECT: (
        frozenset({_Q, _S}),
        _R,
        {
            _P: "it is published: remove it instead",
            _R: "it is rejected already",
            _X: "it was removed already",
        },
    ),
    Action.MARK_SPAM: (
        frozenset({_Q, _R, _P}),
        _S,
        {_S: "it is marked as spam already", _X: "it was removed already"},
    ),
    Action.REMOVE: (
        frozenset({_P}),
        _X,
        {
            _Q: "it is not published: reject it or mark it as spam instead",
            _R: "it is not published",
            _S: "it is not published",
            _X: "it was removed already",
        },
    ),
    Action.RESTORE: (
        frozenset({_X}),
        _P,
        {
            _P: "it is published already",
            _Q: "it was not removed: approve it instead",
            _R: "it was not removed: approve it instead",
            _S: "it was not removed: approve it instead",
        },
    ),
}


def _decide(
    services: Services, actor: Any, comment_id: Any, reason: Any, action: Action
) -> ActionResult:
    who = _actor(actor)
    why = _text(reason, "reason", MAX_REASON)
    cid = _id(comment_id)
    allowed, target, hints = _TRANSITIONS[action]
    now = _now()
    with services.db.write() as conn:
        row = store.comment_in_context(conn, cid, lock=True)
        if row is None:
            raise NotFound(f"comment {cid} does not exist", field="id")
        old = CommentStatus(row["status"])
        dismiss_flags = action is Action.APPROVE and old is _P and row["flag_count"] > 0
        if old is CommentStatus.DELETED:
            raise Conflict(f"cannot {action.value} comment {cid}: its author deleted it")
        if old not in allowed and not dismiss_flags:
            hint = hints.get(old, f"it is {old.value}")
            raise Conflict(f"cannot {action.value} comment {cid}: {hint}")
        values: dict[str, Any] = {"status": target}
        if action is Action.APPROVE:
            # A moderator's approval answers the flags so far and lifts a shadow.
            values.update(flag_count=0, shadow=False)
        comment_store.update_comment(conn, cid, **values)
        delta = int(target is _P) - int(old is _P)
        thread_store.bump(conn, row["thread_id"], count_delta=delta)
        comment_store.log_action(
            conn,
            site_id=row["site_id"],
            thread_id=row["thread_id"],
            comment_id=cid,
            actor=who,
            action="dismiss_flags" if dismiss_flags else action.value,
            now=now,
            reason=why,
            details={"from": old.value, "to": target.value, "flags": row["flag_count"]},
        )
        thread = thread_store.thread_by_id(conn, row["thread_id"])
        assert thread is not None
        if target is _P and old is not _P:
            _queue_reply_notice(conn, cid, thread, now)
    _announce(services, row["site_key"], thread, cid)
    return ActionResult(
        comment_id=str(cid),
        status=target.value,
        previous_status=old.value,
        thread_id=thread["id"],
        thread_count=thread["comment_count"],
        thread_version=thread["version"],
    )


def _queue_reply_notice(conn: Any, cid: int, thread: Any, now: dt.datetime) -> None:
    """A reply that becomes visible tells its parent's author, if they asked (notify/)."""
    reply = comment_store.comment_by_id(conn, cid)
    if reply is None or reply["parent_id"] is None:
        return
    parent = comment_store.comment_by_id(conn, reply["parent_id"])
    if parent is None:
        return
    queue_reply_notice(
        conn,
        parent=parent,
        reply_id=cid,
        reply_author=reply["author_name"],
        reply_html=reply["html"],
        reply_email_hash=reply["email_hash"],
        reply_reader_id=reply["reader_id"],
        thread_title=thread["title"],
        thread_url=thread["url"],
        now=now,
    )


def approve(services: Services, actor: str, comment_id: Any, reason: str = "") -> ActionResult:
    """Publish a held, rejected or spam comment; on a published comment, dismiss its flags."""
    return _decide(services, actor, comment_id, reason, Action.APPROVE)


def reject(services: Services, actor: str, comment_id: Any, reason: str = "") -> ActionResult:
    """Turn down a held comment (or one marked as spam that is merely off-limits)."""
    return _decide(services, actor, comment_id, reason, Action.REJECT)


def mark_spam(services: Services, actor: str, comment_id: Any, reason: str = "") -> ActionResult:
    """Mark a held, rejected or published comment as spam (published: it is taken down)."""
    return _decide(services, actor, comment_id, reason, Action.MARK_SPAM)


def remove(services: Services, actor: str, comment_id: Any, reason: str = "") -> ActionResult:
    """Take a published comment down. With replies it stays as a "removed by a moderator"
    tombstone so the replies keep their place; without, readers no longer see it."""
    return _decide(services, actor, comment_id, reason, Action.REMOVE)


def restore(services: Services, actor: str, comment_id: Any, reason: str = "") -> ActionResult:
    """Put a removed comment back as it was."""
    return _decide(services, actor, comment_id, reason, Action.RESTORE)


def bulk(
    services: Services, actor: str, action: str, comment_ids: Sequence[Any], reason: str = ""
) -> list[BulkOutcome]:
    """One decision on many comments, each in its own transaction: one comment that cannot
    take it does not stop the others."""
    try:
        chosen = Action(action)
    except ValueError:
        choices = ", ".join(a.value for a in Action)
        raise InvalidInput(f"action must be one of: {choices}", field="action") from None
    if len(comment_ids) > MAX_PAGE:
        raise InvalidInput(f"at most {MAX_PAGE} comments at once", field="ids")
    out = []
    for cid in comment_ids:
        try:
            done = _decide(services, actor, cid, reason, chosen)
        except (NotFound, Conflict, InvalidInput) as exc:
            out.append(BulkOutcome(comment_id=str(cid), ok=False, error=exc.message))
        else:
            out.append(BulkOutcome(comment_id=done.comment_id, ok=True, status=done.status))
    return out


# --- bans --------------------------------------------------------------------------------------


def _ban_view(row: Any, site_key: str | None) -> BanView:
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
    if _HEX64.match(given.lower()):
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
    who = _actor(actor)
    why = _text(reason, "reason", 500, required=True)
    ban_kind = _ban_kind(kind)
    now = _now()
    if until is not None and (until.tzinfo is None or until <= now):
        raise InvalidInput("until must be a time in the future, with a time zone", field="until")
    cid: int | None = None
    site_id: int | None = None
    if comment_id is not None:
        cid = _id(comment_id, "comment_id")
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
            site_id = _site_id(services, site)
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
            action="shadow_ban" if shadow else "ban",
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
    return _ban_view(row, site_row["key"] if site_row else None)


def unban(services: Services, actor: str, ban_id: Any, reason: str = "") -> BanView:
    """Lift a ban now. The row stays, for the record."""
    who = _actor(actor)
    why = _text(reason, "reason", MAX_REASON)
    bid = _id(ban_id, "ban_id")
    now = _now()
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
            action="unban",
            now=now,
            reason=why,
            details={"ban_id": bid, "kind": str(row["kind"])},
        )
        after = store.ban_by_id(conn, bid)
        site_row = site_store.site_by_id(conn, row["site_id"]) if row["site_id"] else None
    assert after is not None
    return _ban_view(after, site_row["key"] if site_row else None)


def list_bans(
    services: Services, *, sites: Sequence[str] | None = None, active_only: bool = True
) -> list[BanView]:
    """Bans on the given sites (and those on every site), newest first."""
    site_ids = [_site_id(services, s) for s in sites] if sites is not None else None
    with services.db.read() as conn:
        rows = store.bans_matching(conn, site_ids=site_ids, now=_now(), active_only=active_only)
        keys = {r["id"]: r["key"] for r in site_store.all_sites(conn)}
    return [_ban_view(r, keys.get(r["site_id"])) for r in rows]


# --- threads -----------------------------------------------------------------------------------


def _thread_result(row: Any, site_key: str) -> ThreadResult:
    override = (row["policy"] or {}).get("premoderation")
    return ThreadResult(
        thread_id=row["id"],
        site=site_key,
        key=row["key"],
        closed=bool(row["closed"]),
        premoderation=override,
        count=row["comment_count"],
        version=row["version"],
    )


def _change_thread(
    services: Services,
    actor: Any,
    thread_id: Any,
    reason: Any,
    action: str,
    change: Any,
) -> ThreadResult:
    who = _actor(actor)
    why = _text(reason, "reason", MAX_REASON)
    tid = _id(thread_id, "thread_id")
    now = _now()
    with services.db.write() as conn:
        row = store.thread_for_update(conn, tid)
        if row is None:
            raise NotFound(f"thread {tid} does not exist", field="thread_id")
        values, details = change(row)
        thread_store.update_thread(conn, tid, **values)
        comment_store.log_action(
            conn,
            site_id=row["site_id"],
            thread_id=tid,
            actor=who,
            action=action,
            now=now,
            reason=why,
            details=details,
        )
        after = thread_store.thread_by_id(conn, tid)
    assert after is not None
    _announce(services, row["site_key"], after, None)
    return _thread_result(after, row["site_key"])


def close_thread(services: Services, actor: str, thread_id: Any, reason: str = "") -> ThreadResult:
    """Stop new comments on a thread; what is there stays visible."""

    def change(row: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        if row["closed"]:
            raise Conflict(f"thread {row['id']} is closed already")
        return {"closed": True}, {}

    return _change_thread(services, actor, thread_id, reason, "close_thread", change)


def reopen_thread(services: Services, actor: str, thread_id: Any, reason: str = "") -> ThreadResult:
    def change(row: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        if not row["closed"]:
            raise Conflict(f"thread {row['id']} is open already")
        return {"closed": False}, {}

    return _change_thread(services, actor, thread_id, reason, "reopen_thread", change)


def set_thread_premoderation(
    services: Services, actor: str, thread_id: Any, enabled: bool | None, reason: str = ""
) -> ThreadResult:
    """Hold every new comment on one thread (True), never by this rule (False), or follow the
    site's policy again (None)."""
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidInput("enabled must be true, false or null", field="enabled")

    def change(row: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        overrides = dict(row["policy"] or {})
        before = overrides.get("premoderation")
        if enabled is None:
            overrides.pop("premoderation", None)
        else:
            overrides["premoderation"] = enabled
        try:
            merge_policy(row["site_policy"] or {}, overrides)
        except PolicyError as exc:  # an older override no longer valid: say so
            raise InvalidInput(f"thread policy: {exc}", field="policy") from None
        return {"policy": overrides or None}, {"from": before, "to": enabled}

    return _change_thread(services, actor, thread_id, reason, "thread_premoderation", change)


# --- policy ------------------------------------------------------------------------------------


def get_policy(services: Services, site: str) -> Policy:
    site_id = _site_id(services, site)
    with services.db.read() as conn:
        row = site_store.site_by_id(conn, site_id)
    assert row is not None
    return policy_with(row["policy"] or {}, {})


def update_policy(
    services: Services, actor: str, site: str, changes: Any, reason: str = ""
) -> Policy:
    """Change some policy fields of a site; the whole result is validated first, so a bad
    value is a clear error and the site keeps its old policy."""
    who = _actor(actor)
    why = _text(reason, "reason", MAX_REASON)
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput("changes must be an object of policy fields", field="policy")
    site_id = _site_id(services, site)
    now = _now()
    with services.db.write() as conn:
        row = site_store.site_by_id(conn, site_id)
        assert row is not None
        try:
            policy = policy_with(row["policy"] or {}, changes)
        except PolicyError as exc:
            raise InvalidInput(f"policy: {exc}", field="policy") from None
        site_store.update_site(conn, site_id, policy=policy.to_json())
        comment_store.log_action(
            conn,
            site_id=site_id,
            actor=who,
            action="update_policy",
            now=now,
            reason=why,
            details={"changes": {k: v for k, v in policy.to_json().items() if k in changes}},
        )
    services.sites.forget(site)
    return policy


# --- the queue ---------------------------------------------------------------------------------


class QueueStatus(enum.StrEnum):
    PENDING = "pending"  # held for review
    FLAGGED = "flagged"  # flagged by readers, published or held
    RECENT = "recent"  # everything but author deletions: post-moderation
    REJECTED = "rejected"
    SPAM = "spam"


_QUEUE_STATUSES: dict[QueueStatus, tuple[CommentStatus, ...]] = {
    QueueStatus.PENDING: (CommentStatus.PENDING,),
    QueueStatus.FLAGGED: (CommentStatus.PUBLISHED, CommentStatus.PENDING),
    QueueStatus.RECENT: (_P, _Q, _R, _S, _X),
    QueueStatus.REJECTED: (CommentStatus.REJECTED,),
    QueueStatus.SPAM: (CommentStatus.SPAM,),
}


@dataclass(frozen=True)
class QueueFilter:
    status: QueueStatus | str = QueueStatus.PENDING
    sites: Sequence[str] | None = None  # site keys; None: every site (admins)
    thread_id: int | None = None
    min_score: float | None = None  # toxicity
    max_score: float | None = None
    check: str | None = None  # only comments on which this check acted
    reason: str | None = None  # only comments with a check reason containing this text
    flagged_only: bool = False
    search: str | None = None  # in the text, the author's name or email
    cursor: str | None = None
    limit: int = 50


def _encode_cursor(created: dt.datetime, cid: int) -> str:
    raw = f"{created.astimezone(dt.UTC).isoformat()}|{cid}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, cid = raw.split("|")
        created = dt.datetime.fromisoformat(when)
        if created.tzinfo is None:
            raise ValueError
        return created, int(cid)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this server gave out", field="cursor") from None


def _score(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInput(f"{field} must be a number between 0 and 1", field=field)
    return float(value)


def _acted(result: dict[str, Any]) -> bool:
    return result.get("verdict") != Verdict.PASS or bool(result.get("shadow"))


def _wanted(row: Any, check: str | None, reason: str | None) -> bool:
    results = (row["moderation"] or {}).get("results", [])
    acted = [r for r in results if _acted(r)]
    if check is not None and not any(r.get("check") == check for r in acted):
        return False
    return reason is None or any(reason in str(r.get("reason", "")).lower() for r in acted)


def queue(services: Services, filters: QueueFilter) -> QueuePage:
    """One page of the moderation queue, newest first, with everything a decision needs."""
    try:
        status = QueueStatus(filters.status)
    except ValueError:
        choices = ", ".join(s.value for s in QueueStatus)
        raise InvalidInput(f"status must be one of: {choices}", field="status") from None
    if not isinstance(filters.limit, int) or not 1 <= filters.limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    site_ids = [_site_id(services, s) for s in filters.sites] if filters.sites is not None else None
    check = filters.check.strip() if filters.check else None
    reason = filters.reason.strip().lower() if filters.reason else None
    # The database narrows by the JSON text; the exact test (did the check act?) runs here.
    mentions = f'"check": "{check}"' if check else None
    if mentions is None and reason and reason.isascii():
        mentions = reason
    before = _decode_cursor(filters.cursor) if filters.cursor else None
    rows: list[Any] = []
    exhausted = False
    with services.db.read() as conn:
        for _ in range(20):  # bounded: a rare check name must not scan the whole table
            batch = store.queue_page(
                conn,
                store.QueueQuery(
                    statuses=_QUEUE_STATUSES[status],
                    site_ids=site_ids,
                    thread_id=filters.thread_id,
                    flagged_only=filters.flagged_only or status is QueueStatus.FLAGGED,
                    min_score=_score(filters.min_score, "min_score"),
                    max_score=_score(filters.max_score, "max_score"),
                    mentions=mentions,
                    search=(filters.search or "").strip() or None,
                    before=before,
                    limit=filters.limit + 1,
                ),
            )
            if not batch:
                exhausted = True
                break
            for row in batch:
                if len(rows) > filters.limit:
                    break
                before = (row["created_at"], row["id"])
                if (check is None and reason is None) or _wanted(row, check, reason):
                    rows.append(row)
            if len(rows) > filters.limit:
                break
            if len(batch) <= filters.limit:
                exhausted = True
                break
        more = len(rows) > filters.limit
        rows = rows[: filters.limit]
        items = _items(services, conn, rows)
    next_cursor = None
    if more:
        next_cursor = _encode_cursor(rows[-1]["created_at"], rows[-1]["id"])
    elif not exhausted and before is not None:
        next_cursor = _encode_cursor(*before)  # scanned this far without filling the page
    return QueuePage(items=items, next_cursor=next_cursor)


def comment_item(services: Services, comment_id: Any) -> QueueItem:
    """One comment with everything the queue shows about it (a link to a single comment)."""
    cid = _id(comment_id)
    with services.db.read() as conn:
        row = store.comment_in_context(conn, cid)
        if row is None:
            raise NotFound(f"comment {cid} does not exist", field="id")
        return _items(services, conn, [row])[0]


def _items(services: Services, conn: Any, rows: Sequence[Any]) -> list[QueueItem]:
    flags = store.flags_of(conn, [r["id"] for r in rows])
    counts: dict[tuple[int, tuple[str, str]], dict[str, int]] = {}
    by_site: dict[int, set[tuple[str, str]]] = {}
    for r in rows:
        key = store.author_key(r)
        if key is not None:
            by_site.setdefault(r["site_id"], set()).add(key)
    for site_id, keys in by_site.items():
        for key, found in store.status_counts(conn, site_id, sorted(keys)).items():
            counts[(site_id, key)] = found
    items = []
    for r in rows:
        moderation = r["moderation"] or {}
        results = list(moderation.get("results", []))
        key = store.author_key(r)
        items.append(
            QueueItem(
                id=str(r["id"]),
                site=r["site_key"],
                thread=_thread_ref(r),
                parent_id=None if r["parent_id"] is None else str(r["parent_id"]),
                status=str(r["status"]),
                shadow=bool(r["shadow"]),
                text=r["text"],
                html=r["html"],
                created_at=r["created_at"],
                edited_at=r["edited_at"],
                author=_author(r),
                history=_counts(counts.get((r["site_id"], key), {}) if key else {}),
                verdict=moderation.get("verdict"),
                checks=results,
                toxicity=r["toxicity"],
                toxicity_explanation=_explanation(r, results),
                flag_count=r["flag_count"],
                flags=[
                    FlagView(reason=str(f["reason"]), note=f["note"], created_at=f["created_at"])
                    for f in flags.get(r["id"], [])
                ],
                likes=r["likes"],
                dislikes=r["dislikes"],
            )
        )
    return items


def _explanation(row: Any, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The words behind the toxicity score: stored when the check acted, else computed now
    (a comment readers flagged was published, so nothing was stored)."""
    for r in results:
        if r.get("check") == "toxicity" and (r.get("details") or {}).get("explanation"):
            return list(r["details"]["explanation"])
    if row["toxicity"] is None:
        return []
    model = load_model()
    return explanation(model, row["text"]) if model is not None else []


# --- readers -----------------------------------------------------------------------------------


def _comment_row(services: Services, comment_id: Any) -> Any:
    cid = _id(comment_id, "comment_id")
    with services.db.read() as conn:
        row = store.comment_in_context(conn, cid)
    if row is None:
        raise NotFound(f"comment {cid} does not exist", field="comment_id")
    return row


def _reader_key(row: Any) -> tuple[str, str]:
    key = store.author_key(row)
    if key is None:
        raise Conflict(
            f"comment {row['id']} has nothing on record that identifies its author",
            field="comment_id",
        )
    return key


def reader_history(services: Services, comment_id: Any, *, limit: int = 50) -> ReaderHistory:
    """What a comment's author did on the comment's site: counts by status, their latest
    comments with the reasons they were held, bans that match them, moderators' notes."""
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    row = _comment_row(services, comment_id)
    key = _reader_key(row)
    site_id = int(row["site_id"])
    values = [
        (kind, row[column])
        for kind, column in (
            (BanKind.READER, "reader_id"),
            (BanKind.EMAIL, "email_hash"),
            (BanKind.IP, "ip_hash"),
        )
        if row[column]
    ]
    with services.db.read() as conn:
        counts = store.status_counts(conn, site_id, [key])[key]
        recent = store.author_comments(conn, site_id, key, limit)
        ban_rows = store.bans_matching(
            conn, site_ids=[site_id], now=_now(), active_only=False, values=values
        )
        notes = store.notes_of(conn, site_id, f"{key[0]}:{key[1]}")
        site_keys = {r["id"]: r["key"] for r in site_store.all_sites(conn)}
    return ReaderHistory(
        site=row["site_key"],
        author=_author(row),
        counts=_counts(counts),
        comments=[
            HistoryEntry(
                id=str(c["id"]),
                status=str(c["status"]),
                thread=_thread_ref(c),
                text=c["text"],
                created_at=c["created_at"],
                reasons=[
                    str(r.get("reason", ""))
                    for r in (c["moderation"] or {}).get("results", [])
                    if _acted(r)
                ],
            )
            for c in recent
        ],
        bans=[_ban_view(b, site_keys.get(b["site_id"])) for b in ban_rows],
        notes=[
            NoteView(
                id=n["id"], note=n["note"], created_by=n["created_by"], created_at=n["created_at"]
            )
            for n in notes
        ],
    )


def add_reader_note(services: Services, actor: str, comment_id: Any, note: str) -> NoteView:
    """A moderator's note on a comment's author, shown with their history on this site."""
    who = _actor(actor)
    text = _text(note, "note", MAX_NOTE, required=True)
    row = _comment_row(services, comment_id)
    kind, value = _reader_key(row)
    now = _now()
    with services.db.write() as conn:
        note_id = store.insert_note(
            conn,
            site_id=row["site_id"],
            reader_key=f"{kind}:{value}",
            note=text,
            actor=who,
            now=now,
        )
        comment_store.log_action(
            conn,
            site_id=row["site_id"],
            thread_id=row["thread_id"],
            comment_id=row["id"],
            actor=who,
            action="reader_note",
            now=now,
            details={"note_id": note_id},
        )
    return NoteView(id=note_id, note=text, created_by=who, created_at=now)


# --- the audit log -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    sites: Sequence[str] | None = None
    actor: str | None = None
    action: str | None = None
    comment_id: Any = None
    thread_id: Any = None
    cursor: str | None = None
    limit: int = 50


def audit_log(services: Services, filters: AuditFilter) -> AuditPage:
    """Every decision, newest first: the moderators' and the pipeline's ("system")."""
    if not isinstance(filters.limit, int) or not 1 <= filters.limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    site_ids = [_site_id(services, s) for s in filters.sites] if filters.sites is not None else None
    before = None
    if filters.cursor:
        before = _id(filters.cursor, "cursor")
    with services.db.read() as conn:
        rows = store.log_page(
            conn,
            site_ids=site_ids,
            actor=filters.actor or None,
            action=filters.action or None,
            comment_id=None
            if filters.comment_id is None
            else _id(filters.comment_id, "comment_id"),
            thread_id=None if filters.thread_id is None else _id(filters.thread_id, "thread_id"),
            before_id=before,
            limit=filters.limit + 1,
        )
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return AuditPage(
        entries=[
            LogEntry(
                id=r["id"],
                site_id=r["site_id"],
                thread_id=r["thread_id"],
                comment_id=None if r["comment_id"] is None else str(r["comment_id"]),
                actor=r["actor"],
                action=r["action"],
                reason=r["reason"],
                details=r["details"],
                created_at=r["created_at"],
            )
            for r in rows
        ],
        next_cursor=str(rows[-1]["id"]) if more and rows else None,
    )
