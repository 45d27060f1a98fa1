"""Turning outbox messages into mail and handing them to the SMTP server."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from townhall.notify.replies import unsubscribe_token
from townhall.settings import Settings

SMTP_TIMEOUT = 15  # seconds, for each step of an SMTP exchange


def reply_message(settings: Settings, payload: dict[str, Any], base_url: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr(("townhall", settings.mail_from))
    msg["To"] = formataddr((payload.get("to_name") or "", payload["to"]))
    title = payload.get("thread_title") or "your comment"
    msg["Subject"] = f"New reply to your comment on {title}"[:200]
    msg["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or "localhost")
    token = unsubscribe_token(settings.secret_bytes(), int(payload["parent_id"]))
    unsubscribe = f"{base_url}/api/v1/unsubscribe?token={token}"
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    link = payload.get("thread_url") or base_url
    if link and "#" not in link:
        link += f"#townhall-comment-{payload['reply_id']}"
    msg.set_content(
        f"{payload['reply_author']} replied to your comment on {title}:\n\n"
        f"{payload['snippet']}\n\n"
        f"Read and answer: {link}\n\n"
        f"You get this because you asked to hear about replies. Stop these emails: "
        f"{unsubscribe}\n"
    )
    return msg


def send(settings: Settings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
        smtp.send_message(message)
