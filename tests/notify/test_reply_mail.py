"""Reply notifications through a real SMTP server (aiosmtpd): queued with the reply, delivered
by the outbox worker, retried while the server is down, stopped by the unsubscribe link."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email
import re
import socket
import threading
import time
from collections.abc import Iterator
from email.message import Message
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.conftest import ORIGIN, RELAXED_LIMITS, LiveServer, app_client, comment_body
from townhall.app import OUTBOX_DRAIN_SECONDS, create_app
from townhall.domain.services import Services
from townhall.domain.sites import create_site
from townhall.notify.worker import deliver_due, describe
from townhall.settings import Settings
from townhall.store.schema import outbox


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    if controller._thread is not None:  # a test may have stopped it already
        controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp: tuple[Controller, Inbox]) -> Settings:
    return dataclasses.replace(
        settings, smtp_host="127.0.0.1", smtp_port=smtp[0].port, public_url="https://c.example"
    )


@pytest.fixture
def mail_services(mail_settings: Settings) -> Iterator[Services]:
    services = Services.from_settings(mail_settings)
    services.db.migrate()
    create_site(services.db, key="news", name="News", origins=[ORIGIN], policy=RELAXED_LIMITS)
    yield services
    services.db.dispose()


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def subscribe(client: httpx.AsyncClient, text: str = "ping") -> str:
    """Ann comments and asks for mail about replies; returns her comment's id."""
    response = await client.post(
        "/api/v1/comments",
        json=comment_body(
            text, notify_replies=True, author={"name": "Ann", "email": "ann@example.org"}
        ),
    )
    return str(response.json()["comment"]["id"])


async def reply(
    client: httpx.AsyncClient, parent_id: str, name: str = "Bob", text: str = "pong"
) -> httpx.Response:
    return await client.post(
        "/api/v1/comments", json=comment_body(text, parent_id=parent_id, author={"name": name})
    )


async def test_author_gets_mail_about_a_reply_and_can_stop_it(
    mail_settings: Settings, mail_services: Services, smtp: tuple[Controller, Inbox]
) -> None:
    _, inbox = smtp
    async with app_client(mail_settings, mail_services) as client:
        parent = await client.post(
            "/api/v1/comments",
            json=comment_body(
                "Tell me when you answer",
                notify_replies=True,
                author={"name": "Ann", "email": "ann@example.org"},
            ),
        )
        assert parent.status_code == 201
        pid = parent.json()["comment"]["id"]
        reply = await client.post(
            "/api/v1/comments",
            json=comment_body(
                "Here is **my** answer",
                parent_id=pid,
                author={"name": "Bob", "email": "bob@example.org"},
            ),
        )
        own = await client.post(
            "/api/v1/comments",
            json=comment_body(
                "Talking to myself",
                parent_id=pid,
                author={"name": "Ann", "email": "ann@example.org"},
            ),
        )
        assert reply.status_code == own.status_code == 201
        # The app's own outbox worker (every 2 s) may have sent it already: one message either way.
        sent = await asyncio.to_thread(deliver_due, mail_services, "https://c.example")
        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
        while not inbox.messages and dt.datetime.now(dt.UTC) < deadline:
            await asyncio.sleep(0.05)  # the worker's send, if it took the message, finishing
        assert sent in (0, 1)
        [message] = inbox.messages
        assert message["To"] == "Ann <ann@example.org>"
        assert "A story" in message["Subject"]
        text = body_of(message)
        assert "Bob replied" in text and "Here is my answer" in text
        assert f"{ORIGIN}/2026/11/story#townhall-comment-{reply.json()['comment']['id']}" in text
        assert "bob@example.org" not in message.as_string()
        link = re.search(r"https://c\.example(/api/v1/unsubscribe\?token=\S+)", text)
        assert link and message["List-Unsubscribe"].strip("<>").endswith(link.group(1))
        stop = await client.get(link.group(1))
        assert stop.status_code == 200 and "not get mail" in stop.text
        bad = await client.get("/api/v1/unsubscribe", params={"token": "forged"})
        assert bad.status_code == 400
        await client.post(
            "/api/v1/comments",
            json=comment_body("Another answer", parent_id=pid, author={"name": "Cy"}),
        )
        assert await asyncio.to_thread(deliver_due, mail_services, "https://c.example") == 0
        assert len(inbox.messages) == 1


async def test_asking_for_mail_needs_an_address(
    mail_settings: Settings, mail_services: Services
) -> None:
    async with app_client(mail_settings, mail_services) as client:
        r = await client.post(
            "/api/v1/comments",
            json=comment_body("x", notify_replies=True, author={"name": "Nobody"}),
        )
        assert r.status_code == 422 and r.json()["error"]["field"] == "author.email"


