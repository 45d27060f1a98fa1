"""The audit log: every moderator and system action, filtered and paged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from townhall.domain.errors import InvalidInput
from townhall.domain.moderation.common import MAX_PAGE, int_id, site_id_of
from townhall.domain.moderation.views import AuditPage, LogEntry
from townhall.domain.services import Services
from townhall.store import moderation as store


@dataclass(frozen=True)
class AuditFilter:
    sites: Sequence[str] | None = None
    actor: str | None = None
    action: str | None = None
    comment_id: Any = None
    thread_id: Any = None
    cursor: str | None = None
    limit: int = 50


def audit_log(services: Services, filters: AuditFilter) -> AuditPage:
    """Every decision, newest first: the moderators' and the pipeline's ("system")."""
    if not isinstance(filters.limit, int) or not 1 <= filters.limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    site_ids = (
        [site_id_of(services, s) for s in filters.sites] if filters.sites is not None else None
    )
    before = None
    if filters.cursor:
        before = int_id(filters.cursor, "cursor")
    with services.db.read() as conn:
        rows = store.log_page(
            conn,
            site_ids=site_ids,
            actor=filters.actor or None,
            action=filters.action or None,
            comment_id=None
            if filters.comment_id is None
            else int_id(filters.comment_id, "comment_id"),
            thread_id=None if filters.thread_id is None else int_id(filters.thread_id, "thread_id"),
            before_id=before,
            limit=filters.limit + 1,
        )
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return AuditPage(
        entries=[
            LogEntry(
                id=r["id"],
                site_id=r["site_id"],
                thread_id=r["thread_id"],
                comment_id=None if r["comment_id"] is None else str(r["comment_id"]),
                actor=r["actor"],
                action=r["action"],
                reason=r["reason"],
                details=r["details"],
                created_at=r["created_at"],
            )
            for r in rows
        ],
        next_cursor=str(rows[-1]["id"]) if more and rows else None,
    )
