"""A reader as moderators see them: history on the site, bans, moderators' notes."""

from __future__ import annotations

from typing import Any

from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.domain.moderation.bans import ban_view
from townhall.domain.moderation.common import (
    MAX_NOTE,
    MAX_PAGE,
    actor_name,
    author_info,
    bounded_text,
    int_id,
    status_counts_view,
    thread_ref,
    utc_now,
)
from townhall.domain.moderation.queue import check_acted
from townhall.domain.moderation.views import HistoryEntry, NoteView, ReaderHistory
from townhall.domain.services import Services
from townhall.store import comments as comment_store
from townhall.store import moderation as store
from townhall.store import sites as site_store
from townhall.types import BanKind


def _comment_row(services: Services, comment_id: Any) -> Any:
    cid = int_id(comment_id, "comment_id")
    with services.db.read() as conn:
        row = store.comment_in_context(conn, cid)
    if row is None:
        raise NotFound(f"comment {cid} does not exist", field="comment_id")
    return row


def _reader_key(row: Any) -> tuple[str, str]:
    key = store.author_key(row)
    if key is None:
        raise Conflict(
            f"comment {row['id']} has nothing on record that identifies its author",
            field="comment_id",
        )
    return key


def reader_history(services: Services, comment_id: Any, *, limit: int = 50) -> ReaderHistory:
    """What a comment's author did on the comment's site: counts by status, their latest
    comments with the reasons they were held, bans that match them, moderators' notes."""
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    row = _comment_row(services, comment_id)
    key = _reader_key(row)
    site_id = int(row["site_id"])
    values = [
        (kind, row[column])
        for kind, column in (
            (BanKind.READER, "reader_id"),
            (BanKind.EMAIL, "email_hash"),
            (BanKind.IP, "ip_hash"),
        )
        if row[column]
    ]
    with services.db.read() as conn:
        counts = store.status_counts(conn, site_id, [key])[key]
        recent = store.author_comments(conn, site_id, key, limit)
        ban_rows = store.bans_matching(
            conn, site_ids=[site_id], now=utc_now(), active_only=False, values=values
        )
        notes = store.notes_of(conn, site_id, f"{key[0]}:{key[1]}")
        site_keys = {r["id"]: r["key"] for r in site_store.all_sites(conn)}
    return ReaderHistory(
        site=row["site_key"],
        author=author_info(row),
        counts=status_counts_view(counts),
        comments=[
            HistoryEntry(
                id=str(c["id"]),
                status=str(c["status"]),
                thread=thread_ref(c),
                text=c["text"],
                created_at=c["created_at"],
                reasons=[
                    str(r.get("reason", ""))
                    for r in (c["moderation"] or {}).get("results", [])
                    if check_acted(r)
                ],
            )
            for c in recent
        ],
        bans=[ban_view(b, site_keys.get(b["site_id"])) for b in ban_rows],
        notes=[
            NoteView(
                id=n["id"], note=n["note"], created_by=n["created_by"], created_at=n["created_at"]
            )
            for n in notes
        ],
    )


def add_reader_note(services: Services, actor: str, comment_id: Any, note: str) -> NoteView:
    """A moderator's note on a comment's author, shown with their history on this site."""
    who = actor_name(actor)
    text = bounded_text(note, "note", MAX_NOTE, required=True)
    row = _comment_row(services, comment_id)
    kind, value = _reader_key(row)
    now = utc_now()
    with services.db.write() as conn:
        note_id = store.insert_note(
            conn,
            site_id=row["site_id"],
            reader_key=f"{kind}:{value}",
            note=text,
            actor=who,
            now=now,
        )
        comment_store.log_action(
            conn,
            site_id=row["site_id"],
            thread_id=row["thread_id"],
            comment_id=row["id"],
            actor=who,
            action="reader_note",
            now=now,
            details={"note_id": note_id},
        )
    return NoteView(id=note_id, note=text, created_by=who, created_at=now)
