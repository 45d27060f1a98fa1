"""Privacy: no reader-facing response, page, feed, live event or mail, and no log line, holds
an email address or a raw IP. A real `townhall serve` (demo on, log level info, reply mail to a
real SMTP server) gets comments with emails from a distinctive loopback address (127.0.0.5)
and, behind a trusted proxy, from a forwarded one; then everything a reader can get and
everything the server wrote to its log is searched for both."""

from __future__ import annotations

import email
import re
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

from security.servers import ORIGIN, Server, database, free_port, prepare

pytestmark = pytest.mark.slow

CLIENT_IP = "127.0.0.5"  # the readers' own address: never to be seen again
FORWARDED_IP = "203.0.113.77"
MARK = "privacy-test.example"  # every reader email is at this domain
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Not readers' addresses: the example in an error message, the demo newspaper's letters desk.
PLACEHOLDERS = {"name@example.org", "letters@hollingford-courier.example"}


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[int, Inbox]]:
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, box
    controller.stop()


def leaks(text: str, ips: tuple[str, ...]) -> list[str]:
    found = [f"raw IP {ip}" for ip in ips if ip in text]
    found += [f"email {m.group(0)}" for m in EMAIL.finditer(text) if m.group(0) not in PLACEHOLDERS]
    if MARK in text:
        found.append(f"the reader email domain {MARK}")
    return found


