"""Closing, reopening and pre-moderating threads."""

from __future__ import annotations

from typing import Any

from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.domain.moderation.common import (
    MAX_REASON,
    actor_name,
    announce,
    bounded_text,
    int_id,
    utc_now,
)
from townhall.domain.moderation.views import ThreadResult
from townhall.domain.services import Services
from townhall.moderation.policy import PolicyError, merge_policy
from townhall.store import comments as comment_store
from townhall.store import moderation as store
from townhall.store import threads as thread_store


def _thread_result(row: Any, site_key: str) -> ThreadResult:
    override = (row["policy"] or {}).get("premoderation")
    return ThreadResult(
        thread_id=row["id"],
        site=site_key,
        key=row["key"],
        closed=bool(row["closed"]),
        premoderation=override,
        count=row["comment_count"],
        version=row["version"],
    )


def _change_thread(
    services: Services,
    actor: Any,
    thread_id: Any,
    reason: Any,
    action: str,
    change: Any,
) -> ThreadResult:
    who = actor_name(actor)
    why = bounded_text(reason, "reason", MAX_REASON)
    tid = int_id(thread_id, "thread_id")
    now = utc_now()
    with services.db.write() as conn:
        row = store.thread_for_update(conn, tid)
        if row is None:
            raise NotFound(f"thread {tid} does not exist", field="thread_id")
        values, details = change(row)
        thread_store.update_thread(conn, tid, **values)
        comment_store.log_action(
            conn,
            site_id=row["site_id"],
            thread_id=tid,
            actor=who,
            action=action,
            now=now,
            reason=why,
            details=details,
        )
        after = thread_store.thread_by_id(conn, tid)
    assert after is not None
    announce(services, row["site_key"], after, None)
    return _thread_result(after, row["site_key"])


def close_thread(services: Services, actor: str, thread_id: Any, reason: str = "") -> ThreadResult:
    """Stop new comments on a thread; what is there stays visible."""

    def change(row: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        if row["closed"]:
            raise Conflict(f"thread {row['id']} is closed already")
        return {"closed": True}, {}

    return _change_thread(services, actor, thread_id, reason, "close_thread", change)


def reopen_thread(services: Services, actor: str, thread_id: Any, reason: str = "") -> ThreadResult:
    def change(row: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        if not row["closed"]:
            raise Conflict(f"thread {row['id']} is open already")
        return {"closed": False}, {}

    return _change_thread(services, actor, thread_id, reason, "reopen_thread", change)


def set_thread_premoderation(
    services: Services, actor: str, thread_id: Any, enabled: bool | None, reason: str = ""
) -> ThreadResult:
    """Hold every new comment on one thread (True), never by this rule (False), or follow the
    site's policy again (None)."""
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidInput("enabled must be true, false or null", field="enabled")

    def change(row: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        overrides = dict(row["policy"] or {})
        before = overrides.get("premoderation")
        if enabled is None:
            overrides.pop("premoderation", None)
        else:
            overrides["premoderation"] = enabled
        try:
            merge_policy(row["site_policy"] or {}, overrides)
        except PolicyError as exc:  # an older override no longer valid: say so
            raise InvalidInput(f"thread policy: {exc}", field="policy") from None
        return {"policy": overrides or None}, {"from": before, "to": enabled}

    return _change_thread(services, actor, thread_id, reason, "thread_premoderation", change)
