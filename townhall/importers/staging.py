"""A scratch SQLite file that holds the records of the file being imported.

Export files are not grouped the way we write: Disqus lists every thread first and then every
post in date order, and a reply may come before its parent. Rather than keeping a million
records in memory, readers' records go to a temporary database on disk; the pipeline then
reads one thread at a time from it. Memory stays flat whatever the file's size.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from townhall.importers.records import (
    AuthorRecord,
    BodyFormat,
    CommentKind,
    CommentRecord,
    ThreadRecord,
)
from townhall.types import CommentStatus

_SCHEMA = """
CREATE TABLE threads (
    seq INTEGER PRIMARY KEY,
    source_key TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    identifier TEXT NOT NULL,
    title TEXT NOT NULL,
    closed INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    created_at TEXT,
    line INTEGER,
    key TEXT
);
CREATE TABLE comments (
    seq INTEGER PRIMARY KEY,
    source_thread TEXT NOT NULL,
    source_id TEXT NOT NULL,
    parent_id TEXT,
    created_at TEXT NOT NULL,
    edited_at TEXT,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    author_name TEXT NOT NULL,
    author_email TEXT,
    author_website TEXT,
    author_ref TEXT,
    ip TEXT,
    body TEXT NOT NULL,
    body_format TEXT NOT NULL,
    rendered TEXT,
    likes INTEGER NOT NULL,
    dislikes INTEGER NOT NULL,
    voters TEXT,
    line INTEGER,
    label TEXT NOT NULL
);
CREATE TABLE authors (
    ref TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    website TEXT,
    anonymous INTEGER NOT NULL
);
"""
_THREAD_UPSERT = """
INSERT INTO threads (source_key, url, identifier, title, closed, deleted, created_at, line)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source_key) DO UPDATE SET
    url = CASE WHEN threads.url = '' THEN excluded.url ELSE threads.url END,
    identifier = CASE WHEN threads.identifier = '' THEN excluded.identifier
                      ELSE threads.identifier END,
    title = CASE WHEN threads.title = '' THEN excluded.title ELSE threads.title END,
    closed = max(threads.closed, excluded.closed),
    deleted = max(threads.deleted, excluded.deleted),
    created_at = coalesce(threads.created_at, excluded.created_at),
    line = coalesce(threads.line, excluded.line)
