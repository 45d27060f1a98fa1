"""What moderators do: decide on comments, ban authors, close threads, tune a site's policy,
and read the queue, a reader's history and the audit log. No HTTP here.

Every action is one transaction: the status change, the thread's visible count (published
comments only) and version, and a ``moderation_log`` row (who, when, what, why). Events go out
after the commit, like the reader write paths in :mod:`townhall.domain.comments`.

Who may act on which site is the web layer's question; it asks :func:`can_moderate`.

| module | what |
|---|---|
| ``decisions`` | approve, reject, mark as spam, remove, restore; in bulk |
| ``edits`` | a moderator edits a comment's text |
| ``bans`` | ban (timed, shadow), unban, list |
| ``threads`` | close, reopen, pre-moderate a thread |
| ``policy`` | a site's content policy |
| ``queue`` | the queue and one item of it |
| ``readers`` | a reader's history and moderators' notes |
| ``audit`` | the audit log |
| ``views`` | what all of them answer with |
"""

from townhall.domain.moderation.audit import AuditFilter, audit_log
from townhall.domain.moderation.bans import ban, list_bans, unban
from townhall.domain.moderation.common import (
    HASH_PREFIX,
    MAX_NOTE,
    MAX_PAGE,
    MAX_REASON,
    can_moderate,
)
from townhall.domain.moderation.decisions import (
    Action,
    approve,
    bulk,
    mark_spam,
    reject,
    remove,
    restore,
)
from townhall.domain.moderation.edits import edit_comment
from townhall.domain.moderation.policy import get_policy, update_policy
from townhall.domain.moderation.queue import QueueFilter, QueueStatus, comment_item, queue
from townhall.domain.moderation.readers import add_reader_note, reader_history
from townhall.domain.moderation.threads import close_thread, reopen_thread, set_thread_premoderation
from townhall.domain.moderation.views import (
    ActionResult,
    AuditPage,
    AuthorInfo,
    BanView,
    BulkOutcome,
    FlagView,
    HistoryEntry,
    LogEntry,
    NoteView,
    QueueItem,
    QueuePage,
    ReaderHistory,
    StatusCounts,
    ThreadRef,
    ThreadResult,
)

__all__ = [
    "HASH_PREFIX",
    "MAX_NOTE",
    "MAX_PAGE",
    "MAX_REASON",
    "Action",
    "ActionResult",
    "AuditFilter",
    "AuditPage",
    "AuthorInfo",
    "BanView",
    "BulkOutcome",
    "FlagView",
    "HistoryEntry",
    "LogEntry",
    "NoteView",
    "QueueFilter",
    "QueueItem",
    "QueuePage",
    "QueueStatus",
    "ReaderHistory",
    "StatusCounts",
    "ThreadRef",
    "ThreadResult",
    "add_reader_note",
    "approve",
    "audit_log",
    "ban",
    "bulk",
    "can_moderate",
    "close_thread",
    "comment_item",
    "edit_comment",
    "get_policy",
    "list_bans",
    "mark_spam",
    "queue",
    "reader_history",
    "reject",
    "remove",
    "reopen_thread",
    "restore",
    "set_thread_premoderation",
    "unban",
    "update_policy",
]
