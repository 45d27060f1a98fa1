"""Isso's SQLite database (``comments.db``), schema version 5 (Isso 0.12 to 0.14).

Semantics worth knowing (QUIRKS.md): ``created``/``modified`` are float UNIX seconds (UTC);
``mode`` 1 published, 2 awaiting moderation, 4 deleted but kept for its replies; ``text`` is
Markdown with inline HTML allowed (rows Isso imported from Disqus hold HTML); ``threads.uri``
is a path, not a URL; replies are at most one level deep (Isso flattens deeper ones).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from townhall.importers.cleaning import (
    clean_email,
    clean_ip,
    clean_name,
    clean_title,
    clean_website,
    from_unix,
    maybe_url_decoded_title,
)
from townhall.importers.records import (
    BodyFormat,
    CommentRecord,
    Problem,
    ReadContext,
    Record,
    SkipReason,
    ThreadRecord,
    UnreadableFile,
)
from townhall.types import CommentStatus

SQLITE_MAGIC = b"SQLite format 3\x00"
_MODES = {1: CommentStatus.PUBLISHED, 2: CommentStatus.PENDING, 4: CommentStatus.DELETED}
_NEEDED = {
    "threads": {"id", "uri", "title"},
    "comments": {"tid", "id", "parent", "created", "mode", "text", "author", "email"},
}


def _connect(path: Path) -> sqlite3.Connection:
    try:
        with path.open("rb") as f:
            magic = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise UnreadableFile(f"cannot open {path}: {exc.strerror or exc}") from None
    if magic != SQLITE_MAGIC:
        raise UnreadableFile("this is not an SQLite database, so not Isso's comments.db")
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
        tables: dict[str, set[str]] = {}
        for table in _NEEDED:
            tables[table] = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    except sqlite3.DatabaseError as exc:
        raise UnreadableFile(f"the SQLite database cannot be read: {exc}") from None
    for table, columns in _NEEDED.items():
        missing = columns - tables[table]
        if missing:
            conn.close()
            raise UnreadableFile(
                f"this SQLite database is not Isso's: table {table!r} lacks "
                + ", ".join(sorted(missing))
            )
    return conn


def read(path: Path, ctx: ReadContext) -> Iterator[Record]:
    conn = _connect(path)
    size = path.stat().st_size
    try:
        yield from _read(conn, ctx, size)
    except sqlite3.DatabaseError as exc:
        yield Problem(f"the database is damaged; reading stopped: {exc}")
    finally:
        conn.close()


def _read(conn: sqlite3.Connection, ctx: ReadContext, size: int) -> Iterator[Record]:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(comments)")}
    optional = [c for c in ("modified", "remote_addr", "website", "likes", "dislikes")]
    picked = ", ".join(c if c in columns else f"NULL AS {c}" for c in optional)
    for tid, uri, title in conn.execute("SELECT id, uri, title FROM threads ORDER BY id"):
        yield ThreadRecord(
            source_key=str(tid),
            url=uri if isinstance(uri, str) else "",
            title=maybe_url_decoded_title(clean_title(title if isinstance(title, str) else "")),
        )
    total = conn.execute("SELECT count(*) FROM comments").fetchone()[0] or 1
    query = (
        "SELECT tid, id, parent, created, mode, text, author, email, "  # noqa: S608
        f"{picked} FROM comments ORDER BY tid, id"
    )
    for index, row in enumerate(conn.execute(query)):
        if index % 1000 == 0:
            ctx.progress(int(size * index / total))
        tid, cid, parent, created, mode, text, author, email = row[:8]
        modified, remote_addr, website, likes, dislikes = row[8:]
        label = f"comment {cid}"
        created_at = from_unix(created)
        if created_at is None:
            yield Problem(f"created {created!r} is not a time", None, label, SkipReason.MALFORMED)
            continue
        status = _MODES.get(mode) if isinstance(mode, int) else None
        if status is None:
            yield Problem(f"mode {mode!r} is unknown: imported as pending", None, label)
            status = CommentStatus.PENDING
        yield CommentRecord(
            source_thread=str(tid),
            source_id=str(cid),
            parent_id=None if parent is None else str(parent),
            created_at=created_at,
            edited_at=from_unix(modified) if modified is not None else None,
            body=text if isinstance(text, str) else "",
            body_format=BodyFormat.MARKDOWN_HTML,
            status=status,
            author_name=clean_name(author if isinstance(author, str) else ""),
            author_email=clean_email(email if isinstance(email, str) else ""),
            author_website=clean_website(website if isinstance(website, str) else ""),
            ip=clean_ip(remote_addr if isinstance(remote_addr, str) else ""),
            likes=likes if isinstance(likes, int) and likes > 0 else 0,
            dislikes=dislikes if isinstance(dislikes, int) and dislikes > 0 else 0,
            label=label,
        )
    ctx.progress(size)
