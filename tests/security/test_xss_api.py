"""XSS through the API: every payload of payloads/xss.txt as comment text, author name,
author website and thread title, on both databases. Whatever the server accepts must come back
as HTML inside the allow-list (checked by an independent parser, not by nh3 again) and as
http(s) websites; whatever it refuses must be a clear 4xx. The browser half is
test_xss_browser.py."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ORIGIN, app_client, make_test_settings
from tests.security.conftest import open_site
from tests.security.payloads import XSS_PAYLOADS, Payload, html_problems, url_scheme
from townhall.domain.services import Services


def test_the_payload_list_is_complete() -> None:
    classes = Counter(p.klass for p in XSS_PAYLOADS)
    assert len(XSS_PAYLOADS) >= 300
    for klass in (
        "script",
        "event-handler",
        "javascript-url",
        "data-url",
        "svg",
        "mathml",
        "encoded",
        "mixed-case",
        "markdown-link",
        "markdown-image",
        "css",
        "broken-html",
    ):
        assert classes[klass] >= 10, klass


def test_the_checker_catches_what_it_must() -> None:
    """The independent checker is only worth something if it says no to real attacks."""
    for bad in (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" &#x6A;ava&#x09;script:alert(1)">x</a>',
        '<a href="data:text/html,x">x</a>',
        '<p style="color:red">x</p>',
        "<svg onload=alert(1)>",
        "<!-- x -->",
    ):
        assert html_problems(bad), bad
    ok = '<p><a href="https://example.org" rel="nofollow ugc noopener">x</a> <em>y</em></p>'
    assert html_problems(ok) == []
    assert url_scheme("%6Aavascript:alert(1)") is None  # browsers do not decode schemes


def comment_problems(comment: dict[str, Any], where: str) -> list[str]:
    problems = [f"{where}: html {p}" for p in html_problems(comment["html"])]
    website = comment["author"].get("website")
    if website is not None and url_scheme(website) not in ("http", "https"):
        problems.append(f"{where}: website {website!r}")
    if set(comment["author"]) - {"name", "website"}:
        problems.append(f"{where}: author fields {sorted(comment['author'])}")
    return problems


async def post_payload(client: httpx.AsyncClient, p: Payload) -> tuple[int, dict[str, Any]]:
    """One payload as text, name, website and thread title at once; when the website is
    refused (most payloads are not http URLs), again without it so the rest still lands."""
    body: dict[str, Any] = {
        "site": "xss",
        "thread": f"/xss/{p.number}",
        "thread_title": p.text,
        "thread_url": f"{ORIGIN}/xss/{p.number}",
        "text": p.text,
        "author": {"name": p.text, "website": p.text},
    }
    r = await client.post("/api/v1/comments", json=body)
    if r.status_code == 422 and r.json()["error"].get("field") == "author.website":
        del body["author"]["website"]
        r = await client.post("/api/v1/comments", json=body)
    assert r.status_code < 500, (p.short, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), p.short
    return r.status_code, r.json()


@pytest.fixture
async def xss_client(tmp_path: Path, database_url: str) -> Any:
    settings = make_test_settings(tmp_path, database_url, max_name_chars=5000)
    services = Services.from_settings(settings)
    services.db.migrate()
    open_site(services)
    async with app_client(settings, services) as client:
        yield client
    services.db.dispose()


async def test_every_payload_through_the_api(xss_client: httpx.AsyncClient) -> None:
    client = xss_client
    problems: list[str] = []
    outcomes: Counter[int] = Counter()
    websites_kept = 0
    for p in XSS_PAYLOADS:
        status, data = await post_payload(client, p)
        outcomes[status] += 1
        if status != 201:
            assert 400 <= status < 500 and data["error"]["message"], (p.short, data)
            continue
        problems += comment_problems(data["comment"], f"{p.short} posted")
        websites_kept += "website" in data["comment"]["author"]
        preview = await client.post("/api/v1/preview", json={"text": p.text})
        if preview.status_code == 200:
            problems += [f"{p.short} preview: {x}" for x in html_problems(preview.json()["html"])]
        else:
            assert preview.status_code == 422, (p.short, preview.text)
        if p.number % 10 == 0:  # editing renders through the same function; a sample suffices
            edited = await client.patch(
                f"/api/v1/comments/{data['comment']['id']}",
                json={"text": "edited: " + p.text},
                headers={"X-Townhall-Edit-Token": data["edit_token"]},
            )
            assert edited.status_code == 200, (p.short, edited.text)
            problems += comment_problems(edited.json()["comment"], f"{p.short} edited")
        if p.number % 25 == 0:  # the listing serves the stored HTML from its page cache
            params = {"site": "xss", "thread": f"/xss/{p.number}"}
            listed = (await client.get("/api/v1/comments", params=params)).json()
            title = re.sub(r"[\x00-\x1f\x7f]", "", p.text.strip())[:500]
            assert listed["thread"]["title"] == title, p.short
            for c in listed["comments"]:
                problems += comment_problems(c, f"{p.short} listed")
    assert problems == []
    # nearly every payload must actually have been stored and rendered, or this proves little
    assert outcomes[201] >= len(XSS_PAYLOADS) - 5, outcomes
    print(
        f"\nXSS via API: {len(XSS_PAYLOADS)} payloads x (text, name, website, title), "
        f"{outcomes[201]} stored, {websites_kept} websites kept, problems: {len(problems)}"
    )


async def test_every_payload_through_the_isso_api(xss_client: httpx.AsyncClient) -> None:
    """The Isso-compatible API takes the same payloads (text, author, website, title) and
    must answer the same safe HTML; its Atom feed must carry it escaped, as data."""
    from defusedxml import ElementTree

    client = xss_client
    problems: list[str] = []
    stored = 0
    for p in XSS_PAYLOADS:
        uri = f"/xss/isso/{p.number % 20}"
        body = {"text": p.text, "author": p.text[:200], "website": p.text, "title": p.text}
        r = await client.post(
            "/isso/xss/new", params={"uri": uri}, json=body, headers={"Origin": ORIGIN}
        )
        refused = r.status_code in (400, 422)  # Isso's clients expect 400 where we say 422
        if refused and r.json()["error"].get("field") == "author.website":
            del body["website"]
            r = await client.post(
                "/isso/xss/new", params={"uri": uri}, json=body, headers={"Origin": ORIGIN}
            )
        assert r.status_code < 500, (p.short, r.text)
        if r.status_code not in (201, 202):
            continue
        stored += 1
        item = r.json()
        problems += [f"{p.short} isso: {x}" for x in html_problems(item["text"])]
        website = item.get("website")
        if website and url_scheme(website) not in ("http", "https"):
            problems.append(f"{p.short} isso website {website!r}")
    for n in range(20):
        feed = await client.get("/isso/xss/feed", params={"uri": f"/xss/isso/{n}"})
        assert feed.status_code == 200, feed.text
        root = ElementTree.fromstring(feed.content)  # well-formed XML, whatever was typed
        for content in root.iter("{http://www.w3.org/2005/Atom}content"):
            problems += [f"feed {n}: {x}" for x in html_problems(content.text or "")]
    assert problems == []
    assert stored >= len(XSS_PAYLOADS) - 40  # Isso refuses texts under 3 characters
