"""Isso's JSON shapes, and how townhall's comments map onto them.

Isso's client inserts ``author`` and ``website`` into its HTML templates without escaping
(Isso's server stores them HTML-escaped), so they are escaped here; ``text`` is townhall's
sanitised HTML. Emails and IPs never appear: ``hash``, which Isso derives from an email or an
address to draw an identicon, is a keyed hash of the author's reader id (or name)."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import html

import msgspec

from townhall.domain.listing import Node
from townhall.domain.rendering import plain_text
from townhall.domain.views import CommentView
from townhall.types import CommentStatus


class Mode(enum.IntEnum):
    """Isso's comment ``mode``."""

    ACCEPTED = 1  # published
    QUEUED = 2  # held for moderation: only its author sees it
    DELETED = 4  # deleted or removed, kept because it has replies


_MODES = {
    CommentStatus.PUBLISHED: Mode.ACCEPTED,
    CommentStatus.PENDING: Mode.QUEUED,
    CommentStatus.DELETED: Mode.DELETED,
    CommentStatus.REMOVED: Mode.DELETED,
}


def mode_of(status: str) -> Mode:
    return _MODES.get(CommentStatus(status), Mode.QUEUED)


class IssoComment(msgspec.Struct):
    id: int
    parent: int | None
    text: str
    author: str | None
    website: str | None
    mode: Mode
    created: float
    modified: float | None
    likes: int
    dislikes: int
    hash: str
    # Only on top-level comments of a thread listing:
    total_replies: int | msgspec.UnsetType = msgspec.UNSET
    hidden_replies: int | msgspec.UnsetType = msgspec.UNSET
    replies: list[IssoComment] | msgspec.UnsetType = msgspec.UNSET


class IssoConfig(msgspec.Struct, rename="kebab", frozen=True):
    """The client settings that depend on the server (``GET /config``)."""

    reply_to_self: bool = True  # townhall lets authors answer themselves
    require_email: bool = False
    require_author: bool = False
    reply_notifications: bool = False
    gravatar: bool = False
    avatar: bool = True
    feed: bool = True


CONFIG = IssoConfig()


class IssoThread(msgspec.Struct):
    id: int | None
    total_replies: int
    hidden_replies: int
    replies: list[IssoComment]
    config: IssoConfig = CONFIG  # Isso clients before 0.13 read it here


class Votes(msgspec.Struct):
    likes: int
    dislikes: int


class Preview(msgspec.Struct):
    text: str


class ConfigOut(msgspec.Struct):
    config: IssoConfig


# -- requests ------------------------------------------------------------------------------


class NewIn(msgspec.Struct):
    """``POST /new``: unknown fields (Isso's ``notification``) are ignored, as Isso does."""

    text: str
    author: str | None = None
    email: str | None = None
    website: str | None = None
    parent: int | None = None
    title: str | None = None


class EditIn(msgspec.Struct):
    text: str
    author: str | None = None  # accepted but not applied: townhall edits the text only
    website: str | None = None


class PreviewIn(msgspec.Struct):
    text: str


# -- conversions ---------------------------------------------------------------------------


class AvatarHasher:
    """Isso's ``hash``: 12 hex digits, stable per author, keyed so it reveals nothing."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"townhall.isso.avatar", hashlib.sha256).digest()

    def __call__(self, reader_id: str | None, name: str) -> str:
        basis = f"r:{reader_id}" if reader_id else f"n:{name.strip().lower()}"
        return hmac.new(self._key, basis.encode(), hashlib.sha256).hexdigest()[:12]


TOMBSTONE_HASH = "000000000000"


def timestamp(value: dt.datetime | str | None) -> float | None:
    """A datetime, or an RFC 3339 string from a CommentView, as Unix seconds (ms precision)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    # Truncated to milliseconds, like the API's RFC 3339 times, so both views agree.
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    return round(float(value.timestamp()), 3)


def escaped(value: str | None) -> str | None:
    return None if not value else html.escape(value, quote=True)


def from_node(
    node: Node, status: str, parent: int | None, avatar: AvatarHasher, *, plain: bool = False
) -> IssoComment:
    mode = mode_of(status)
    gone = mode is Mode.DELETED
    text = "" if gone else node.html
    if plain and text:
        text = html.unescape(plain_text(text))
    return IssoComment(
        id=node.id,
        parent=parent,
        text=text,
        author=None if gone else escaped(node.author_name),
        website=None if gone else escaped(node.author_website),
        mode=mode,
        created=timestamp(node.created_at) or 0.0,
        modified=timestamp(node.edited_at),
        likes=node.likes,
        dislikes=node.dislikes,
        hash=TOMBSTONE_HASH if gone else avatar(node.reader_id, node.author_name),
    )


def from_view(
    view: CommentView,
    parent: int | None,
    avatar_hash: str,
    *,
    text: str | None = None,
) -> IssoComment:
    mode = mode_of(view.status)
    gone = mode is Mode.DELETED
    return IssoComment(
        id=int(view.id),
        parent=parent,
        text="" if gone else (view.html if text is None else text),
        author=None if gone else escaped(view.author.name),
        website=None if gone else escaped(view.author.website),
        mode=mode,
        created=timestamp(view.created_at) or 0.0,
        modified=timestamp(view.edited_at),
        likes=view.likes,
        dislikes=view.dislikes,
        hash=TOMBSTONE_HASH if gone else avatar_hash,
    )
