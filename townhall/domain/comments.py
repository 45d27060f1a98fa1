"""The write paths for comments: post, edit, delete, vote, flag.

``submit_comment`` validates, runs the moderation pipeline, then stores the comment, its
moderation record and the thread's counters in one transaction; events go out after commit.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from townhall.domain.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    NudgeRequired,
    RateLimited,
    Unauthorized,
)
from townhall.domain.events import ThreadChanged
from townhall.domain.identity import Reader, new_token, token_hash
from townhall.domain.ids import parse_id
from townhall.domain.rendering import render_markdown
from townhall.domain.services import Services
from townhall.domain.sites import Site
from townhall.domain.threads import Thread, check_page_url, check_thread_key
from townhall.domain.views import AuthorView, CommentView, rfc3339
from townhall.moderation.checks.duplicates import signature
from townhall.moderation.pipeline import CheckContext, Decision, History, Submission, moderate
from townhall.moderation.policy import merge_policy
from townhall.notify.replies import queue_reply_notice
from townhall.store import comments as comment_store
from townhall.store import sites as site_store
from townhall.store import threads as thread_store
from townhall.store.history import ConnHistory
from townhall.types import TOMBSTONE_STATUSES, CommentStatus, FlagReason, Verdict

EMAIL = re.compile(
    r"^[^@\s<>\x00-\x1f\x7f]{1,64}@[^@\s<>\x00-\x1f\x7f]{1,255}\.[^@\s<>\x00-\x1f\x7f]{1,63}$"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters RFC 3986 never allows unencoded in a URL (whitespace, controls, "<>`\).
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f\"<>`\\]")
MAX_DEPTH = 100  # stored depth is unlimited in principle; this guards against abuse


@dataclass(frozen=True)
class NewComment:
    site: str
    thread: str
    text: str
    parent_id: str | None = None
    author_name: str | None = None
    author_email: str | None = None
    author_website: str | None = None
    thread_title: str | None = None
    thread_url: str | None = None
    confirm: bool = False
    notify_replies: bool = False


@dataclass(frozen=True)
class Posted:
    comment: CommentView
    status: CommentStatus
    edit_token: str
    decision: Decision


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def text_columns(text: str) -> dict[str, Any]:
    """What a comment stores for its text, written together whenever the text is: the
    Markdown source, its rendered HTML and its flood-check signature."""
    return {"text": text, "html": render_markdown(text), "signature": signature(text)}


def clean_text(text: Any, max_chars: int, field: str = "text") -> str:
    if not isinstance(text, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n")).replace("\x00", "")
    if not text.strip():
        raise InvalidInput("text is empty: write something before posting", field=field)
    if len(text) > max_chars:
        raise InvalidInput(
            f"text is {len(text)} characters long; the limit is {max_chars}", field=field
        )
    return str(text.strip())


def _clean_author(
    services: Services, name: str | None, email: str | None, website: str | None
) -> tuple[str, str | None, str | None]:
    limit = services.settings.max_name_chars
    name = _CONTROL.sub("", (name or "").strip())
    if len(name) > limit:
        raise InvalidInput(f"name must be at most {limit} characters", field="author.name")
    email = (email or "").strip() or None
    if email is not None and (len(email) > 320 or not EMAIL.match(email)):
        raise InvalidInput(
            "email does not look like an address (name@example.org); leave it empty if you prefer",
            field="author.email",
        )
    website = (website or "").strip() or None
    if website is not None:
        if "://" not in website:
            website = "https://" + website
        try:
            parts = urlsplit(website)
            scheme, hostname = parts.scheme, parts.hostname
        except ValueError:  # urlsplit refuses some hosts (e.g. a bracketed non-IP)
            scheme, hostname = "", None
        if (
            scheme not in ("http", "https")
            or not hostname
            or len(website) > 2048
            or _URL_UNSAFE.search(website)
        ):
            raise InvalidInput(
                "website must be an http(s) address like https://example.org",
                field="author.website",
            )
    return name or "Anonymous", email, website


def _decide(
    history: History, sub: Submission, policy_site: Site, thread: Thread | None
) -> Decision:
    policy = merge_policy(policy_site.policy, thread.policy if thread else None)
    decision = moderate(sub, CheckContext(policy=policy, history=history))
    refusal = decision.refusal
    if refusal is not None:
        if refusal.refusal == "rate_limited":
            raise RateLimited(
                "You are posting too fast: " + refusal.reason + " Wait and try again.",
                retry_after=refusal.retry_after or 60,
            )
        raise Forbidden(refusal.reason, code=refusal.refusal)
    if decision.verdict is Verdict.NUDGE and not sub.confirmed:
        raise NudgeRequired(
            "Your comment may read as hostile to other readers. Would you like to edit it "
            "before posting?",
            field="text",
        )
    return decision


def submit_comment(services: Services, new: NewComment, reader: Reader) -> Posted:
    settings = services.settings
    site = services.sites.get(new.site)
    key = check_thread_key(new.thread)
    text = clean_text(new.text, settings.max_comment_chars)
    name, email, website = _clean_author(
        services, new.author_name, new.author_email, new.author_website
    )
    title = _CONTROL.sub("", (new.thread_title or "").strip())[:500]
    url = check_page_url(site, new.thread_url)
    email_hash = services.hasher.email(email) if email else None
    if new.notify_replies and not email:
        raise InvalidInput(
            "give an email address to get mail about replies (it is never shown)",
            field="author.email",
        )
    now = _now()
    columns = text_columns(text)  # before the write lock is taken
    html = columns["html"]
    edit_token = new_token()
    parent_id = parse_id(new.parent_id, "parent_id") if new.parent_id is not None else None
    # One transaction from the first read to the last write: the checks count the author's
    # comments on the connection that adds this one (with the author's writes serialised),
    # so concurrent posts cannot slip past a rate limit, and a post costs one connection.
    with services.db.write() as conn:
        if reader.reader_id or reader.ip_hash:
            comment_store.lock_author(conn, [k for k in (reader.reader_id, reader.ip_hash) if k])
        found = thread_store.thread_by_key(conn, site.id, key)
        thread = Thread.from_row(found) if found is not None else None
        parent = None if parent_id is None else comment_store.comment_by_id(conn, parent_id)
        depth = 0 if parent_id is None else _reply_depth(parent, thread, reader)
        sub = Submission(
            site_id=site.id,
            thread_id=thread.id if thread else None,
            thread_closed=bool(thread and thread.closed),
            text=text,
            author_name=name,
            author_website=website,
            email_hash=email_hash,
            reader_id=reader.reader_id,
            ip_hash=reader.ip_hash,
            now=now,
            confirmed=new.confirm,
        )
        decision = _decide(ConnHistory(conn), sub, site, thread)
        status = decision.status
        if found is None:
            found = thread_store.get_or_create_thread(
                conn, site_id=site.id, key=key, title=title or key, url=url, now=now
            )
            if found["closed"]:
                raise Forbidden("The thread is closed for comments.", code="closed")
        thread_id = found["id"]
        values: dict[str, Any] = {
            "thread_id": thread_id,
            "parent_id": parent["id"] if parent else None,
            "root_id": (parent["root_id"] or parent["id"]) if parent else None,
            "depth": depth,
            "status": status,
            "shadow": decision.shadow,
            "author_name": name,
            "author_email": email,
            "email_hash": email_hash,
            "author_website": website,
            "reader_id": reader.reader_id,
            "ip_hash": reader.ip_hash,
            **columns,
            "created_at": now,
            "edited_at": None,
            "likes": 0,
            "dislikes": 0,
            "flag_count": 0,
            "toxicity": decision.toxicity,
            "moderation": decision.as_json(),
            "edit_token_hash": token_hash(edit_token),
            "notify_replies": new.notify_replies,
        }
        comment_id = comment_store.insert_comment(conn, **values)
        visible = status is CommentStatus.PUBLISHED
        after = thread_store.bump_returning(
            conn, thread_id, count_delta=1 if visible else 0, last_comment_at=now
        )
        if visible and parent is not None:
            queue_reply_notice(
                conn,
                parent=parent,
                reply_id=comment_id,
                reply_author=name,
                reply_html=html,
                reply_email_hash=email_hash,
                reply_reader_id=reader.reader_id,
                thread_title=after["title"],
                thread_url=after["url"],
                now=now,
            )
        if not visible:
            comment_store.log_action(
                conn,
                site_id=site.id,
                thread_id=thread_id,
                comment_id=comment_id,
                actor="system",
                action=f"auto_{status.value}",
                now=now,
                reason="; ".join(decision.reasons),
                details=decision.as_json(),
            )
    _announce(services, site, Thread.from_row(after), comment_id)
    shown = _public_status(status, decision.shadow)
    return Posted(
        comment=comment_view({**values, "id": comment_id}, status=shown),
        status=shown,
        edit_token=edit_token,
        decision=decision,
    )


def _reply_depth(parent: Any | None, thread: Thread | None, reader: Reader) -> int:
    """The depth of a reply to ``parent`` (None: no such comment), if a reply to it may be
    posted here."""
    if parent is None or thread is None or parent["thread_id"] != thread.id:
        raise InvalidInput("parent_id does not name a comment of this thread", field="parent_id")
    own = reader.reader_id is not None and parent["reader_id"] == reader.reader_id
    if parent["status"] != CommentStatus.PUBLISHED and not own:
        raise InvalidInput(
            "the comment you reply to was removed or is not visible", field="parent_id"
        )
    depth = int(parent["depth"]) + 1
    if depth > MAX_DEPTH:
        raise InvalidInput(
            "this conversation is nested too deeply to reply here", field="parent_id"
        )
    return depth


def _public_status(status: CommentStatus, shadow: bool) -> CommentStatus:
    if shadow:
        return CommentStatus.PUBLISHED
    if status is CommentStatus.PUBLISHED:
        return status
    return CommentStatus.PENDING  # rejected and spam look "held" to the author


def comment_view(row: Any, *, status: str, reply_count: int = 0) -> CommentView:
    """One comment from its full row, as its author (or a moderator) sees it."""
    tomb = status in TOMBSTONE_STATUSES
    return CommentView(
        id=str(row["id"]),
        parent_id=None if row["parent_id"] is None else str(row["parent_id"]),
        depth=row["depth"],
        status=status,
        author=AuthorView(name="")
        if tomb
        else AuthorView(name=row["author_name"], website=row["author_website"] or None),
        html="" if tomb else row["html"],
        created_at=rfc3339(row["created_at"]) or "",
        edited_at=None if tomb else rfc3339(row["edited_at"]),
        likes=row["likes"],
        dislikes=row["dislikes"],
        reply_count=reply_count,
    )


def _announce(services: Services, site: Site, thread: Thread, comment_id: int | None) -> None:
    services.events.publish(
        ThreadChanged(
            site_key=site.key,
            thread_key=thread.key,
            thread_id=thread.id,
            version=thread.version,
            count=thread.count,
            comment_id=comment_id,
        )
    )


def _load(services: Services, comment_id: Any) -> tuple[Any, Site, Thread]:
    cid = parse_id(comment_id, "id")
    with services.db.read() as conn:
        row = comment_store.comment_by_id(conn, cid)
        thread_row = thread_store.thread_by_id(conn, row["thread_id"]) if row else None
        site_row = site_store.site_by_id(conn, thread_row["site_id"]) if thread_row else None
    if row is None or thread_row is None or site_row is None:
        raise NotFound(f"comment {cid} does not exist", field="id")
    return row, Site.from_row(site_row), Thread.from_row(thread_row)


def site_of_comment(services: Services, comment_id: Any) -> Site:
    return _load(services, comment_id)[1]


def _authorised(services: Services, comment_id: Any, token: str | None) -> tuple[Any, Site, Thread]:
    """The comment, its site and thread, after checking the edit token; else 401/404."""
    row, site, thread = _load(services, comment_id)
    expected = row["edit_token_hash"]
    if not token or not expected or not hmac.compare_digest(token_hash(token), expected):
        raise Unauthorized(
            "the edit token does not match this comment; only its author can change it",
            field="X-Townhall-Edit-Token",
        )
    if row["status"] in TOMBSTONE_STATUSES:
        raise NotFound(f"comment {row['id']} was deleted", field="id")
    return row, site, thread


def _check_window(site: Site, row: Any, now: dt.datetime) -> None:
    if now - row["created_at"] > dt.timedelta(seconds=site.edit_window_seconds):
        minutes = site.edit_window_seconds // 60
        raise Forbidden(
            f"the edit window of {minutes} minutes after posting has closed",
            code="edit_window_closed",
        )


def edit_comment(
    services: Services, comment_id: Any, token: str | None, text: Any, reader: Reader
) -> CommentView:
    row, site, thread = _authorised(services, comment_id, token)
    now = _now()
    _check_window(site, row, now)
    clean = clean_text(text, services.settings.max_comment_chars)
    sub = Submission(
        site_id=site.id,
        thread_id=thread.id,
        thread_closed=thread.closed,
        text=clean,
        author_name=row["author_name"],
        author_website=row["author_website"],
        email_hash=row["email_hash"],
        reader_id=row["reader_id"],
        ip_hash=reader.ip_hash,
        now=now,
        is_edit=True,
        confirmed=True,
    )
    decision = _decide(services.history, sub, site, thread)
    old_status = CommentStatus(row["status"])
    # An edit can only keep or lower a comment's standing: a held comment stays held.
    status = decision.status if old_status is CommentStatus.PUBLISHED else old_status
    shadow = bool(row["shadow"]) or decision.shadow
    delta = int(status is CommentStatus.PUBLISHED) - int(old_status is CommentStatus.PUBLISHED)
    with services.db.write() as conn:
        comment_store.update_comment(
            conn,
            row["id"],
            **text_columns(clean),
            edited_at=now,
            status=status,
            shadow=shadow,
            toxicity=decision.toxicity,
            moderation=decision.as_json(),
        )
        thread_store.bump(conn, thread.id, count_delta=delta)
        if status is not old_status:
            comment_store.log_action(
                conn,
                site_id=site.id,
                thread_id=thread.id,
                comment_id=row["id"],
                actor="system",
                action=f"auto_{status.value}",
                now=now,
                reason="edited: " + "; ".join(decision.reasons),
                details=decision.as_json(),
            )
        stored = comment_store.comment_by_id(conn, row["id"])
        reply_count = comment_store.visible_child_count(conn, row["id"])
        after = thread_store.thread_by_id(conn, thread.id)
    assert stored is not None and after is not None
    _announce(services, site, Thread.from_row(after), row["id"])
    return comment_view(stored, status=_public_status(status, shadow), reply_count=reply_count)


def delete_comment(services: Services, comment_id: Any, token: str | None) -> CommentView | None:
    """The author deletes their comment: a tombstone if it has replies, else it disappears.
    The row stays (status deleted) for the moderation record; readers never see its text."""
    row, site, thread = _authorised(services, comment_id, token)
    now = _now()
    _check_window(site, row, now)
    was_visible = row["status"] == CommentStatus.PUBLISHED
    with services.db.write() as conn:
        comment_store.update_comment(
            conn,
            row["id"],
            status=CommentStatus.DELETED,
            html="",
            edited_at=now,
            edit_token_hash=None,
        )
        thread_store.bump(conn, thread.id, count_delta=-1 if was_visible else 0)
        comment_store.log_action(
            conn,
            site_id=site.id,
            thread_id=thread.id,
            comment_id=row["id"],
            actor="author",
            action="delete",
            now=now,
        )
        stored = comment_store.comment_by_id(conn, row["id"])
        replies = comment_store.visible_child_count(conn, row["id"])
        after = thread_store.thread_by_id(conn, thread.id)
    assert stored is not None and after is not None
    _announce(services, site, Thread.from_row(after), row["id"])
    if replies == 0:
        return None
    return comment_view(stored, status=CommentStatus.DELETED, reply_count=replies)


def _visible_comment(services: Services, comment_id: Any) -> tuple[Any, Site, Thread]:
    row, site, thread = _load(services, comment_id)
    if row["status"] != CommentStatus.PUBLISHED:
        raise NotFound(f"comment {row['id']} is not visible", field="id")
    return row, site, thread


def vote(services: Services, comment_id: Any, value: Any, reader: Reader) -> tuple[int, int]:
    if value not in (1, -1, 0) or isinstance(value, bool):
        raise InvalidInput("value must be 1 (like), -1 (dislike) or 0 (withdraw)", field="value")
    row, site, thread = _visible_comment(services, comment_id)
    now = _now()
    with services.db.write() as conn:
        likes, dislikes = comment_store.set_vote(conn, row["id"], reader.voter_key, value, now)
        thread_store.bump(conn, thread.id)
        after = thread_store.thread_by_id(conn, thread.id)
    assert after is not None
    _announce(services, site, Thread.from_row(after), row["id"])
    return likes, dislikes


def flag(services: Services, comment_id: Any, reason: Any, note: Any, reader: Reader) -> None:
    try:
        flag_reason = FlagReason(reason)
    except ValueError:
        choices = ", ".join(r.value for r in FlagReason)
        raise InvalidInput(f"reason must be one of: {choices}", field="reason") from None
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise InvalidInput("note must be text of at most 500 characters", field="note")
    if note is not None:
        note = note.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    row, site, thread = _visible_comment(services, comment_id)
    policy = merge_policy(site.policy, thread.policy)
    now = _now()
    held = False
    with services.db.write() as conn:
        count = comment_store.add_flag(conn, row["id"], reader.voter_key, flag_reason, note, now)
        if count is not None and policy.flags_to_hold and count >= policy.flags_to_hold:
            current = comment_store.comment_by_id(conn, row["id"])
            if current is not None and current["status"] == CommentStatus.PUBLISHED:
                comment_store.update_comment(conn, row["id"], status=CommentStatus.PENDING)
                thread_store.bump(conn, thread.id, count_delta=-1)
                comment_store.log_action(
                    conn,
                    site_id=site.id,
                    thread_id=thread.id,
                    comment_id=row["id"],
                    actor="system",
                    action="auto_pending",
                    reason=f"flagged by {count} readers",
                    now=now,
                )
                held = True
        after = thread_store.thread_by_id(conn, thread.id)
    if held and after is not None:
        _announce(services, site, Thread.from_row(after), row["id"])


@dataclass(frozen=True)
class OwnComment:
    """A comment as its author sees it: its Markdown source for their editor, the top-level
    comment of its conversation, and who wrote it (for clients that draw author avatars)."""

    comment: CommentView
    text: str
    site_key: str
    root_id: str | None
    reader_id: str | None


def access_own_comment(services: Services, comment_id: Any, token: str | None) -> OwnComment:
    """The comment, only after its edit token checks out (401 otherwise, 404 when it does not
    exist or was deleted). Used by the Isso-compatible API's edit form (`GET /id/N?plain=1`)."""
    row, site, _thread = _authorised(services, comment_id, token)
    status = _public_status(CommentStatus(row["status"]), bool(row["shadow"]))
    with services.db.read() as conn:
        replies = comment_store.visible_child_count(conn, row["id"])
    root = row["root_id"] or row["parent_id"]
    return OwnComment(
        comment=comment_view(row, status=status, reply_count=replies),
        text=row["text"],
        site_key=site.key,
        root_id=None if root is None else str(root),
        reader_id=row["reader_id"],
    )
