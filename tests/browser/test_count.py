"""count.js on a listing page: one batched request fills every counter."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import HostServer, Seeder, render_template, screenshot

pytestmark = pytest.mark.browser


def test_listing_page_counts_in_one_request(
    new_page: Any, host: HostServer, api: str, seed: Seeder
) -> None:
    seed.comments([{"text": "a"}, {"text": "b", "parent": 0}, {"text": "c"}], key="/news/one")
    seed.comments([{"text": "only"}], key="/news/two")
    seed.thread("/news/empty")
    stories = [
        {
            "key": key,
            "url": "/story",
            "kicker": "News",
            "published": "Today",
            "title": title,
            "summary": "...",
        }
        for key, title in [
            ("/news/one", "Three comments"),
            ("/news/two", "One comment"),
            ("/news/empty", "No comments"),
            ("/news/unknown", "A thread nobody started"),
        ]
    ]
    html = render_template(
        "demo/listing.html",
        server_url=api,
        site_key="news",
        thread_key="/news/one",
        asset_version="test",
        articles=stories,
    )
    # the same thread twice on a page is asked for once
    html = html.replace("</main>", '<p><span data-townhall-count="/news/one"></span></p></main>')
    page = new_page()
    requests: list[Any] = []
    page.on("request", lambda r: requests.append(r) if "/api/v1/" in r.url else None)
    page.goto(host.page("/listing", html))
    counters = page.locator("[data-townhall-count]")
    expect(counters).to_have_text(
        ["3 Comments", "1 Comment", "0 Comments", "0 Comments", "3 Comments"]
    )
    assert len(requests) == 1
    assert requests[0].method == "POST" and requests[0].url.endswith("/api/v1/counts")
    assert requests[0].post_data_json == {
        "site": "news",
        "threads": ["/news/one", "/news/two", "/news/empty", "/news/unknown"],
    }
    screenshot(page, "listing-counts")
    assert page.errors == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("de", ["1 Kommentar", "0 Kommentare"]), ("fr", ["1 commentaire", "0 commentaire"])],
)
def test_counts_are_localised(
    new_page: Any, host: HostServer, api: str, seed: Seeder, lang: str, expected: list[str]
) -> None:
    seed.comments([{"text": "eins"}], key="/a")
    html = f"""<!doctype html><html lang="{lang}"><body>
        <a href="/a"><span data-townhall-count="/a">…</span></a>
        <a href="/b"><span data-townhall-count="">…</span></a>
        <script src="{api}/count.js" data-townhall-site="news" data-townhall-lang="{lang}"
                async></script></body></html>"""
    page = new_page()
    page.goto(host.page("/list", html))
    # the second counter has no key: the pathname of its link names the thread
    expect(page.locator("[data-townhall-count]")).to_have_text(expected)
