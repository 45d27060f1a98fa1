"""The tables. Migrations in ``migrations/versions`` create exactly this (a test compares)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from townhall.store.types import UTCDateTime
from townhall.types import BanKind, CommentStatus, FlagReason, Role

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _enum(cls: type, name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
    )


sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("origins", JSON, nullable=False),  # list of allowed origins, "scheme://host[:port]"
    Column("edit_window_seconds", Integer, nullable=False),
    Column("policy", JSON, nullable=False),  # moderation policy, see moderation/policy.py
    Column("created_at", UTCDateTime, nullable=False),
)

threads = Table(
    "threads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("key", String(512), nullable=False),
    Column("title", String(500), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("closed", Boolean, nullable=False, default=False),
    Column("policy", JSON, nullable=True),  # per-thread overrides of the site policy
    Column("comment_count", Integer, nullable=False, default=0),  # published comments
    Column("version", Integer, nullable=False, default=1),  # bumped by every write
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_comment_at", UTCDateTime, nullable=True),
    UniqueConstraint("site_id", "key"),
)


def _present(column: str) -> dict[str, Any]:
    """Index only the rows where ``column`` is set: every lookup asks for a value, and a new
    top-level comment without email or import source skips four of the comment indexes."""
    where = text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


# Never shown to anyone, unless as the tombstone of a comment that has replies.
GONE_STATUSES = (CommentStatus.DELETED, CommentStatus.REMOVED, CommentStatus.REJECTED)
# The comments a thread's listing holds: the listing query (store/comments.py) and the index
# that serves it share this text, as SQLite uses a partial index only for a query that repeats
# its condition.
LISTED = "status NOT IN (" + ", ".join(f"'{s.value}'" for s in GONE_STATUSES) + ") OR has_replies"

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("thread_id", Integer, ForeignKey("threads.id"), nullable=False),
    Column("parent_id", Integer, ForeignKey("comments.id"), nullable=True),
    Column("root_id", Integer, nullable=True),  # the top-level ancestor; NULL for top-level
    Column("depth", Integer, nullable=False),
    Column("status", _enum(CommentStatus, "comment_status"), nullable=False),
    Column("shadow", Boolean, nullable=False, default=False),  # shadow-banned: author-only
    Column("author_name", String(200), nullable=False),
    Column("author_email", String(320), nullable=True),  # never in a reader-facing response
    Column("email_hash", String(64), nullable=True),
    Column("author_website", String(2048), nullable=True),
    Column("reader_id", String(64), nullable=True),  # hash of the reader token
    Column("user_id", Integer, nullable=True),
    Column("ip_hash", String(64), nullable=True),  # keyed hash, erased after retention
    Column("text", Text, nullable=False),  # Markdown source
    Column("html", Text, nullable=False),  # sanitised HTML, rendered once on write
    Column("created_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime, nullable=True),
    Column("likes", Integer, nullable=False, default=0),
    Column("dislikes", Integer, nullable=False, default=0),
    Column("flag_count", Integer, nullable=False, default=0),
    Column("toxicity", Float, nullable=True),
    Column("moderation", JSON, nullable=True),  # the last Decision: verdict, reasons, scores
    Column("edit_token_hash", String(64), nullable=True),
    Column("source_id", String(200), nullable=True),  # "disqus:123" for imported comments
    # the author asked for mail when someone replies (needs author_email)
    Column("notify_replies", Boolean, nullable=False, default=False, server_default=false()),
    # MinHash bands of the folded text, written with it: the flood check compares a new comment
    # only with those sharing a band (moderation/minhash.py). NULL: imported, or older.
    # Derived: not exported (importers/native.py).
    Column("signature", LargeBinary, nullable=True, info={"derived": True}),
    # Some comment (in any state) replies to this one: a deleted, removed or rejected comment
    # then stays in its thread's listing as a tombstone. Set by store/comments.py whenever a
    # reply is written (one at a time or in bulk); never cleared, as comments are never erased.
    # Derived: not exported, recomputed on restore.
    Column("has_replies", Boolean, nullable=False, server_default=false(), info={"derived": True}),
    # With the signature: the flood check reads a thread's latest signatures from the index
    # alone, not 200 table rows (moderation/checks/duplicates.py).
    Index("ix_comments_thread_created", "thread_id", "created_at", "signature"),
    # A thread's listing reads what a reader could see and nothing else, however many deleted
    # or rejected comments the thread has piled up (a spam wave, a long-lived thread).
    Index(
        "ix_comments_thread_listed",
        "thread_id",
        "created_at",
        sqlite_where=text(LISTED),
        postgresql_where=text(LISTED),
    ),
    Index("ix_comments_created", "created_at"),  # the Recent queue across all sites
    Index("ix_comments_root", "root_id", **_present("root_id")),
    Index("ix_comments_reader", "reader_id", "thread_id"),
    Index("ix_comments_status_created", "status", "created_at"),
    Index("ix_comments_email_hash", "email_hash", **_present("email_hash")),
    Index("ix_comments_ip_hash", "ip_hash", **_present("ip_hash")),
    Index("ix_comments_source", "thread_id", "source_id", **_present("source_id")),
    Index("ix_comments_parent", "parent_id", **_present("parent_id")),
)

votes = Table(
    "votes",
    metadata,
    Column("comment_id", Integer, ForeignKey("comments.id"), primary_key=True),
    Column("voter", String(80), primary_key=True),
    Column("value", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

flags = Table(
    "flags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("comment_id", Integer, ForeignKey("comments.id"), nullable=False),
    Column("flagger", String(80), nullable=False),
    Column("reason", _enum(FlagReason, "flag_reason"), nullable=False),
    Column("note", String(500), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("comment_id", "flagger"),
)

bans = Table(
    "bans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=True),  # NULL: every site
    Column("kind", _enum(BanKind, "ban_kind"), nullable=False),
    Column("value", String(80), nullable=False),  # reader id, email hash or IP hash
    Column("shadow", Boolean, nullable=False, default=False),
    Column("until", UTCDateTime, nullable=True),  # NULL: permanent
    Column("reason", String(500), nullable=False, default=""),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("lifted_at", UTCDateTime, nullable=True),
    Index("ix_bans_kind_value", "kind", "value"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", _enum(Role, "user_role"), nullable=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Sessions carry this number; bumping it (password change, sign out everywhere) ends them.
    Column("session_version", Integer, nullable=False, default=1, server_default="1"),
    Column("last_login_at", UTCDateTime, nullable=True),
)

user_sites = Table(
    "user_sites",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), primary_key=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("created_by", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_api_tokens_user", "user_id"),
)

moderation_log = Table(
    "moderation_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=True),
    Column("thread_id", Integer, nullable=True),
    Column("comment_id", Integer, nullable=True),
    Column("actor", String(320), nullable=False),  # "system" or a moderator's email
    Column("action", String(40), nullable=False),
    Column("reason", String(1000), nullable=False, default=""),
    Column("details", JSON, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_moderation_log_site_created", "site_id", "created_at"),
    Index("ix_moderation_log_comment", "comment_id"),
)

reader_notes = Table(
    "reader_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("reader_key", String(80), nullable=False),  # "reader:<id>" or "email:<hash>"
    Column("note", String(2000), nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_reader_notes_reader", "site_id", "reader_key"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime, nullable=True),
    Column("last_error", String(1000), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_outbox_pending", "done_at", "next_attempt_at"),
)
