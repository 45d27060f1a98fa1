"""The outbox: messages written in the same transaction as the change they announce, and
delivered afterwards by a worker, retried with backoff until done."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from townhall.store.schema import outbox

_ENQUEUE = insert(outbox)  # built once (a reply notice is queued inside the posting write)


def enqueue(conn: Connection, kind: str, payload: dict[str, Any], now: dt.datetime) -> None:
    params = {
        "kind": kind,
        "payload": payload,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    conn.execute(_ENQUEUE, params)


def claim_due(
    conn: Connection, now: dt.datetime, limit: int, lease: dt.timedelta
) -> list[RowMapping]:
    """Due messages, each leased to this worker for ``lease`` (other nodes skip them)."""
    query = (
        select(outbox)
        .where(outbox.c.done_at.is_(None), outbox.c.next_attempt_at <= now)
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(conn.execute(query).mappings())
    if rows:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_([r["id"] for r in rows]))
            .values(next_attempt_at=now + lease)
        )
    return rows


def mark_done(conn: Connection, message_id: int, now: dt.datetime) -> None:
    conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id)
        .values(done_at=now, attempts=outbox.c.attempts + 1, last_error=None)
    )


def mark_failed(
    conn: Connection, message_id: int, error: str, retry_at: dt.datetime | None, now: dt.datetime
) -> None:
    """Record a failed attempt; ``retry_at`` None gives up (the row stays, marked done)."""
    values: dict[str, Any] = {"attempts": outbox.c.attempts + 1, "last_error": error[:1000]}
    if retry_at is None:
        values["done_at"] = now
    else:
        values["next_attempt_at"] = retry_at
    conn.execute(update(outbox).where(outbox.c.id == message_id).values(**values))


def release(conn: Connection, message_ids: list[int], now: dt.datetime) -> None:
    """Give back claimed messages not tried (a worker stopping): due again at once."""
    if message_ids:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(message_ids), outbox.c.done_at.is_(None))
            .values(next_attempt_at=now)
        )
