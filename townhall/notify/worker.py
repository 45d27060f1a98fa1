"""The outbox worker: delivers due messages, retries failures with exponential backoff, and
gives up after a day of trying (the row stays with its last error for the operator)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading

from townhall.domain.services import Services
from townhall.notify import mail
from townhall.notify.replies import KIND as REPLY
from townhall.store import outbox as outbox_store

log = logging.getLogger(__name__)

BATCH = 20
LEASE = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 12  # 30 s doubling: the last try is about a day after the first


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=30 * 2 ** min(attempts, 11))


def describe(exc: BaseException) -> str:
    """What to log about a failed delivery: the error's kind and the SMTP server's codes, never
    its message, which names addresses (smtplib's refusals carry the recipient's; a server's
    own text may quote it too)."""
    kind = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"{kind} (SMTP {', '.join(map(str, codes))})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{kind} (SMTP {exc.smtp_code})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{kind} ({exc.strerror})"
    return kind


def deliver_due(
    services: Services,
    base_url: str,
    now: dt.datetime | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Deliver what is due; returns how many messages were delivered. When ``stop`` is set (the
    app shutting down) the message in hand is finished and the rest of the batch given back."""
    settings = services.settings
    if not settings.smtp_host:
        return 0
    now = now or dt.datetime.now(dt.UTC)
    with services.db.write() as conn:
        due = outbox_store.claim_due(conn, now, BATCH, LEASE)
    delivered = 0
    for index, row in enumerate(due):
        if stop is not None and stop.is_set():
            with services.db.write() as conn:
                outbox_store.release(conn, [r["id"] for r in due[index:]], now)
            break
        try:
            if row["kind"] != REPLY:
                raise ValueError(f"unknown message kind {row['kind']!r}")
            mail.send(settings, mail.reply_message(settings, row["payload"], base_url))
        except Exception as exc:
            attempts = row["attempts"] + 1
            retry = None if attempts >= MAX_ATTEMPTS else now + backoff(attempts)
            # The log gets no addresses; the row (which holds the address anyway) keeps the
            # whole error for the operator.
            log.warning("mail %s failed (attempt %d): %s", row["id"], attempts, describe(exc))
            with services.db.write() as conn:
                outbox_store.mark_failed(conn, row["id"], str(exc), retry, now)
            continue
        with services.db.write() as conn:
            outbox_store.mark_done(conn, row["id"], dt.datetime.now(dt.UTC))
        delivered += 1
    return delivered
