"""Writing planned threads into the database, a few hundred comments per transaction.

Idempotent: a comment whose ``source_id`` (``disqus:12345``) is already in its thread is not
written again, so importing a file twice adds nothing; a reply in a later export finds its
parent from the earlier one. Each transaction also recounts the published comments of the
threads it touched and bumps their version, so readers' caches see the change.

Per transaction, whatever the number of threads in it: one query finds the threads, one
creates the missing ones, one loads what was imported before, one reserves ids, one inserts
the comments (parents first), one the votes, one recounts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, and_, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from townhall.importers.planner import PlannedComment, PlannedThread
from townhall.importers.records import Problem, SkipReason
from townhall.importers.report import ImportReport
from townhall.store import threads as thread_store
from townhall.store.comments import log_action, mark_replied
from townhall.store.database import Database
from townhall.store.schema import comments, threads, votes
from townhall.types import CommentStatus

_CHUNK = 500  # ids per IN (...) list


@dataclass(eq=False)  # identity: one per planned thread
class _ThreadState:
    """A thread being written: its id and where its comments went (source id -> id, root,
    depth), including those imported before."""

    plan: PlannedThread
    thread_id: int = 0
    placed: dict[str, tuple[int, int | None, int]] = field(default_factory=dict)


class Writer:
    def __init__(
        self,
        db: Database,
        site_id: int,
        report: ImportReport,
        *,
        batch_size: int = 500,
        dry_run: bool = False,
    ) -> None:
        self.db = db
        self.site_id = site_id
        self.report = report
        self.batch_size = max(1, batch_size)
        self.dry_run = dry_run
        self._pending: list[tuple[_ThreadState, list[PlannedComment]]] = []
        self._pending_count = 0
        self._state: _ThreadState | None = None  # the thread being added
        self._fake_id = 0
        self.transactions = 0

    def add(self, plan: PlannedThread, planned: list[PlannedComment]) -> None:
        """Queue some comments of a thread (a big thread comes in several calls, parents
        first); a transaction is written whenever a batch is full."""
        if self._state is None or self._state.plan is not plan:
            self._state = _ThreadState(plan)
        state = self._state
        start = 0
        while start < len(planned):
            room = self.batch_size - self._pending_count
            part = planned[start : start + room]
            self._pending.append((state, part))
            self._pending_count += len(part)
            start += len(part)
            if self._pending_count >= self.batch_size:
                self.flush()

    def close(self) -> None:
        self.flush()

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        if self.dry_run:
            with self.db.read() as conn:
                yield conn
        else:
            with self.db.write() as conn:
                yield conn

    def _next_fake_id(self) -> int:
        self._fake_id -= 1
        return self._fake_id

    def flush(self) -> None:
        if not self._pending:
            return
        with self._connection() as conn:
            fresh = [s for s, _ in self._pending if not s.thread_id]
            self._resolve_threads(conn, list(dict.fromkeys(fresh)))
            touched = self._insert(conn, self._placements(self._pending))
            if touched and not self.dry_run:
                _recount(conn, touched)
        self.transactions += 1
        self._pending.clear()
        self._pending_count = 0

    # Threads ------------------------------------------------------------------------------

    def _resolve_threads(self, conn: Connection, states: list[_ThreadState]) -> None:
        """Give each new state its thread id: existing threads (with what was imported into
        them before), or new ones created here."""
        if not states:
            return
        by_key = {s.plan.key: s for s in states}
        existing: dict[str, int] = {}
        keys = list(by_key)
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            query = select(threads.c.key, threads.c.id).where(
                threads.c.site_id == self.site_id, threads.c.key.in_(chunk)
            )
            existing.update({k: int(i) for k, i in conn.execute(query)})
        missing = [s for key, s in by_key.items() if key not in existing]
        self.report.threads_created += len(missing)
        self.report.threads_updated += len(existing)
        for key, thread_id in existing.items():
            by_key[key].thread_id = thread_id
        self._load_placed(conn, [by_key[k] for k in existing])
        if not missing:
            return
        if self.dry_run:
            for state in missing:
                state.thread_id = self._next_fake_id()
            return
        rows = [
            {
                "site_id": self.site_id,
                "key": s.plan.key,
                "title": s.plan.title,
                "url": s.plan.url,
                "closed": s.plan.closed,
                "comment_count": 0,
                "version": 1,
                "created_at": s.plan.created_at,
            }
            for s in missing
        ]
        for state, thread_id in zip(
            missing, _reserve_ids(conn, threads, len(missing)), strict=True
        ):
            state.thread_id = thread_id
        for row, state in zip(rows, missing, strict=True):
            row["id"] = state.thread_id
        try:
            with conn.begin_nested():
                conn.execute(insert(threads), rows)
        except IntegrityError:
            # Someone commented on one of these pages meanwhile: take the threads one by one.
            for state in missing:
                found = thread_store.get_or_create_thread(
                    conn,
                    site_id=self.site_id,
                    key=state.plan.key,
                    title=state.plan.title,
                    url=state.plan.url,
                    now=state.plan.created_at,
                )
                state.thread_id = int(found["id"])
                self._load_placed(conn, [state])

    def _load_placed(self, conn: Connection, states: list[_ThreadState]) -> None:
        by_id = {s.thread_id: s for s in states}
        ids = list(by_id)
        for start in range(0, len(ids), _CHUNK):
            query = select(
                comments.c.thread_id,
                comments.c.source_id,
                comments.c.id,
                comments.c.root_id,
                comments.c.depth,
            ).where(
                comments.c.thread_id.in_(ids[start : start + _CHUNK]),
                comments.c.source_id.is_not(None),
            )
            for thread_id, sid, cid, root, depth in conn.execute(query):
                by_id[thread_id].placed[sid] = (cid, root, depth)

    # Comments -----------------------------------------------------------------------------

    def _placements(
        self, pending: list[tuple[_ThreadState, list[PlannedComment]]]
    ) -> list[tuple[_ThreadState, PlannedComment]]:
        """The comments to write (parents before children, as planned), minus those imported
        before."""
        out: list[tuple[_ThreadState, PlannedComment]] = []
        for state, part in pending:
            for comment in part:
                if comment.source_id in state.placed:
                    self.report.skip(
                        Problem(
                            "imported before (same source id in this thread)",
                            comment.line,
                            comment.label,
                            SkipReason.DUPLICATE,
                        )
                    )
                    continue
                out.append((state, comment))
        return out

    def _row(self, state: _ThreadState, c: PlannedComment) -> dict[str, Any]:
        parent_id: int | None = None
        root_id: int | None = None
        depth = 0
        if c.parent_source is not None:
            parent = state.placed.get(c.parent_source)
            if parent is None:
                self.report.add(
                    Problem(
                        f"its parent {c.parent_source} is neither in the file nor imported "
                        "before: placed at the top level",
                        c.line,
                        c.label,
                    )
                )
            else:
                parent_id, parent_root, parent_depth = parent
                root_id = parent_root or parent_id
                depth = parent_depth + 1
        return {
            "thread_id": state.thread_id,
            "parent_id": parent_id,
            "root_id": root_id,
            "depth": depth,
            "status": c.status,
            "shadow": False,
            "author_name": c.author_name,
            "author_email": c.author_email,
            "email_hash": c.email_hash,
            "author_website": c.author_website,
            "ip_hash": c.ip_hash,
            "text": c.text,
            "html": c.html,
            "created_at": c.created_at,
            "edited_at": c.edited_at,
            "likes": c.likes,
            "dislikes": c.dislikes,
            "flag_count": 0,
            "source_id": c.source_id,
        }

    def _insert(
        self, conn: Connection, placements: list[tuple[_ThreadState, PlannedComment]]
    ) -> set[int]:
        """One insert for every comment of the transaction. Ids are taken up front, so a
        reply knows its parent's id before either is written."""
        if not placements:
            return set()
        if self.dry_run:
            ids = [self._next_fake_id() for _ in placements]
        else:
            ids = _reserve_ids(conn, comments, len(placements))
        touched: set[int] = set()
        rows: list[dict[str, Any]] = []
        vote_rows: list[dict[str, Any]] = []
        for (state, comment), cid in zip(placements, ids, strict=True):
            row = self._row(state, comment)
            row["id"] = cid
            rows.append(row)
            state.placed[comment.source_id] = (cid, row["root_id"], row["depth"])
            touched.add(state.thread_id)
            self.report.count_imported(CommentStatus(comment.status))
            vote_rows.extend(_votes(cid, comment))
        if not self.dry_run:
            conn.execute(insert(comments), rows)
            mark_replied(conn, [r["parent_id"] for r in rows if r["parent_id"] is not None])
            if vote_rows:
                conn.execute(insert(votes), vote_rows)
        return touched