"""
_COMMENT_INSERT = """
INSERT INTO comments (
    source_thread, source_id, parent_id, created_at, edited_at, status, kind, author_name,
    author_email, author_website, author_ref, ip, body, body_format, rendered, likes, dislikes,
    voters, line, label
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_BATCH = 2000


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


@dataclass(slots=True)
class StagedThread:
    source_key: str
    url: str
    identifier: str
    title: str
    closed: bool
    deleted: bool
    created_at: dt.datetime | None
    line: int | None


@dataclass(slots=True)
class StagedComment:
    seq: int
    source_thread: str
    source_id: str
    parent_id: str | None
    created_at: dt.datetime
    edited_at: dt.datetime | None
    status: CommentStatus
    kind: CommentKind
    author_name: str
    author_email: str | None
    author_website: str | None
    author_ref: str | None
    ip: str | None
    body: str
    body_format: BodyFormat
    rendered: str | None
    likes: int
    dislikes: int
    voters: list[tuple[str, int]] | None
    line: int | None
    label: str
    author_missing: bool = False  # names a commenter the file does not list


@dataclass(slots=True)
class Skeleton:
    """What planning a thread needs of a comment: no body, so a thread of a hundred thousand
    comments plans in a few tens of megabytes."""

    seq: int
    source_thread: str
    source_id: str
    parent_id: str | None
    status: CommentStatus
    kind: CommentKind
    created_at: dt.datetime
    empty: bool  # no text at all
    line: int | None
    label: str


class Staging:
    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="townhall-import-")
        self.path = Path(self._dir.name) / "staging.db"
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA temp_store=FILE")
        self.conn.executescript(_SCHEMA)
        self.conn.execute("BEGIN")
        self._threads: list[tuple[object, ...]] = []
        self._comments: list[tuple[object, ...]] = []
        self._authors: list[tuple[object, ...]] = []
        self.comment_count = 0

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()
        self._dir.cleanup()

    def add_thread(self, t: ThreadRecord) -> None:
        self._threads.append(
            (
                t.source_key, t.url, t.identifier, t.title, int(t.closed), int(t.deleted),
                _time(t.created_at), t.line,
            )
        )  # fmt: skip
        if len(self._threads) >= _BATCH:
            self._flush()

    def add_comment(self, c: CommentRecord) -> None:
        self.comment_count += 1
        self._comments.append(
            (
                c.source_thread, c.source_id, c.parent_id, _time(c.created_at),
                _time(c.edited_at), c.status.value, c.kind.value, c.author_name, c.author_email,
                c.author_website, c.author_ref, c.ip, c.body, c.body_format.value, c.rendered,
                c.likes, c.dislikes, json.dumps(c.voters) if c.voters else None, c.line,
                c.label,
            )
        )  # fmt: skip
        if len(self._comments) >= _BATCH:
            self._flush()

    def add_author(self, a: AuthorRecord) -> None:
        self._authors.append((a.ref, a.name, a.email, a.website, int(a.anonymous)))
        if len(self._authors) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._threads:
            self.conn.executemany(_THREAD_UPSERT, self._threads)
            self._threads.clear()
        if self._comments:
            self.conn.executemany(_COMMENT_INSERT, self._comments)
            self._comments.clear()
        if self._authors:
            self.conn.executemany(
                "INSERT OR IGNORE INTO authors VALUES (?, ?, ?, ?, ?)", self._authors
            )
            self._authors.clear()

    def finish(self) -> None:
        """All records are in: index them for reading back thread by thread."""
        self._flush()
        self.conn.execute("COMMIT")
        self.conn.execute("CREATE INDEX comments_thread ON comments (source_thread, seq)")

    # Reading back -------------------------------------------------------------------------

    def threads(self) -> Iterator[StagedThread]:
        for row in self.conn.execute(
            "SELECT source_key, url, identifier, title, closed, deleted, created_at, line "
            "FROM threads ORDER BY seq"
        ):
            yield StagedThread(
                row[0], row[1], row[2], row[3], bool(row[4]), bool(row[5]), _parse(row[6]),
                row[7],
            )  # fmt: skip

    def set_keys(self, keys: list[tuple[str, str, str]]) -> None:
        """(key, final url, source key) for every thread."""
        self.conn.execute("BEGIN")
        self.conn.executemany("UPDATE threads SET key = ?, url = ? WHERE source_key = ?", keys)
        self.conn.execute("COMMIT")
        self.conn.execute("CREATE INDEX threads_key ON threads (key, seq)")

    def thread_keys(self) -> Iterator[str]:
        """Thread keys in the order their first thread appears in the file."""
        for (key,) in self.conn.execute(
            "SELECT key FROM threads WHERE key != '' GROUP BY key ORDER BY min(seq)"
        ):
            yield key

    def threads_of(self, key: str) -> list[StagedThread]:
        return [
            StagedThread(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5]), _parse(r[6]), r[7])
            for r in self.conn.execute(
                "SELECT source_key, url, identifier, title, closed, deleted, created_at, line "
                "FROM threads WHERE key = ? ORDER BY seq",
                (key,),
            )
        ]

    def _comments_where(self, where: str, params: tuple[object, ...]) -> Iterator[StagedComment]:
        query = (
            "SELECT c.seq, c.source_thread, c.source_id, c.parent_id, c.created_at, "  # noqa: S608
            "c.edited_at, c.status, c.kind, coalesce(nullif(c.author_name, ''), a.name, ''), "
            "coalesce(c.author_email, a.email), coalesce(c.author_website, a.website), "
            "c.author_ref, c.ip, c.body, c.body_format, c.rendered, c.likes, c.dislikes, "
            "c.voters, c.line, c.label, c.author_ref IS NOT NULL AND a.ref IS NULL "
            "FROM comments c LEFT JOIN authors a ON a.ref = c.author_ref "
            f"WHERE {where} ORDER BY c.seq"
        )
        for r in self.conn.execute(query, params):
            created = _parse(r[4])
            assert created is not None
            comment = StagedComment(
                r[0], r[1], r[2], r[3], created, _parse(r[5]), CommentStatus(r[6]),
                CommentKind(r[7]), r[8], r[9], r[10], r[11], r[12], r[13], BodyFormat(r[14]),
                r[15], r[16], r[17], [tuple(v) for v in json.loads(r[18])] if r[18] else None,
                r[19], r[20], bool(r[21]),
            )  # fmt: skip
            yield comment

    def skeletons_of(self, source_keys: list[str]) -> list[Skeleton]:
        marks = ", ".join("?" * len(source_keys))
        query = (
            "SELECT seq, source_thread, source_id, parent_id, status, kind, created_at, "  # noqa: S608
            "trim(body, char(32, 9, 10, 13)) = '' "
            "AND trim(coalesce(rendered, ''), char(32, 9, 10, 13)) = '', line, label "
            f"FROM comments WHERE source_thread IN ({marks}) ORDER BY seq"
        )
        out = []
        for r in self.conn.execute(query, tuple(source_keys)):
            status, kind, created = CommentStatus(r[4]), CommentKind(r[5]), _parse(r[6])
            thread = sys.intern(r[1])  # one string per thread, not per comment
            assert created is not None
            out.append(
                Skeleton(r[0], thread, r[2], r[3], status, kind, created, bool(r[7]), r[8], r[9])
            )
        return out

    def comments_by_seq(self, seqs: list[int]) -> dict[int, StagedComment]:
        marks = ", ".join("?" * len(seqs))
        return {c.seq: c for c in self._comments_where(f"c.seq IN ({marks})", tuple(seqs))}

    def orphans(self) -> Iterator[StagedComment]:
        """Comments whose thread is not in the file."""
        return self._comments_where("c.source_thread NOT IN (SELECT source_key FROM threads)", ())

    def keyless(self) -> Iterator[tuple[StagedComment, StagedThread]]:
        """Comments of threads that have neither a URL nor an identifier to key them by."""
        threads = {t.source_key: t for t in self._keyless_threads()}
        for key in threads:
            for comment in self._comments_where("c.source_thread = ?", (key,)):
                yield comment, threads[key]

    def _keyless_threads(self) -> Iterator[StagedThread]:
        for r in self.conn.execute(
            "SELECT source_key, url, identifier, title, closed, deleted, created_at, line "
            "FROM threads WHERE key = '' ORDER BY seq"
        ):
            yield StagedThread(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5]), _parse(r[6]), r[7])
