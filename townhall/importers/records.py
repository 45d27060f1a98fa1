"""What every format reader hands to the import pipeline: threads, comments, authors and notes
about records it could not read. Readers never touch the database; the pipeline stages the
records, plans each thread's tree and writes it (see ``pipeline.py``)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from townhall.types import CommentStatus


class SkipReason(enum.StrEnum):
    """Why a record of the file did not become a comment. Shown in the report."""

    SPAM = "spam"
    DELETED = "deleted"
    DUPLICATE = "duplicate"
    ORPHAN = "orphan"
    MALFORMED = "malformed"
    PINGBACK = "pingback"
    TRACKBACK = "trackback"
    UNSUPPORTED = "unsupported"  # a record that is not a reader comment (WooCommerce notes)


class BodyFormat(enum.StrEnum):
    """How a comment's source text becomes HTML (see ``bodies.py``)."""

    HTML = "html"  # Disqus, remark42: HTML, sanitised
    MARKDOWN = "markdown"  # Commento: Markdown as townhall renders new comments
    MARKDOWN_HTML = "markdown_html"  # Isso: Markdown that may hold inline HTML
    WORDPRESS = "wordpress"  # WordPress: HTML with wpautop newline semantics


class CommentKind(enum.StrEnum):
    COMMENT = "comment"
    PINGBACK = "pingback"
    TRACKBACK = "trackback"
    UNSUPPORTED = "unsupported"  # a record that is not a reader comment (WooCommerce notes)


@dataclass(slots=True)
class ThreadRecord:
    """A thread as the source system describes it. ``source_key`` joins comments to it."""

    source_key: str
    url: str = ""
    identifier: str = ""  # the system's own article id (Disqus <id>, WordPress post id)
    title: str = ""
    closed: bool = False
    deleted: bool = False
    created_at: dt.datetime | None = None
    line: int | None = None


@dataclass(slots=True)
class CommentRecord:
    source_thread: str
    source_id: str  # unique within its thread; the pipeline prefixes the format ("disqus:")
    created_at: dt.datetime
    body: str
    body_format: BodyFormat
    parent_id: str | None = None
    status: CommentStatus = CommentStatus.PUBLISHED
    kind: CommentKind = CommentKind.COMMENT
    author_name: str = ""
    author_email: str | None = None
    author_website: str | None = None
    author_ref: str | None = None  # joins an AuthorRecord (Commento lists authors apart)
    ip: str | None = None
    edited_at: dt.datetime | None = None
    likes: int = 0
    dislikes: int = 0
    voters: list[tuple[str, int]] | None = None  # individual votes when the format has them
    rendered: str | None = None  # HTML the source system rendered from ``body`` (remark42)
    line: int | None = None
    label: str = ""  # how the report names the record, e.g. "post 1234"


@dataclass(slots=True)
class AuthorRecord:
    ref: str
    name: str = ""
    email: str | None = None
    website: str | None = None
    anonymous: bool = False


@dataclass(frozen=True, slots=True)
class Problem:
    """A record that could not be used (``reason`` set) or something worth knowing (warning)."""

    message: str
    line: int | None = None
    record: str = ""
    reason: SkipReason | None = None

    def where(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.record:
            parts.append(self.record)
        return ", ".join(parts)


Record = ThreadRecord | CommentRecord | AuthorRecord | Problem


class UnreadableFile(Exception):
    """Nothing sensible can be read from the file; the message says what is wrong with it."""


def _ignore_progress(position: int) -> None:
    return None


@dataclass
class ReadContext:
    """What a reader needs besides the file: how to read zone-less dates, and where to report
    progress (bytes of the file read so far)."""

    timezone: dt.tzinfo = dt.UTC
    progress: Callable[[int], None] = field(default=_ignore_progress)
    notes: list[Problem] = field(default_factory=list)  # about the file as a whole
