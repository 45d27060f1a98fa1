"""What moderator actions and queries answer with."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec


class ActionResult(msgspec.Struct):
    comment_id: str
    status: str
    previous_status: str
    thread_id: int
    thread_count: int
    thread_version: int

    @classmethod
    def of(cls, comment_id: int, status: str, previous: str, thread: Any) -> ActionResult:
        """The answer to an action on a comment, with its thread's row as the action left it."""
        return cls(
            comment_id=str(comment_id),
            status=status,
            previous_status=previous,
            thread_id=thread["id"],
            thread_count=thread["comment_count"],
            thread_version=thread["version"],
        )


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
