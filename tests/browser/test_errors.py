"""How the widget answers the server's refusals and network failures.

The 409 nudge needs the toxicity model, and a 429 needs a reader to hit the limits, so these
tests answer that ONE request in the browser (page.route) with the documented error envelope,
and let everything else (including "Post anyway") reach the real server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import HostServer, screenshot, widget_html
from tests.browser.helpers import open_widget

pytestmark = pytest.mark.browser

CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}


def refuse_posts(page: Any, status: int, error: dict[str, Any], **headers: str) -> list[Any]:
    """Answer POST /api/v1/comments with `status` and the error envelope, except a POST with
    "confirm": true, which goes to the real server; returns the bodies of every POST."""
    bodies: list[Any] = []

    def handle(route: Any) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        bodies.append(route.request.post_data_json)
        if bodies[-1].get("confirm"):
            route.fallback()
            return
        route.fulfill(
            status=status,
            headers={**CORS, **headers},
            content_type="application/json",
            body=json.dumps({"error": error}),
        )

    page.route("**/api/v1/comments", handle)
    return bodies


def test_nudge_offers_edit_or_post_anyway(new_page: Any, host: HostServer, api: str) -> None:
    page, widget = open_widget(new_page, host, api)
    message = "This may read as hostile to others. Edit it, or post it for a moderator to review."
    bodies = refuse_posts(page, 409, {"code": "nudge", "message": message, "field": "text"})
    form = widget.locator("form").first
    form.get_by_label("Your comment").fill("You are all wrong")
    form.get_by_role("button", name="Post comment").click()
    alert = form.get_by_role("alert")
    expect(alert).to_contain_text(message)
    expect(alert.get_by_role("button", name="Edit my comment")).to_be_focused()
    screenshot(page, "nudge", form)

    alert.get_by_role("button", name="Edit my comment").click()
    expect(form.get_by_label("Your comment")).to_be_focused()
    expect(form.get_by_role("alert")).to_have_count(0)

    form.get_by_role("button", name="Post comment").click()
    form.get_by_role("alert").get_by_role("button", name="Post anyway").click()
    expect(widget.locator("li[data-id] article")).to_contain_text("You are all wrong")
    assert [b.get("confirm") for b in bodies] == [None, None, True]
    assert bodies[-1]["text"] == "You are all wrong"
    assert [e for e in page.errors if "Failed to load resource" not in e] == []


def test_rate_limit_message(new_page: Any, host: HostServer, api: str) -> None:
    page, widget = open_widget(new_page, host, api)
    refuse_posts(
        page,
        429,
        {"code": "rate_limited", "message": "Too many comments; try again in a minute."},
        **{"Retry-After": "60"},
    )
    form = widget.locator("form").first
    form.get_by_label("Your comment").fill("One more")
    form.get_by_role("button", name="Post comment").click()
    expect(form.get_by_role("alert")).to_have_text("Too many comments; try again in a minute.")
    expect(form.get_by_label("Your comment")).to_have_value("One more")  # nothing lost


def test_network_failure_while_posting(new_page: Any, host: HostServer, api: str) -> None:
    page, widget = open_widget(new_page, host, api)
    page.route(
        "**/api/v1/comments",
        lambda route: route.abort() if route.request.method == "POST" else route.fallback(),
    )
    form = widget.locator("form").first
    form.get_by_label("Your comment").fill("Into the void")
    form.get_by_role("button", name="Post comment").click()
    expect(form.get_by_role("alert")).to_have_text(
        "The comment server could not be reached. Please try again."
    )
    page.unroute("**/api/v1/comments")
    form.get_by_role("button", name="Post comment").click()
    expect(widget.locator("li[data-id] article")).to_contain_text("Into the void")
    expect(form.get_by_role("alert")).to_have_count(0)


def test_failed_first_load_can_be_retried(new_page: Any, host: HostServer, api: str) -> None:
    page = new_page()
    page.route("**/api/v1/comments?**", lambda route: route.abort())
    page.goto(host.page("/article", widget_html(api)))
    widget = page.locator("#townhall-thread")
    expect(widget.get_by_text("The comments could not be loaded.")).to_be_visible()
    page.unroute("**/api/v1/comments?**")
    widget.get_by_role("button", name="Try again").click()
    expect(widget.locator("h2")).to_have_text("0 Comments")
    expect(widget.get_by_label("Your comment")).to_be_visible()
