"""The moderator pages through real HTTP: what they show, that reader-supplied text is escaped
everywhere, and the plain form posts that work without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.admin.conftest import HOLD_WORD, Signed, post, reader_view
from tests.conftest import ORIGIN
from townhall.domain import accounts, moderation
from townhall.domain.services import Services
from townhall.domain.sites import Site
from townhall.store import comments as comment_store

XSS_NAME = '<script>alert("name")</script>'
XSS_WEBSITE = 'https://x.example/?q="><img src=x onerror=alert(1)>'
XSS_NOTE = "<img src=x onerror=alert('note')>"
XSS_TEXT = f"{HOLD_WORD} <svg onload=alert('text')> **bold**"


def no_raw_markup(html: str) -> None:
    for raw in ("<script>alert", "<img src=x", "<svg onload", "onerror=alert(1)>"):
        assert raw not in html, raw


@pytest.fixture
async def nasty(
    client: httpx.AsyncClient, holding_site: Site, services: Services
) -> dict[str, Any]:
    """A held comment whose every reader-supplied field is an attack, and a flagged one. (The
    website is written to the store directly, as an importer could: the API refuses it.)"""
    held = await client.post(
        "/api/v1/comments",
        json={
            "site": "news",
            "thread": "/2026/11/story",
            "text": XSS_TEXT,
            "author": {"name": XSS_NAME, "email": "x@example.org", "website": "x.example"},
            "thread_title": "<b>Title</b>",
            "thread_url": ORIGIN + "/2026/11/story",
        },
        headers={"Origin": ORIGIN},
    )
    assert held.status_code == 202, held.text
    with services.db.write() as conn:
        comment_store.update_comment(
            conn, int(held.json()["comment"]["id"]), author_website=XSS_WEBSITE
        )
    published = await post(client, "An ordinary comment.")
    flag = await client.post(
        f"/api/v1/comments/{published['comment']['id']}/flag",
        json={"reason": "other", "note": XSS_NOTE},
        headers={"Origin": ORIGIN},
    )
    assert flag.status_code == 202
    return {"held": held.json()["comment"]["id"], "flagged": published["comment"]["id"]}


async def test_reader_supplied_text_is_escaped_on_every_page(
    as_admin: Signed, nasty: dict[str, Any], services: Services
) -> None:
    held, flagged = nasty["held"], nasty["flagged"]
    moderation.add_reader_note(services, "admin@example.org", held, XSS_NOTE)
    thread = moderation.reader_history(services, held).comments[0].thread.id
    pages = [
        "/admin/queue/pending",
        "/admin/queue/flagged",
        "/admin/queue/recent",
        f"/admin/threads/{thread}",
        f"/admin/comments/{held}/author",
        f"/admin/comments/{held}/edit",
        "/admin/",
        "/admin/log",
    ]
    for path in pages:
        r = await as_admin.client.get(path)
        assert r.status_code == 200, path
        no_raw_markup(r.text)
        assert "<b>Title</b>" not in r.text, path
    pending = (await as_admin.client.get("/admin/queue/pending")).text
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in pending
    assert "&lt;svg onload=alert(&#39;text&#39;)&gt;" in pending
    flagged_page = (await as_admin.client.get("/admin/queue/flagged")).text
    assert "&lt;img src=x onerror=alert(&#39;note&#39;)&gt;" in flagged_page
    assert f'id="c{flagged}"' in flagged_page
    # The thread page shows comments as readers see them: the sanitised HTML.
    thread_page = (await as_admin.client.get(f"/admin/threads/{thread}")).text
    assert "<strong>bold</strong>" in thread_page


async def test_pending_shows_every_reason_and_the_author(
    as_moderator: Signed, held: dict[str, Any]
) -> None:
    r = await as_moderator.client.get("/admin/queue/pending")
    assert r.status_code == 200
    page = r.text
    cid = held["comment"]["id"]
    assert f'data-id="{cid}"' in page
    assert "suspect_words" in page and f"&#34;{HOLD_WORD}&#34;" in page
    assert "ann@example.org" in page
    ip = re.search(r"#([0-9a-f]{8})</code>", page)
    assert ip is not None and "127.0.0.1" not in page
    assert "0 published" in page and "1 waiting" in page
    assert f'href="/admin/comments/{cid}/author"' in page
    assert 'href="https://news.example/2026/11/story"' in page
    assert '<span class="badge" data-count="pending">1</span>' in page


async def test_a_decision_by_form_post_without_javascript(
    as_moderator: Signed, held: dict[str, Any], client: httpx.AsyncClient
) -> None:
    cid = held["comment"]["id"]
    r = await as_moderator.form(
        f"/admin/comments/{cid}/approve", {"next": "/admin/queue/pending?site=news"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/queue/pending?site=news"
    page = await as_moderator.client.get(r.headers["location"])
    assert f"Approved comment {cid}." in page.text and "Nothing waiting" in page.text
    assert [c["id"] for c in (await reader_view(client))["comments"]] == [cid]
    # A decision that does not apply comes back as a message, not an error page.
    r = await as_moderator.form(f"/admin/comments/{cid}/approve", {"next": "/admin/queue/recent"})
    assert r.status_code == 303
    page = await as_moderator.client.get("/admin/queue/recent")
    assert "published already" in page.text and "flash-error" in page.text
    # A next that leaves the admin is ignored.
    r = await as_moderator.form(
        f"/admin/comments/{cid}/remove", {"next": "https://evil.example/", "reason": "x"}
    )
    assert r.headers["location"] == "/admin/queue/pending"


async def test_bulk_form(
    as_moderator: Signed, client: httpx.AsyncClient, holding_site: Site
) -> None:
    ids = [(await post(client, f"{HOLD_WORD} {i}"))["comment"]["id"] for i in range(2)]
    r = await as_moderator.client.post(
        "/admin/comments/bulk",
        data={"csrf_token": as_moderator.csrf, "action": "reject", "ids": ids, "reason": "spam"},
    )
    assert r.status_code == 303
    page = await as_moderator.client.get(r.headers["location"])
    assert "Rejected 2 comments." in page.text
    rejected = await as_moderator.client.get("/admin/queue/rejected")
    assert all(f'data-id="{i}"' in rejected.text for i in ids)


async def test_ban_and_lift_by_form(
    as_moderator: Signed, held: dict[str, Any], services: Services
) -> None:
    cid = held["comment"]["id"]
    r = await as_moderator.form(
        f"/admin/comments/{cid}/ban",
        {"kind": "reader", "hours": "168", "shadow": "1", "reason": "<b>trolling</b>"},
    )
    assert r.status_code == 303
    page = await as_moderator.client.get(r.headers["location"])
    assert "Shadow-banned the reader" in page.text and "&lt;b&gt;trolling&lt;/b&gt;" in page.text
    [ban] = moderation.list_bans(services, sites=["news"])
    assert ban.shadow and ban.until is not None
    r = await as_moderator.form(f"/admin/comments/{cid}/ban", {"kind": "reader", "hours": "99"})
    assert "choose how long" in (await as_moderator.client.get(r.headers["location"])).text
    bans = await as_moderator.client.get("/admin/bans")
    assert f"/admin/bans/{ban.id}/lift" in bans.text
    r = await as_moderator.form(f"/admin/bans/{ban.id}/lift", {"next": "/admin/bans"})
    assert r.status_code == 303
    assert moderation.list_bans(services, sites=["news"]) == []
    r = await as_moderator.form(
        "/admin/bans",
        {"kind": "ip", "value": "203.0.113.9", "site": "news", "reason": "flood", "hours": "24"},
    )
    page = await as_moderator.client.get(r.headers["location"])
    assert "Banned the ip" in page.text and "203.0.113.9" not in page.text


async def test_reader_page_and_notes(as_moderator: Signed, held: dict[str, Any]) -> None:
    cid = held["comment"]["id"]
    r = await as_moderator.form(f"/admin/comments/{cid}/author/notes", {"note": "Second warning"})
    assert r.status_code == 303
    page = await as_moderator.client.get(f"/admin/comments/{cid}/author")
    assert "Second warning" in page.text and "mod@example.org" in page.text
    assert "ann@example.org" in page.text and "Never banned." in page.text
    r = await as_moderator.form(f"/admin/comments/{cid}/author/notes", {"note": ""})
    assert "empty" in (await as_moderator.client.get(r.headers["location"])).text


async def test_thread_page_controls(
    as_moderator: Signed, held: dict[str, Any], client: httpx.AsyncClient, services: Services
) -> None:
    reply_to = await post(client, "A published parent.")
    await post(client, "A reply.", parent_id=reply_to["comment"]["id"])
    thread = moderation.reader_history(services, held["comment"]["id"]).comments[0].thread.id
    page = (await as_moderator.client.get(f"/admin/threads/{thread}")).text
    order = [m for m in re.findall(r'data-id="(\d+)"', page)]
    assert order == [held["comment"]["id"], reply_to["comment"]["id"], str(int(order[1]) + 1)]
    assert "item s-published depth d1" in page  # the reply, indented
    r = await as_moderator.form(f"/admin/threads/{thread}/close", {"reason": "enough"})
    page = (await as_moderator.client.get(r.headers["location"])).text
    assert "Thread closed" in page and "Reopen the thread" in page
    r = await as_moderator.form(f"/admin/threads/{thread}/premoderation", {"enabled": "on"})
    page = (await as_moderator.client.get(r.headers["location"])).text
    assert "Pre-moderation on" in page and "pre-moderated" in page
    r = await as_moderator.form(f"/admin/threads/{thread}/close")
    assert "closed already" in (await as_moderator.client.get(r.headers["location"])).text


async def test_edit_page(
    as_moderator: Signed, held: dict[str, Any], client: httpx.AsyncClient
) -> None:
    cid = held["comment"]["id"]
    r = await as_moderator.client.get(
        f"/admin/comments/{cid}/edit", params={"next": "javascript:alert(1)"}
    )
    assert r.status_code == 200 and "javascript:" not in r.text
    assert HOLD_WORD in r.text
    r = await as_moderator.form(f"/admin/comments/{cid}/edit", {"text": "", "next": "/admin/"})
    assert r.status_code == 422 and "text is empty" in r.text
    r = await as_moderator.form(
        f"/admin/comments/{cid}/edit", {"text": "Cleaned up.", "reason": "tidy", "next": "/admin/"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/"
    item = await as_moderator.client.get("/admin/queue/pending")
    assert "Cleaned up." in item.text


async def test_site_settings_are_validated(
    as_admin: Signed, site: Site, services: Services
) -> None:
    from tests.admin.conftest import policy_form

    before = moderation.get_policy(services, "news")
    page = await as_admin.client.get("/admin/sites/news")
    assert page.status_code == 200
    assert 'name="max_links" inputmode="decimal" size="6" value="2"' in page.text
    form = policy_form(services, "news")
    form.update(
        name="News",
        origins="https://news.example\nnot a url",
        edit_window="abc",
        toxicity_hold="1.7",
        max_links="-2",
        banned_words="*",
    )
    r = await as_admin.form("/admin/sites/news", form)
    assert r.status_code == 422
    for message in (
        "is not an origin",
        "enter minutes between 0 and 10080",
        "the score must be between 0 and 1",
        "enter a whole number, 0 or more",
    ):
        assert message in r.text, message
    assert 'aria-invalid="true"' in r.text and "Nothing was saved" in r.text
    assert moderation.get_policy(services, "news") == before
    form.update(
        origins="https://news.example", edit_window="15", max_links="2", toxicity_hold="0.6"
    )
    r = await as_admin.form("/admin/sites/news", form)  # banned_words "*" is still wrong
    assert r.status_code == 422 and "needs at least two letters" in r.text
    form.update(
        banned_words="scum*\nvermin", toxicity_reject="", origins="https://News.example:443"
    )
    r = await as_admin.form("/admin/sites/news", {**form, "reason": "tighter"})
    assert r.status_code == 303
    policy = moderation.get_policy(services, "news")
    assert policy.toxicity_hold == 0.6 and policy.banned_words == ["scum*", "vermin"]
    assert services.sites.get("news").origins == ("https://news.example",)
    log = await as_admin.client.get("/admin/log", params={"action": "update_policy"})
    assert "tighter" in log.text


async def test_dashboard_draws_svg_charts(
    as_admin: Signed, held: dict[str, Any], client: httpx.AsyncClient
) -> None:
    await post(client, "Published.")
    r = await as_admin.client.get("/admin/", params={"days": "7", "hours": "48"})
    assert r.status_code == 200
    assert r.text.count('<svg class="chart') == 3
    assert "<title>Comments per day</title>" in r.text
    assert "<title>Toxicity score distribution</title>" in r.text
    assert '<span class="n" data-count="pending">1</span>' in r.text
    assert "2 comments in 7 days" in r.text.replace("</span> ", " ").replace('<span class="n">', "")
    assert "A story" in r.text  # busiest and hottest threads
    r = await as_admin.client.get("/admin/", params={"days": "1000"})
    assert r.status_code == 422 and "days must be between" in r.text


async def test_users_page(
    as_admin: Signed, services: Services, site: Site, admin_user: accounts.User
) -> None:
    r = await as_admin.form(
        "/admin/users",
        {"email": "new@example.org", "password": "short", "role": "moderator", "sites": "news"},
    )
    assert r.status_code == 422 and "at least 10 characters" in r.text
    r = await as_admin.form(
        "/admin/users",
        {"email": "new@example.org", "password": "long enough pw", "role": "moderator"},
    )
    assert r.status_code == 422 and "needs at least one site" in r.text
    r = await as_admin.form(
        "/admin/users",
        {"email": "new@example.org", "password": "long enough pw", "role": "moderator",
         "sites": "news"},
    )  # fmt: skip
    assert r.status_code == 303
    new = accounts.user_by_email(services.db, "new@example.org")
    assert new.site_ids == {site.id}
    r = await as_admin.form(f"/admin/users/{admin_user.id}", {"role": "moderator"})
    page = await as_admin.client.get(r.headers["location"])
    assert "cannot change your own role" in page.text
    r = await as_admin.form(f"/admin/users/{new.id}/delete")
    assert r.status_code == 303 and accounts.list_users(services.db) == [
        accounts.get_user(services.db, admin_user.id)
    ]


async def test_the_models_explanation_is_highlighted_in_the_text(
    as_moderator: Signed, services: Services, site: Site
) -> None:
    """Stored as the toxicity check stores it (the model itself need not be installed)."""
    import datetime as dt

    from townhall.domain.rendering import render_markdown
    from townhall.store import threads as thread_store

    text = "<i>You</i> idiot & co, idiot"
    spans = [
        {"term": "idiot", "weight": 1.2, "start": 11, "end": 16},
        {"term": "idiot", "weight": 1.2, "start": 23, "end": 28},
        {"term": "bogus", "weight": 0.5, "start": 12, "end": 99},  # stale: ignored
    ]
    decision = {
        "verdict": "hold",
        "toxicity": 0.91,
        "shadow": False,
        "results": [
            {
                "check": "toxicity",
                "verdict": "hold",
                "reason": "Toxicity 0.91: from 0.70 a comment is held for review.",
                "score": 0.91,
                "details": {"explanation": spans},
            }
        ],
    }
    now = dt.datetime.now(dt.UTC)
    with services.db.write() as conn:
        thread = thread_store.get_or_create_thread(
            conn, site_id=site.id, key="/t", title="T", url=ORIGIN + "/t", now=now
        )
        comment_store.insert_comment(
            conn, thread_id=thread["id"], parent_id=None, root_id=None, depth=0,
            status="pending", shadow=False, author_name="A", text=text,
            html=render_markdown(text), created_at=now, likes=0, dislikes=0, flag_count=0,
            toxicity=0.91, moderation=decision, reader_id="r" * 64,
        )  # fmt: skip
    page = (await as_moderator.client.get("/admin/queue/pending?check=toxicity")).text
    mark = '<mark title="raises the score: idiot (+1.20)">idiot</mark>'
    assert f"&lt;i&gt;You&lt;/i&gt; {mark} &amp; co, {mark}</div>" in page
    assert '<span class="score" title="score">0.91</span>' in page
    assert '<mark class="term" title="weight +1.20">idiot</mark>' in page
