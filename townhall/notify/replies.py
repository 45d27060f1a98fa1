"""Mail to an author when someone replies to their comment (if they asked for it).

The notice is queued in the transaction that publishes the reply (or approves it), so a reply
is never announced unless it is really there, and a crash loses no notice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from townhall.domain.rendering import plain_text
from townhall.store import outbox as outbox_store

KIND = "reply"
SNIPPET_CHARS = 500


def _signer(secret: bytes) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="townhall-unsubscribe")


def unsubscribe_token(secret: bytes, comment_id: int) -> str:
    return _signer(secret).dumps({"c": comment_id})


def comment_from_token(secret: bytes, token: str) -> int | None:
    try:
        data = _signer(secret).loads(token)
    except BadSignature:
        return None
    value = data.get("c") if isinstance(data, dict) else None
    return value if isinstance(value, int) else None


def queue_reply_notice(
    conn: Any,
    *,
    parent: Any,
    reply_id: int,
    reply_author: str,
    reply_html: str,
    reply_email_hash: str | None,
    reply_reader_id: str | None,
    thread_title: str,
    thread_url: str,
    now: dt.datetime,
) -> bool:
    """Queue mail to the parent's author; returns whether anything was queued."""
    if not parent["notify_replies"] or not parent["author_email"]:
        return False
    if parent["status"] != "published":
        return False
    own = (reply_email_hash and reply_email_hash == parent["email_hash"]) or (
        reply_reader_id and reply_reader_id == parent["reader_id"]
    )
    if own:
        return False
    outbox_store.enqueue(
        conn,
        KIND,
        {
            "to": parent["author_email"],
            "to_name": parent["author_name"],
            "parent_id": parent["id"],
            "reply_id": reply_id,
            "reply_author": reply_author,
            "snippet": plain_text(reply_html)[:SNIPPET_CHARS],
            "thread_title": thread_title,
            "thread_url": thread_url,
        },
        now,
    )
    return True


def unsubscribe(db: Any, secret: bytes, token: str) -> bool:
    """Stop reply mail for the address behind an unsubscribe link; False if the link is bad."""
    from townhall.store import comments as comment_store

    comment_id = comment_from_token(secret, token)
    if comment_id is None:
        return False
    with db.write() as conn:
        comment_store.stop_reply_mail(conn, comment_id)
    return True