def _reserve_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """``count`` fresh ids of ``table``. PostgreSQL hands them out from the table's sequence
    (safe beside other writers); SQLite has one writer, and this transaction holds the write
    lock, so the ids after the largest one are ours."""
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        query = text(
            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
        )
        return [int(i) for (i,) in conn.execute(query, {"table": table.name, "n": count})]
    largest = conn.execute(select(func.max(table.c.id))).scalar()
    start = int(largest or 0) + 1
    return list(range(start, start + count))


def _votes(comment_id: int, c: PlannedComment) -> list[dict[str, Any]]:
    """Vote rows behind the like/dislike counts: the reader's own recount (store.set_vote)
    counts rows, so counts without rows would be lost at the next vote. Formats that only
    give counts get anonymous rows ``import:+1``, ``import:-1``..."""
    if c.voters:
        seen: dict[str, int] = {}
        for voter, value in c.voters:
            seen[voter[:80]] = 1 if value > 0 else -1
        pairs = list(seen.items())
    else:
        pairs = [(f"import:+{n}", 1) for n in range(1, c.likes + 1)]
        pairs += [(f"import:-{n}", -1) for n in range(1, c.dislikes + 1)]
    return [
        {"comment_id": comment_id, "voter": voter, "value": value, "created_at": c.created_at}
        for voter, value in pairs
    ]


def _recount(conn: Connection, thread_ids: set[int]) -> None:
    """Published count, latest comment and a version bump for the touched threads, in one
    statement per few hundred threads."""
    published = (
        select(func.count())
        .where(
            and_(comments.c.thread_id == threads.c.id, comments.c.status == CommentStatus.PUBLISHED)
        )
        .scalar_subquery()
    )
    latest = (
        select(func.max(comments.c.created_at))
        .where(comments.c.thread_id == threads.c.id)
        .scalar_subquery()
    )
    ids = sorted(thread_ids)
    for start in range(0, len(ids), _CHUNK):
        conn.execute(
            update(threads)
            .where(threads.c.id.in_(ids[start : start + _CHUNK]))
            .values(comment_count=published, last_comment_at=latest, version=threads.c.version + 1)
        )


def log_import(
    db: Database, site_id: int, report: ImportReport, now: dt.datetime | None = None
) -> None:
    """One line in the moderation log per import, so moderators can see where comments came
    from."""
    with db.write() as conn:
        log_action(
            conn,
            site_id=site_id,
            actor="system",
            action="import",
            now=now or dt.datetime.now(dt.UTC),
            reason=f"{report.format} file {report.file}",
            details={
                "imported": dict(report.imported),
                "skipped": dict(report.skipped),
                "threads_created": report.threads_created,
            },
        )
