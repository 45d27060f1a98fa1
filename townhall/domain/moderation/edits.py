"""A moderator edits a comment's text (issue 5: "edit"), e.g. to cut a phone number out of an
otherwise fine comment. The status stays; the old text goes to the audit log."""

from __future__ import annotations

from typing import Any

from townhall.domain.comments import clean_text, text_columns
from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.domain.moderation.common import (
    MAX_REASON,
    actor_name,
    announce,
    bounded_text,
    int_id,
    utc_now,
)
from townhall.domain.moderation.views import ActionResult
from townhall.domain.services import Services
from townhall.store import comments as comment_store
from townhall.store import moderation as store
from townhall.store import threads as thread_store
from townhall.types import CommentStatus

BEFORE_CHARS = 4000  # how much of the old text the audit log keeps


def edit_comment(
    services: Services, actor: str, comment_id: Any, text: Any, reason: Any = ""
) -> ActionResult:
    who = actor_name(actor)
    why = bounded_text(reason, "reason", MAX_REASON)
    cid = int_id(comment_id)
    clean = clean_text(text, services.settings.max_comment_chars)
    now = utc_now()
    with services.db.write() as conn:
        row = store.comment_in_context(conn, cid, lock=True)
        if row is None:
            raise NotFound(f"comment {cid} does not exist", field="id")
        status = CommentStatus(row["status"])
        if status is CommentStatus.DELETED:
            raise Conflict(f"cannot edit comment {cid}: its author deleted it")
        if clean == row["text"]:
            raise InvalidInput("the text is unchanged", field="text")
        comment_store.update_comment(conn, cid, **text_columns(clean), edited_at=now)
        thread_store.bump(conn, row["thread_id"])
        comment_store.log_action(
            conn,
            site_id=row["site_id"],
            thread_id=row["thread_id"],
            comment_id=cid,
            actor=who,
            action="edit",
            now=now,
            reason=why,
            details={"before": row["text"][:BEFORE_CHARS]},
        )
        thread = thread_store.thread_by_id(conn, row["thread_id"])
    assert thread is not None
    announce(services, row["site_key"], thread, cid)
    return ActionResult.of(cid, status.value, status.value, thread)
