"""The moderation queue: filters, keyset pages, and each item with its reasons and scores."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from townhall.domain.errors import InvalidInput, NotFound
from townhall.domain.moderation.common import (
    MAX_PAGE,
    author_info,
    int_id,
    site_id_of,
    status_counts_view,
    thread_ref,
)
from townhall.domain.moderation.views import FlagView, QueueItem, QueuePage
from townhall.domain.services import Services
from townhall.moderation.checks.toxicity import explanation, load_model
from townhall.store import moderation as store
from townhall.types import CommentStatus, Verdict


class QueueStatus(enum.StrEnum):
    PENDING = "pending"  # held for review
    FLAGGED = "flagged"  # flagged by readers, published or held
    RECENT = "recent"  # everything but author deletions: post-moderation
    REJECTED = "rejected"
    SPAM = "spam"


_QUEUE_STATUSES: dict[QueueStatus, tuple[CommentStatus, ...]] = {
    QueueStatus.PENDING: (CommentStatus.PENDING,),
    QueueStatus.FLAGGED: (CommentStatus.PUBLISHED, CommentStatus.PENDING),
    QueueStatus.RECENT: (
        CommentStatus.PUBLISHED,
        CommentStatus.PENDING,
        CommentStatus.REJECTED,
        CommentStatus.SPAM,
        CommentStatus.REMOVED,
    ),
    QueueStatus.REJECTED: (CommentStatus.REJECTED,),
    QueueStatus.SPAM: (CommentStatus.SPAM,),
}


@dataclass(frozen=True)
class QueueFilter:
    status: QueueStatus | str = QueueStatus.PENDING
    sites: Sequence[str] | None = None  # site keys; None: every site (admins)
    thread_id: int | None = None
    min_score: float | None = None  # toxicity
    max_score: float | None = None
    check: str | None = None  # only comments on which this check acted
    reason: str | None = None  # only comments with a check reason containing this text
    flagged_only: bool = False
    search: str | None = None  # in the text, the author's name or email
    cursor: str | None = None
    limit: int = 50


def _encode_cursor(created: dt.datetime, cid: int) -> str:
    raw = f"{created.astimezone(dt.UTC).isoformat()}|{cid}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, cid = raw.split("|")
        created = dt.datetime.fromisoformat(when)
        if created.tzinfo is None:
            raise ValueError
        return created, int(cid)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this server gave out", field="cursor") from None


def _score(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInput(f"{field} must be a number between 0 and 1", field=field)
    return float(value)


def check_acted(result: dict[str, Any]) -> bool:
    return result.get("verdict") != Verdict.PASS or bool(result.get("shadow"))


def _wanted(row: Any, check: str | None, reason: str | None) -> bool:
    results = (row["moderation"] or {}).get("results", [])
    acted = [r for r in results if check_acted(r)]
    if check is not None and not any(r.get("check") == check for r in acted):
        return False
    return reason is None or any(reason in str(r.get("reason", "")).lower() for r in acted)


def queue(services: Services, filters: QueueFilter) -> QueuePage:
    """One page of the moderation queue, newest first, with everything a decision needs."""
    try:
        status = QueueStatus(filters.status)
    except ValueError:
        choices = ", ".join(s.value for s in QueueStatus)
        raise InvalidInput(f"status must be one of: {choices}", field="status") from None
    if not isinstance(filters.limit, int) or not 1 <= filters.limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    site_ids = (
        [site_id_of(services, s) for s in filters.sites] if filters.sites is not None else None
    )
    check = filters.check.strip() if filters.check else None
    reason = filters.reason.strip().lower() if filters.reason else None
    # The database narrows by the JSON text; the exact test (did the check act?) runs here.
    mentions = f'"check": "{check}"' if check else None
    if mentions is None and reason and reason.isascii():
        mentions = reason
    before = _decode_cursor(filters.cursor) if filters.cursor else None
    rows: list[Any] = []
    exhausted = False
    with services.db.read() as conn:
        for _ in range(20):  # bounded: a rare check name must not scan the whole table
            batch = store.queue_page(
                conn,
                store.QueueQuery(
                    statuses=_QUEUE_STATUSES[status],
                    site_ids=site_ids,
                    thread_id=filters.thread_id,
                    flagged_only=filters.flagged_only or status is QueueStatus.FLAGGED,
                    min_score=_score(filters.min_score, "min_score"),
                    max_score=_score(filters.max_score, "max_score"),
                    mentions=mentions,
                    search=(filters.search or "").strip() or None,
                    before=before,
                    limit=filters.limit + 1,
                ),
            )
            if not batch:
                exhausted = True
                break
            for row in batch:
                if len(rows) > filters.limit:
                    break
                before = (row["created_at"], row["id"])
                if (check is None and reason is None) or _wanted(row, check, reason):
                    rows.append(row)
            if len(rows) > filters.limit:
                break
            if len(batch) <= filters.limit:
                exhausted = True
                break
        more = len(rows) > filters.limit
        rows = rows[: filters.limit]
        items = queue_items(services, conn, rows)
    next_cursor = None
    if more:
        next_cursor = _encode_cursor(rows[-1]["created_at"], rows[-1]["id"])
    elif not exhausted and before is not None:
        next_cursor = _encode_cursor(*before)  # scanned this far without filling the page
    return QueuePage(items=items, next_cursor=next_cursor)


def comment_item(services: Services, comment_id: Any) -> QueueItem:
    """One comment with everything the queue shows about it (a link to a single comment)."""
    cid = int_id(comment_id)
    with services.db.read() as conn:
        row = store.comment_in_context(conn, cid)
        if row is None:
            raise NotFound(f"comment {cid} does not exist", field="id")
        return queue_items(services, conn, [row])[0]


def queue_items(services: Services, conn: Any, rows: Sequence[Any]) -> list[QueueItem]:
    flags = store.flags_of(conn, [r["id"] for r in rows])
    counts: dict[tuple[int, tuple[str, str]], dict[str, int]] = {}
    by_site: dict[int, set[tuple[str, str]]] = {}
    for r in rows:
        key = store.author_key(r)
        if key is not None:
            by_site.setdefault(r["site_id"], set()).add(key)
    for site_id, keys in by_site.items():
        for key, found in store.status_counts(conn, site_id, sorted(keys)).items():
            counts[(site_id, key)] = found
    items = []
    for r in rows:
        moderation = r["moderation"] or {}
        results = list(moderation.get("results", []))
        key = store.author_key(r)
        items.append(
            QueueItem(
                id=str(r["id"]),
                site=r["site_key"],
                thread=thread_ref(r),
                parent_id=None if r["parent_id"] is None else str(r["parent_id"]),
                status=str(r["status"]),
                shadow=bool(r["shadow"]),
                text=r["text"],
                html=r["html"],
                created_at=r["created_at"],
                edited_at=r["edited_at"],
                author=author_info(r),
                history=status_counts_view(counts.get((r["site_id"], key), {}) if key else {}),
                verdict=moderation.get("verdict"),
                checks=results,
                toxicity=r["toxicity"],
                toxicity_explanation=_explanation(r, results),
                flag_count=r["flag_count"],
                flags=[
                    FlagView(reason=str(f["reason"]), note=f["note"], created_at=f["created_at"])
                    for f in flags.get(r["id"], [])
                ],
                likes=r["likes"],
                dislikes=r["dislikes"],
            )
        )
    return items


def _explanation(row: Any, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The words behind the toxicity score: stored when the check acted, else computed now
    (a comment readers flagged was published, so nothing was stored)."""
    for r in results:
        if r.get("check") == "toxicity" and (r.get("details") or {}).get("explanation"):
            return list(r["details"]["explanation"])
    if row["toxicity"] is None:
        return []
    model = load_model()
    return explanation(model, row["text"]) if model is not None else []
