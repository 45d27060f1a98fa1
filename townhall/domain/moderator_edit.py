"""A moderator edits a comment's text (issue 5: "edit"), e.g. to cut a phone number out of an
otherwise fine comment. The status stays; the old text goes to the audit log.

Written beside :mod:`townhall.domain.moderation`, which had no edit action when the moderator
pages were built; it uses only existing store functions and belongs in that module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from townhall.domain.comments import clean_text
from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.domain.events import ThreadChanged
from townhall.domain.moderation import ActionResult, QueueItem
from townhall.domain.moderation import _items as moderation_items
from townhall.domain.rendering import render_markdown
from townhall.domain.services import Services
from townhall.store import comments as comment_store
from townhall.store import moderation as moderation_store
from townhall.store import threads as thread_store
from townhall.types import CommentStatus

MAX_REASON = 1000


def edit_comment(
    services: Services, actor: str, comment_id: Any, text: Any, reason: Any = ""
) -> ActionResult:
    if not isinstance(actor, str) or not actor.strip():
        raise InvalidInput("actor must be the moderator's email address", field="actor")
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise InvalidInput(
            f"reason must be text of at most {MAX_REASON} characters", field="reason"
        )
    if isinstance(comment_id, str) and comment_id.isdigit() and len(comment_id) < 19:
        cid = int(comment_id)
    elif isinstance(comment_id, int) and not isinstance(comment_id, bool):
        cid = comment_id
    else:
        raise InvalidInput("id must be a comment id", field="id")
    clean = clean_text(text, services.settings.max_comment_chars)
    now = dt.datetime.now(dt.UTC)
    with services.db.write() as conn:
        row = moderation_store.comment_in_context(conn, cid, lock=True)
        if row is None:
            raise NotFound(f"comment {cid} does not exist", field="id")
        status = CommentStatus(row["status"])
        if status is CommentStatus.DELETED:
            raise Conflict(f"cannot edit comment {cid}: its author deleted it")
        if clean == row["text"]:
            raise InvalidInput("the text is unchanged", field="text")
        comment_store.update_comment(
            conn, cid, text=clean, html=render_markdown(clean), edited_at=now
        )
        thread_store.bump(conn, row["thread_id"])
        comment_store.log_action(
            conn,
            site_id=row["site_id"],
            thread_id=row["thread_id"],
            comment_id=cid,
            actor=actor.strip(),
            action="edit",
            now=now,
            reason=reason.strip(),
            details={"before": row["text"][:4000]},
        )
        thread = thread_store.thread_by_id(conn, row["thread_id"])
    assert thread is not None
    services.events.publish(
        ThreadChanged(
            site_key=row["site_key"],
            thread_key=thread["key"],
            thread_id=thread["id"],
            version=thread["version"],
            count=thread["comment_count"],
            comment_id=cid,
        )
    )
    return ActionResult(
        comment_id=str(cid),
        status=status.value,
        previous_status=status.value,
        thread_id=thread["id"],
        thread_count=thread["comment_count"],
        thread_version=thread["version"],
    )


def comment_item(services: Services, comment_id: Any) -> QueueItem:
    """One comment with everything the queue shows about it (for the edit page and links to
    a single comment). Also missing from :mod:`townhall.domain.moderation`; built from its
    queue rows the same way."""
    if isinstance(comment_id, str) and comment_id.isdigit() and len(comment_id) < 19:
        cid = int(comment_id)
    elif isinstance(comment_id, int) and not isinstance(comment_id, bool):
        cid = comment_id
    else:
        raise InvalidInput("id must be a comment id", field="id")
    with services.db.read() as conn:
        row = moderation_store.comment_in_context(conn, cid)
        if row is None:
            raise NotFound(f"comment {cid} does not exist", field="id")
        return moderation_items(services, conn, [row])[0]
