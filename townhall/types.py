"""The vocabulary shared by every layer: statuses, verdicts and small value types."""

from __future__ import annotations

import enum


class CommentStatus(enum.StrEnum):
    """Where a comment stands. Only ``published`` is shown to readers as a comment;
    ``deleted`` and ``removed`` stay as tombstones while they have visible replies."""

    PUBLISHED = "published"
    PENDING = "pending"
    REJECTED = "rejected"
    SPAM = "spam"
    REMOVED = "removed"
    DELETED = "deleted"


class Verdict(enum.StrEnum):
    """What one moderation check says about a comment, mildest first."""

    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    NUDGE = "nudge"
    HOLD = "hold"
    REJECT = "reject"


class Sort(enum.StrEnum):
    OLDEST = "oldest"
    NEWEST = "newest"
    TOP = "top"


class FlagReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class Role(enum.StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"


class BanKind(enum.StrEnum):
    """What a ban matches on. Values are hashes, never raw emails or addresses."""

    READER = "reader"
    EMAIL = "email"
    IP = "ip"


# Statuses a reader can see as a comment (everything else is hidden or a tombstone).
VISIBLE_STATUSES = frozenset({CommentStatus.PUBLISHED})
TOMBSTONE_STATUSES = frozenset({CommentStatus.DELETED, CommentStatus.REMOVED})
