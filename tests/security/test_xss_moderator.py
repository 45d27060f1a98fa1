"""XSS in the moderator pages, in headless Chromium: every payload of payloads/xss.txt as the
comment text, author name, website and thread title of a comment waiting in the queue, and
samples as author emails, flag notes, moderators' notes and ban reasons; an admin signed in
opens the queues, the comment and author pages, the threads, bans, log and dashboard. The
canary (canary.py, with the moderator pages' audit) must stay silent, and the pages' own
Content-Security-Policy must never have had to block anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.admin.browser.conftest import sign_in
from tests.admin.conftest import PASSWORD
from tests.conftest import ORIGIN, LiveServer, make_test_settings
from tests.security.canary import ADMIN_AUDIT_SCRIPT, Canary
from tests.security.conftest import OPEN_POLICY
from tests.security.payloads import XSS_PAYLOADS, Payload
from townhall.domain import accounts
from townhall.domain.services import Services
from townhall.domain.sites import Site, create_site
from townhall.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HELD_POLICY = {**OPEN_POLICY, "checks": ["premoderation"], "premoderation": True}
EMAILS = [
    'x"onmouseover="alert({n})"@example.org',
    "'-alert({n})-'@example.org",
    "javascript:alert({n})@example.org",
    "x&quot;onfocus=alert({n})&quot;@example.org",
    "x`-alert({n})-`@example.org",
    "x;alert({n})//@example.org",
    "x'onerror='alert({n})'@example.org",
    "__xss.push({n})@example.org",
]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'townhall.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_test_settings(tmp_path, database_url, max_name_chars=5000)


@pytest.fixture
def site(services: Services) -> Site:
    create_site(services.db, key="pub", name="Pub", origins=[ORIGIN], policy=OPEN_POLICY)
    return create_site(services.db, key="news", name="News", origins=[ORIGIN], policy=HELD_POLICY)


@pytest.fixture
def admin_token(services: Services, site: Site) -> str:
    admin = accounts.create_user(
        services.db, email="admin@example.org", password=PASSWORD, role="admin"
    )
    return accounts.create_token(services.db, admin, admin.id, "xss seeding")[1]


def seed(url: str, token: str) -> dict[str, list[str]]:
    """Every payload waiting in the queue, and the samples elsewhere; ids for the pages."""
    bearer = {"Authorization": f"Bearer {token}"}
    held: list[str] = []
    with httpx.Client(base_url=url, timeout=30) as client:

        def post(p: Payload, site: str, email: str) -> dict[str, Any]:
            body: dict[str, Any] = {
                "site": site,
                "thread": f"/xss/{site}/{p.number}",
                "thread_title": p.text,
                "thread_url": f"{ORIGIN}/xss/{site}/{p.number}",
                "text": p.text,
                "author": {"name": p.text, "website": p.text, "email": email},
            }
            r = client.post("/api/v1/comments", json=body)
            if r.status_code == 422 and r.json()["error"].get("field") == "author.website":
                del body["author"]["website"]
                r = client.post("/api/v1/comments", json=body)
            assert r.status_code in (201, 202), (p.short, r.text)
            return r.json()  # type: ignore[no-any-return]

        for p in XSS_PAYLOADS:
            template = EMAILS[p.number % len(EMAILS)] if p.number % 5 == 0 else "p{n}@example.org"
            held.append(post(p, "news", template.replace("{n}", str(p.number)))["comment"]["id"])
        for p in XSS_PAYLOADS[:60]:  # flagged with the payload as the note
            published = post(p, "pub", f"f{p.number}@example.org")["comment"]["id"]
            for n in range(2):
                r = client.post(
                    f"/api/v1/comments/{published}/flag",
                    json={"reason": "abuse", "note": p.text[:500]},
                    headers={"X-Townhall-Reader": f"flagger-{n}-{p.number:06d}-token"},
                )
                assert r.status_code == 202, r.text
        for p, cid in list(zip(XSS_PAYLOADS, held, strict=True))[:40]:
            note = {"note": p.text[:1000]}
            r = client.post(
                f"/api/v1/moderation/comments/{cid}/author/notes", json=note, headers=bearer
            )
            assert r.status_code == 201, r.text
            ban = {"kind": "email", "value": f"b{p.number}@example.org", "site": "news",
                   "reason": p.text[:500] or "x"}  # fmt: skip
            r = client.post("/api/v1/moderation/bans", json=ban, headers=bearer)
            assert r.status_code == 201, r.text
        queue = client.get("/api/v1/moderation/queue", params={"limit": 200}, headers=bearer).json()
    threads = sorted({str(i["thread"]["id"]) for i in queue["items"]})
    return {"held": held, "threads": threads}


@pytest.fixture
def admin_page(browser: Any, live_server: LiveServer) -> Iterator[tuple[Any, Canary]]:
    base = live_server.url
    canary = Canary(
        allowed_prefixes=(f"{base}/static/", f"{base}/api/v1/moderation/"),
        navigable=(f"{base}/admin",),
        audit=ADMIN_AUDIT_SCRIPT,
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    canary.attach(context)
    page = context.new_page()
    page.set_default_timeout(30_000)
    csp_blocked: list[str] = []
    page.on(
        "console",
        lambda m: csp_blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.csp_blocked = csp_blocked
    yield page, canary
    context.close()


def test_payloads_are_inert_in_the_moderator_pages(
    admin_page: tuple[Any, Canary], live_server: LiveServer, admin_token: str
) -> None:
    base = live_server.url
    ids = seed(base, admin_token)
    page, canary = admin_page
    sign_in(page, base)
    pages = [
        "/admin/",
        "/admin/queue/pending?limit=200",
        "/admin/queue/flagged?limit=200",
        "/admin/queue/recent?limit=200",
        "/admin/bans",
        "/admin/log",
        "/admin/sites",
    ]
    pages += [f"/admin/comments/{cid}/author" for cid in ids["held"][:40:4]]  # notes and bans
    pages += [f"/admin/comments/{cid}/author" for cid in ids["held"][40::40]]
    pages += [f"/admin/comments/{cid}/edit" for cid in ids["held"][5::50]]
    pages += [f"/admin/threads/{tid}" for tid in ids["threads"][::20]]
    seen_names = 0
    for path in pages:
        page.goto(base + path)
        hits = canary.hits(page, ".html")
        assert hits == [], (path, hits[:10])
        seen_names += page.locator(".author").count()
        # the pending queue goes on over more pages: follow them all
        while path.startswith("/admin/queue/pending") and page.locator("a[rel=next]").count():
            page.locator("a[rel=next]").first.click()
            page.wait_for_load_state()
            assert canary.hits(page, ".html") == [], page.url
            seen_names += page.locator(".author").count()
    assert page.csp_blocked == []  # the pages' own CSP never had to stop anything
    # names are shown as the very text typed (escaped, not parsed)
    page.goto(base + "/admin/queue/pending?limit=200")
    shown = set(page.locator(".author").all_inner_texts())
    typed = {re.sub(r"[\x00-\x1f\x7f]", "", p.text.strip()) for p in XSS_PAYLOADS}
    assert len(shown & {t.strip() for t in typed}) >= 150, len(shown & typed)
    assert seen_names >= len(XSS_PAYLOADS)
    # the control: had a payload got through, the hook would have said so
    page.evaluate(
        """() => document.querySelector('main').insertAdjacentHTML('beforeend',
             '<div class="html"><img src=x onerror="__xss.push(1)">'
             + '<a href="javascript:alert(2)">x</a></div>')"""
    )
    control = "\n".join(canary.hits(page, ".html"))
    for expected in ("element <img> in a comment", "handler onerror", "link to javascript:"):
        assert expected in control, (expected, control)
    print(
        f"\nXSS in the moderator pages: {len(XSS_PAYLOADS)} payloads held, "
        f"{len(pages)} pages opened, 0 fired"
    )
