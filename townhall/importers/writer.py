"""Writing planned threads into the database, a few hundred comments per transaction.

Idempotent: a comment whose ``source_id`` (``disqus:12345``) is already in its thread is not
written again, so importing a file twice adds nothing; a reply in a later export finds its
parent from the earlier one. Each transaction also recounts the published comments of the
threads it touched and bumps their version, so readers' caches see the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from townhall.importers.planner import PlannedComment, PlannedThread
from townhall.importers.records import Problem, SkipReason
from townhall.importers.report import ImportReport
from townhall.store import threads as thread_store
from townhall.store.database import Database
from townhall.store.schema import comments, threads, votes
from townhall.types import CommentStatus


@dataclass
class _ThreadState:
    """A thread being written: its id and where its comments went (source id -> id, root,
    depth), including those imported before."""

    plan: PlannedThread
    thread_id: int
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
        self._pending: list[tuple[PlannedThread, list[PlannedComment]]] = []
        self._pending_count = 0
        self._state: _ThreadState | None = None
        self._fake_id = 0
        self.transactions = 0

    def add(self, plan: PlannedThread) -> None:
        start = 0
        while start < len(plan.comments):
            room = self.batch_size - self._pending_count
            part = plan.comments[start : start + room]
            self._pending.append((plan, part))
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

    def flush(self) -> None:
        if not self._pending:
            return
        touched: dict[int, None] = {}
        with self._connection() as conn:
            for plan, part in self._pending:
                state = self._thread(conn, plan)
                if self._insert(conn, state, part):
                    touched[state.thread_id] = None
            if not self.dry_run:
                for thread_id in touched:
                    _recount(conn, thread_id)
        self.transactions += 1
        self._pending.clear()
        self._pending_count = 0

    def _thread(self, conn: Connection, plan: PlannedThread) -> _ThreadState:
        if self._state is not None and self._state.plan is plan:
            return self._state
        row = thread_store.thread_by_key(conn, self.site_id, plan.key)
        if row is None:
            self.report.threads_created += 1
            if self.dry_run:
                self._fake_id -= 1
                state = _ThreadState(plan, self._fake_id)
            else:
                created = thread_store.get_or_create_thread(
                    conn,
                    site_id=self.site_id,
                    key=plan.key,
                    title=plan.title,
                    url=plan.url,
                    now=plan.created_at,
                )
                if plan.closed:
                    thread_store.update_thread(conn, created["id"], closed=True)
                state = _ThreadState(plan, created["id"])
        else:
            self.report.threads_updated += 1
            state = _ThreadState(plan, row["id"])
            query = select(
                comments.c.source_id, comments.c.id, comments.c.root_id, comments.c.depth
            ).where(comments.c.thread_id == row["id"], comments.c.source_id.is_not(None))
            for sid, cid, root, depth in conn.execute(query):
                state.placed[sid] = (cid, root, depth)
        self._state = state
        return state

    def _insert(self, conn: Connection, state: _ThreadState, part: list[PlannedComment]) -> int:
        """Write one slice of a thread (parents first), one statement per depth level."""
        written = 0
        level: list[tuple[PlannedComment, dict[str, Any]]] = []
        level_parents: set[str] = set()
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
            # A comment whose parent is in the level being gathered must wait for its insert.
            if comment.parent_source in level_parents:
                written += self._write_level(conn, state, level)
                level, level_parents = [], set()
            level.append((comment, self._row(state, comment)))
            level_parents.add(comment.source_id)
        written += self._write_level(conn, state, level)
        return written

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

    def _write_level(
        self,
        conn: Connection,
        state: _ThreadState,
        level: list[tuple[PlannedComment, dict[str, Any]]],
    ) -> int:
        if not level:
            return 0
        rows = [row for _, row in level]
        if self.dry_run:
            ids = []
            for _ in rows:
                self._fake_id -= 1
                ids.append(self._fake_id)
        else:
            result = conn.execute(
                insert(comments).returning(comments.c.id, sort_by_parameter_order=True), rows
            )
            ids = [int(i) for i in result.scalars().all()]
        vote_rows: list[dict[str, Any]] = []
        for (comment, row), cid in zip(level, ids, strict=True):
            state.placed[comment.source_id] = (cid, row["root_id"], row["depth"])
            self.report.count_imported(CommentStatus(comment.status))
            vote_rows.extend(_votes(cid, comment))
        if vote_rows and not self.dry_run:
            conn.execute(insert(votes), vote_rows)
        return len(rows)


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


def _recount(conn: Connection, thread_id: int) -> None:
    published = (
        select(func.count())
        .where(comments.c.thread_id == thread_id, comments.c.status == CommentStatus.PUBLISHED)
        .scalar_subquery()
    )
    latest = (
        select(func.max(comments.c.created_at))
        .where(comments.c.thread_id == thread_id)
        .scalar_subquery()
    )
    conn.execute(
        update(threads)
        .where(threads.c.id == thread_id)
        .values(comment_count=published, last_comment_at=latest, version=threads.c.version + 1)
    )


def log_import(
    db: Database, site_id: int, report: ImportReport, now: dt.datetime | None = None
) -> None:
    """One line in the moderation log per import, so moderators can see where comments came
    from."""
    from townhall.store.comments import log_action

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