class SlowInbox(Inbox):
    """Accepts a message only after ``delay`` seconds; ``receiving`` is set when one arrives."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.receiving = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.receiving.set()
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


async def test_shutdown_lets_the_delivery_in_hand_finish(
    mail_settings: Settings, mail_services: Services, smtp: tuple[Controller, Inbox]
) -> None:
    """Stopping the app mid-delivery waits for it, so its outcome is recorded; cancelling the
    worker used to leave the message claimed and unmarked, sent again after the claim expired."""
    smtp[0].stop()  # a slow server takes its port
    inbox = SlowInbox(delay=1.5)
    controller = Controller(inbox, hostname="127.0.0.1", port=mail_settings.smtp_port)
    controller.start()
    try:
        async with app_client(mail_settings, mail_services) as client:
            await reply(client, await subscribe(client))
            # the app's worker (every 2 s) has the message and the server is taking its time
            assert await asyncio.to_thread(inbox.receiving.wait, 10)
            stopping = time.monotonic()
        assert time.monotonic() - stopping < OUTBOX_DRAIN_SECONDS  # drained, not timed out
        with mail_services.db.read() as conn:
            row = conn.execute(select(outbox)).mappings().one()
        assert row["done_at"] is not None and row["attempts"] == 1  # one try, recorded
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


async def test_a_stopping_worker_gives_back_the_rest_of_its_batch(
    mail_settings: Settings, mail_services: Services, smtp: tuple[Controller, Inbox]
) -> None:
    """deliver_due told to stop finishes the message in hand and releases the others it
    claimed: due again at once, untried, instead of leased for two minutes."""
    controller, _ = smtp
    controller.stop()  # queue two notices while the server is away
    async with app_client(mail_settings, mail_services) as client:
        parent_id = await subscribe(client)
        for name in ("Bob", "Cy"):
            await reply(client, parent_id, name, f"pong from {name}")
    with mail_services.db.read() as conn:
        before = {r["id"]: r["attempts"] for r in conn.execute(select(outbox)).mappings()}
    assert len(before) == 2
    inbox = SlowInbox(delay=1.0)
    slow = Controller(inbox, hostname="127.0.0.1", port=mail_settings.smtp_port)
    slow.start()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)  # both due, whatever was tried
    stop = threading.Event()
    try:
        delivering = asyncio.create_task(
            asyncio.to_thread(deliver_due, mail_services, "https://c.example", later, stop)
        )
        assert await asyncio.to_thread(inbox.receiving.wait, 10)
        stop.set()
        assert await delivering == 1
    finally:
        slow.stop()
    with mail_services.db.read() as conn:
        rows = list(conn.execute(select(outbox).order_by(outbox.c.id)).mappings())
    done = [r for r in rows if r["done_at"] is not None]
    released = [r for r in rows if r["done_at"] is None]
    assert len(done) == len(released) == 1 and len(inbox.messages) == 1
    [row] = released
    assert row["attempts"] == before[row["id"]]  # not tried
    assert row["next_attempt_at"] == later  # due again at once, not leased


async def test_mail_waits_in_the_outbox_while_the_server_is_down(
    mail_settings: Settings, mail_services: Services, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    async with app_client(mail_settings, mail_services) as client:
        parent_id = await subscribe(client, "ping me")
        # Down before the reply is written: the app's own outbox worker (every 2 s) and the
        # call below meet the same dead server, whichever tries first.
        controller.stop()
        await reply(client, parent_id)
    now = dt.datetime.now(dt.UTC)
    assert deliver_due(mail_services, "https://c.example", now=now) == 0
    with mail_services.db.read() as conn:
        row = conn.execute(select(outbox)).mappings().one()
    assert row["attempts"] == 1 and row["done_at"] is None and row["last_error"]
    assert row["next_attempt_at"] > now
    revived = Controller(inbox, hostname="127.0.0.1", port=controller.port)
    revived.start()
    try:
        assert deliver_due(mail_services, "https://c.example", now=now) == 0  # not due yet
        later = now + dt.timedelta(minutes=5)
        assert deliver_due(mail_services, "https://c.example", now=later) == 1
        assert len(inbox.messages) == 1
    finally:
        revived.stop()


def test_the_running_server_delivers_on_its_own(
    mail_settings: Settings,
    mail_services: Services,
    smtp: tuple[Controller, Inbox],
    tmp_path: Path,
) -> None:
    _, inbox = smtp
    with LiveServer(create_app(mail_settings, services=mail_services)) as server:
        parent = httpx.post(
            server.url + "/api/v1/comments",
            json=comment_body(
                "ping", notify_replies=True, author={"name": "Ann", "email": "ann@example.org"}
            ),
        )
        httpx.post(
            server.url + "/api/v1/comments",
            json=comment_body(
                "pong", parent_id=parent.json()["comment"]["id"], author={"name": "Bob"}
            ),
        )
        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=15)
        while not inbox.messages and dt.datetime.now(dt.UTC) < deadline:
            time.sleep(0.2)
    assert len(inbox.messages) == 1


async def test_a_held_reply_tells_the_author_when_a_moderator_approves_it(
    mail_settings: Settings, mail_services: Services, smtp: tuple[Controller, Inbox]
) -> None:
    from townhall.domain import moderation
    from townhall.domain.sites import update_site

    _, inbox = smtp
    async with app_client(mail_settings, mail_services) as client:
        parent_id = await subscribe(client)
        update_site(mail_services.db, "news", policy_changes={"premoderation": True})
        mail_services.sites.forget()
        held = await reply(client, parent_id, text="held pong")
        assert held.status_code == 202
    assert deliver_due(mail_services, "https://c.example") == 0
    moderation.approve(mail_services, "mod@example.org", held.json()["comment"]["id"])
    assert deliver_due(mail_services, "https://c.example") == 1
    assert "held pong" in body_of(inbox.messages[0])


def test_failures_are_described_without_addresses() -> None:
    """The worker logs failed deliveries; smtplib's messages name the addresses involved."""
    import smtplib

    refused = smtplib.SMTPRecipientsRefused({"erin@example.org": (550, b"<erin@example.org>?")})
    sender = smtplib.SMTPSenderRefused(553, b"no", "townhall@example.org")
    data = smtplib.SMTPDataError(554, b"rejected for erin@example.org")
    down = ConnectionRefusedError(111, "Connection refused")
    described = [describe(e) for e in (refused, sender, data, down, ValueError("x@y.z"))]
    assert described == [
        "SMTPRecipientsRefused (SMTP 550)",
        "SMTPSenderRefused (SMTP 553)",
        "SMTPDataError (SMTP 554)",
        "ConnectionRefusedError (Connection refused)",
        "ValueError",
    ]
    assert not any("@" in d for d in described)