class Collector:
    """Everything readers got back: status line, headers and body of every response."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def add(self, what: str, r: httpx.Response) -> httpx.Response:
        headers = "\n".join(f"{k}: {v}" for k, v in r.headers.items())
        self.seen.append((what, f"{r.status_code}\n{headers}\n{r.text}"))
        return r

    def problems(self, ips: tuple[str, ...]) -> list[str]:
        return [f"{what}: {p}" for what, text in self.seen for p in leaks(text, ips)]


def exercise(url: str, site: str, got: Collector, headers: dict[str, str], n: str) -> None:
    """What a reader can do, with emails in every post."""
    transport = httpx.HTTPTransport(local_address=CLIENT_IP)
    thread = f"/privacy/{n}"
    with httpx.Client(base_url=url, transport=transport, headers=headers, timeout=30) as c:
        events: list[str] = []

        def listen() -> None:
            params = {"site": site, "thread": thread}
            with c.stream("GET", "/api/v1/events", params=params, timeout=20) as stream:
                start = time.monotonic()
                for line in stream.iter_lines():
                    events.append(line)
                    if time.monotonic() - start > 6:
                        break

        listener = threading.Thread(target=listen)
        listener.start()
        time.sleep(0.5)

        def post(text: str, who: str, **more: Any) -> httpx.Response:
            body = {
                "site": site,
                "thread": thread,
                "text": text,
                "author": {"name": who, "email": f"{who.lower()}@{MARK}"},
                "thread_title": "Privacy",
                "thread_url": ORIGIN + thread,
                **more,
            }
            return got.add(f"POST comment ({who})", c.post("/api/v1/comments", json=body))

        first = post("The first comment.", "Alice", notify_replies=True).json()
        reader = {"X-Townhall-Reader": first["reader_token"]}
        reply = post("A reply to Alice.", "Bob", parent_id=first["comment"]["id"]).json()
        post("Held for review: holdme", "Carol")
        got.add("GET list", c.get("/api/v1/comments", params={"site": site, "thread": thread}))
        got.add(
            "GET list as Carol",
            c.get("/api/v1/comments", params={"site": site, "thread": thread}, headers=reader),
        )
        cid = reply["comment"]["id"]
        token = {"X-Townhall-Edit-Token": reply["edit_token"]}
        got.add(
            "PATCH", c.patch(f"/api/v1/comments/{cid}", json={"text": "Edited."}, headers=token)
        )
        got.add("vote", c.post(f"/api/v1/comments/{cid}/vote", json={"value": 1}))
        got.add("flag", c.post(f"/api/v1/comments/{cid}/flag", json={"reason": "spam"}))
        got.add("counts", c.get("/api/v1/counts", params={"site": site, "thread": thread}))
        got.add("counts POST", c.post("/api/v1/counts", json={"site": site, "threads": [thread]}))
        got.add("preview", c.post("/api/v1/preview", json={"text": "Hello *there*"}))
        bad = {"site": site, "thread": thread, "text": "x", "author": {"email": f"bad@@{MARK}"}}
        got.add("422 bad email", c.post("/api/v1/comments", json=bad))
        got.add("404 site", c.get("/api/v1/comments", params={"site": "nope", "thread": thread}))
        got.add(
            "403 origin",
            c.post("/api/v1/comments", json=bad, headers={"Origin": "https://evil.example"}),
        )
        got.add("DELETE", c.delete(f"/api/v1/comments/{cid}", headers=token))
        # Isso-compatible API and its Atom feed
        got.add("isso fetch", c.get(f"/isso/{site}/", params={"uri": thread}))
        got.add("isso feed", c.get(f"/isso/{site}/feed", params={"uri": thread}))
        got.add("isso view", c.get(f"/isso/{site}/id/{first['comment']['id']}"))
        got.add("isso count", c.post(f"/isso/{site}/count", json=[thread]))
        got.add("isso config", c.get(f"/isso/{site}/config"))
        # pages and documents
        for path in (
            "/",
            "/listing",
            "/embed.js",
            "/count.js",
            "/api/docs",
            "/api/openapi.json",
            "/healthz",
            "/metrics",
            "/static/embed.js",
        ):
            got.add(f"GET {path}", c.get(path))
        # the write limit (120/min: 20 per 10 s) and its message; on a loaded machine posts
        # can be slow enough for the bucket to refill for a while, so keep going until it says so
        for i in range(200):
            r = post(f"Quick post {i}", "Dave")
            if r.status_code == 429:
                break
        listener.join(timeout=30)
        got.seen.append(("live events", "\n".join(events)))


@pytest.mark.parametrize("proxied", [False, True], ids=["direct", "behind-proxy"])
def test_no_email_or_ip_reaches_readers_or_logs(
    proxied: bool, tmp_path: Path, inbox: tuple[int, Inbox]
) -> None:
    port, box = inbox
    box.messages.clear()
    ips = (CLIENT_IP, FORWARDED_IP)
    headers = {"X-Forwarded-For": FORWARDED_IP} if proxied else {}
    with database("sqlite", tmp_path) as target:
        policy = {"suspect_words": ["holdme"], "rate_burst": 1000, "rate_sustained": 1000}
        prepare(target, {"news": policy})
        settings = {
            "log_level": "info",
            "smtp_host": "127.0.0.1",
            "smtp_port": str(port),
            "trust_forwarded_for": "true" if proxied else "false",
        }
        got = Collector()
        with Server(target, settings=settings, args=("--demo",)) as server:
            exercise(server.url, "news", got, headers, "proxied" if proxied else "direct")
            deadline = time.monotonic() + 20
            while not box.messages and time.monotonic() < deadline:
                time.sleep(0.2)
        log = server.log_text()
    assert got.problems(ips) == []
    statuses = {what: text.split("\n", 1)[0] for what, text in got.seen}
    assert statuses["POST comment (Alice)"] == "201" and statuses["isso fetch"] == "200", statuses
    assert any(text.startswith("429") for _, text in got.seen), "the write limit never answered"
    # the reply notice went to Alice, and names nobody else's address
    assert len(box.messages) == 1, [m["To"] for m in box.messages]
    mail = box.messages[0]
    assert mail["To"].addresses[0].addr_spec == f"alice@{MARK}"
    mail_text = mail.as_string().replace(f"alice@{MARK}", "")
    assert leaks(mail_text, ips) == [], mail_text
    # and the server's own log: access lines, warnings, everything
    assert " 200" in log or "200 OK" in log, log[-2000:]  # the access log was on
    assert leaks(log, ips) == [], [line for line in log.splitlines() if leaks(line, ips)][:10]
    print(
        f"\nprivacy ({'behind a proxy' if proxied else 'direct'}): {len(got.seen)} responses, "
        f"{len(log.splitlines())} log lines, {len(box.messages)} mail: no email, no raw IP"
    )


class RefusingInbox:
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "550 5.1.1 no such mailbox here"


def failing_run(tmp_path: Path, smtp_port: int | None) -> str:
    """A server whose database fails in the middle of an insert (a trigger stands in for a
    full disk or a broken constraint) and, with ``smtp_port``, whose mail server refuses the
    recipient; returns its log."""
    from sqlalchemy import create_engine, text

    with database("sqlite", tmp_path) as target:
        prepare(target, {"news": {"rate_burst": 1000, "rate_sustained": 1000}})
        engine = create_engine(target.url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TRIGGER explode BEFORE INSERT ON comments WHEN NEW.text LIKE "
                    "'%explode%' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
                )
            )
        engine.dispose()
        settings = {"log_level": "info"}
        if smtp_port:
            settings.update(smtp_host="127.0.0.1", smtp_port=str(smtp_port))
        transport = httpx.HTTPTransport(local_address=CLIENT_IP)
        with (
            Server(target, settings=settings) as server,
            httpx.Client(base_url=server.url, transport=transport, timeout=30) as c,
        ):

            def post(text_: str, who: str, **more: Any) -> httpx.Response:
                author = {"name": who, "email": f"{who.lower()}@{MARK}"}
                body = {"site": "news", "thread": "/fail", "text": text_, "author": author}
                return c.post("/api/v1/comments", json={**body, **more})

            first = post("Tell me about replies.", "Erin", notify_replies=True).json()
            assert post("A reply.", "Frank", parent_id=first["comment"]["id"]).status_code == 201
            broken = post("This one will explode in the database.", "Grace")
            assert broken.status_code == 500, broken.text
            assert leaks(broken.text, (CLIENT_IP,)) == []
            deadline = time.monotonic() + 20
            while smtp_port and "failed (attempt" not in server.log_text():
                assert time.monotonic() < deadline, server.log_text()[-3000:]
                time.sleep(0.2)
        log = server.log_text()
    assert "disk on fire" in log, log[-3000:]  # the failure was logged, with its cause
    return log


def log_leaks(log: str) -> list[str]:
    return [line for line in log.splitlines() if leaks(line, (CLIENT_IP,))]


def test_a_database_failure_logs_no_addresses(tmp_path: Path) -> None:
    """SQLAlchemy puts the statement's parameters (emails, text) into its error messages,
    which the 500 handler logs; store/database.py turns that off (hide_parameters)."""
    assert log_leaks(failing_run(tmp_path, None)) == []


def test_a_mail_failure_logs_no_addresses(tmp_path: Path) -> None:
    """smtplib's refusal names the recipient; notify/worker.py logs its SMTP code only."""
    controller = Controller(RefusingInbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        log = failing_run(tmp_path, controller.port)
    finally:
        controller.stop()
    assert "failed (attempt 1)" in log
    assert log_leaks(log) == []
