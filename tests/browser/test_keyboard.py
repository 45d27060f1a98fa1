"""The whole widget works from the keyboard alone: no mouse click in this file."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import HostServer, Seeder, screenshot
from tests.browser.helpers import comment, focused_id, focused_tag, open_widget

pytestmark = pytest.mark.browser


def tab_to(page: Any, target: Any, key: str = "Tab", limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until `target` has focus (fails after `limit` presses)."""
    for _ in range(limit):
        if target.evaluate("el => el.getRootNode().activeElement === el"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"Tab never reached {target}")


def test_keyboard_only_posting_and_replying(
    new_page: Any, host: HostServer, api: str, seed: Seeder
) -> None:
    (first,) = seed.comments([{"text": "Reply to me without a mouse", "name": "Ann"}])
    page, widget = open_widget(new_page, host, api, before="<a href='#top'>Top</a>")
    page.locator("body").focus()
    tab_to(page, widget.get_by_label("Your comment"))
    page.keyboard.type("Typed, then posted with Enter.")
    page.keyboard.press("Tab")  # -> name
    page.keyboard.type("Kim")
    page.keyboard.press("Tab")  # -> email (never shown)
    page.keyboard.type("kim@example.org")
    page.keyboard.press("Tab")  # -> website
    page.keyboard.press("Tab")  # -> "Email me replies"
    assert focused_tag(page) == "input"
    page.keyboard.press("Tab")  # -> Post comment
    assert focused_tag(page) == "button"
    page.keyboard.press("Enter")
    new = widget.locator("li[data-id]", has_text="Typed, then posted with Enter.")
    expect(new).to_have_count(1)
    new_id = new.get_attribute("data-id")
    expect(comment(widget, new_id)).to_be_focused()  # focus follows the new comment
    expect(comment(widget, new_id).locator(".who")).to_have_text("Kim")
    expect(widget.get_by_text("kim@example.org")).to_have_count(0)

    # Reply with Tab / Enter, post with Ctrl+Enter, cancel another with Escape.
    reply_button = comment(widget, first).get_by_role("button", name="Reply", exact=True)
    tab_to(page, reply_button, key="Shift+Tab")
    page.keyboard.press("Enter")
    box = widget.get_by_label("Your reply to Ann")
    expect(box).to_be_focused()
    page.keyboard.type("A reply typed without a mouse.")
    page.keyboard.press("Control+Enter")
    answer = widget.locator(
        f'li[data-id="{first}"] li[data-id]', has_text="A reply typed without a mouse."
    )
    expect(answer).to_have_count(1)
    assert focused_id(page) == answer.get_attribute("data-id")

    tab_to(page, reply_button, key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(widget.get_by_label("Your reply to Ann")).to_be_focused()
    page.keyboard.press("Escape")
    expect(widget.get_by_label("Your reply to Ann")).to_have_count(0)
    expect(reply_button).to_be_focused()  # focus returns to where it was
    screenshot(page, "keyboard-posting", widget)
    assert page.errors == []


def test_keyboard_vote_and_load_more(
    new_page: Any, host: HostServer, api: str, seed: Seeder
) -> None:
    seed.comments([{"text": f"Number {i}", "minutes_ago": 100 - i} for i in range(25)])
    page, widget = open_widget(new_page, host, api)
    like = comment(widget, 1).get_by_role("button", name=re.compile("^Like"))
    like.focus()
    page.keyboard.press("Space")
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_be_focused()  # updating counts keeps focus in place
    more = widget.get_by_role("button", name="Load more comments")
    more.focus()
    page.keyboard.press("Enter")
    expect(widget.locator(".list > li")).to_have_count(25)
    expect(widget.locator(".list > li > article").nth(20)).to_be_focused()
    expect(more).to_be_hidden()
    assert page.errors == []
