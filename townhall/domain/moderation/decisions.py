"""Decisions on comments: approve, reject, mark as spam, remove, restore (one or in bulk).

Every decision is one transaction: the status change, the thread's visible count
(published comments only) and version, and a ``moderation_log`` row (who, when, what, why);
events go out after the commit."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import Any

from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.domain.moderation.common import (
    MAX_PAGE,
    MAX_REASON,
    actor_name,
    announce,
    bounded_text,
    int_id,
    utc_now,
)
from townhall.domain.moderation.views import ActionResult, BulkOutcome
from townhall.domain.services import Services
from townhall.notify.replies import queue_reply_notice
from townhall.store import comments as comment_store
from townhall.store import moderation as store
from townhall.store import threads as thread_store
from townhall.types import CommentStatus


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
    who = actor_name(actor)
    why = bounded_text(reason, "reason", MAX_REASON)
    cid = int_id(comment_id)
    allowed, target, hints = _TRANSITIONS[action]
    now = utc_now()
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
    announce(services, row["site_key"], thread, cid)
    return ActionResult.of(cid, target.value, old.value, thread)


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
