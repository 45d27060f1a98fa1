"""The moderator pages in chromium (issue 5): sign in, a held comment in Pending with its
reasons, approve it with the keyboard and see it in the widget on the demo page; remove one
with replies and see the tombstone; shadow-ban a reader; bulk approve; change a threshold; the
dashboard; lockout after wrong passwords. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.admin.browser.conftest import screenshot, sign_in
from tests.conftest import LiveServer
from townhall.domain import accounts, moderation
from townhall.domain.services import Services
from townhall.domain.sites import Site
from townhall.web.demo import DEMO_THREAD

pytestmark = pytest.mark.browser


def item_with(page: Any, text: str) -> Any:
    return page.locator("article.item", has_text=text)


def focus_item(page: Any, text: str) -> None:
    """Walk to a comment with j (as a moderator does) until it has the focus."""
    target = item_with(page, text)
    target_id = target.get_attribute("data-id")
    for _ in range(50):
        if page.evaluate("document.activeElement?.dataset?.id") == target_id:
            return
        page.keyboard.press("j")
    raise AssertionError(f"j never reached the comment with {text!r}")


def widget(page: Any) -> Any:
    thread = page.locator("#townhall-thread")
    thread.scroll_into_view_if_needed()  # the widget loads when it comes near
    expect(thread.locator("h2")).to_have_text(re.compile(r"^\d+ Comments?$"))
    return thread


def post_as_reader(base: str, text: str, reader: str | None = None) -> dict[str, Any]:
    headers = {"Origin": base}
    if reader:
        headers["X-Townhall-Reader"] = reader
    r = httpx.post(
        base + "/api/v1/comments",
        json={"site": "demo", "thread": DEMO_THREAD, "text": text, "author": {"name": "Rea"}},
        headers=headers,
    )
    assert r.status_code in (201, 202), r.text
    data: dict[str, Any] = r.json()
    return data


def test_approve_a_held_comment_with_the_keyboard(
    new_page: Any, live_server: LiveServer, admin: accounts.User
) -> None:
    base = live_server.url
    page = new_page()
    sign_in(page, base, to="/admin/queue/pending")
    rude = item_with(page, "Absolute idiots")
    expect(rude).to_be_visible()
    expect(rude.locator(".checks")).to_contain_text("suspect_words")
    expect(rude.locator(".checks")).to_contain_text("Contains a word on the review list")
    expect(rude).to_contain_text("0 rejected")  # the reader's history
    expect(page.locator('.top [data-count="pending"]')).to_have_text("2")
    screenshot(page, "pending-light")
    focus_item(page, "Absolute idiots")
    page.keyboard.press("a")
    expect(rude).to_have_class(re.compile(r"\bdone\b"))
    expect(rude.locator(".outcome")).to_contain_text("Approved")
    expect(rude).to_be_hidden()
    # Focus moved on to the next comment, and the count followed without a reload.
    assert page.evaluate("document.activeElement?.classList.contains('item')")
    page.keyboard.press(".")  # reload: the count is the server's
    expect(page.locator('.top [data-count="pending"]')).to_have_text("1")
    article = new_page()
    article.goto(base + "/")
    expect(widget(article).get_by_text("Absolute idiots")).to_be_visible()
    assert page.errors == [] and article.errors == []


def test_remove_a_comment_with_replies_leaves_a_tombstone(
    new_page: Any, live_server: LiveServer, admin: accounts.User
) -> None:
    base = live_server.url
    page = new_page()
    sign_in(page, base, to="/admin/queue/recent?q=Station+Road+for+31+years")
    focus_item(page, "Station Road for 31 years")
    page.keyboard.press("r")
    reason = item_with(page, "Station Road for 31 years").locator(
        "details.reject input[name=reason]"
    )
    expect(reason).to_be_focused()
    screenshot(page, "remove-reason")
    page.keyboard.press("1")  # the first listed reason, sent at once
    expect(item_with(page, "Station Road for 31 years").locator(".outcome")).to_contain_text(
        "Removed"
    )
    article = new_page()
    article.goto(base + "/")
    thread = widget(article)
    expect(thread.get_by_text("Removed by a moderator.")).to_be_visible()
    expect(thread.get_by_text("Station Road for 31 years")).to_have_count(0)
    expect(thread.get_by_text("Nobody disputes that the lorries")).to_be_visible()  # the reply
    log = new_page()
    sign_in(log, base, to="/admin/log?action=remove")
    expect(log.locator("table.log")).to_contain_text("Abusive or insulting")
    assert page.errors == [] and article.errors == []


def test_shadow_ban(
    new_page: Any, live_server: LiveServer, admin: accounts.User, services: Services
) -> None:
    base = live_server.url
    first = post_as_reader(base, "Troll opener: the bypass is a hoax.")
    token = first["reader_token"]
    assert first["status"] == "published"
    page = new_page()
    sign_in(page, base, to="/admin/queue/recent?q=Troll+opener")
    focus_item(page, "Troll opener")
    page.keyboard.press("b")
    panel = item_with(page, "Troll opener").locator("details.ban")
    expect(panel.locator("input[name=reason]")).to_be_focused()
    panel.get_by_label("shadow ban").check()
    panel.locator("input[name=reason]").fill("hoax campaign")
    screenshot(page, "ban-panel")
    panel.locator("input[name=reason]").press("Enter")
    expect(item_with(page, "Troll opener").locator(".outcome")).to_contain_text("Shadow-banned")
    [ban] = moderation.list_bans(services, sites=["demo"])
    assert ban.shadow and ban.kind == "reader"
    hidden = post_as_reader(base, "Troll again: nobody can stop me.", reader=token)
    assert hidden["status"] == "published"  # as far as the troll can tell
    troll = new_page()
    troll.add_init_script(f"localStorage.setItem('townhall:reader', {token!r})")
    troll.goto(base + "/")
    expect(widget(troll).get_by_text("Troll again")).to_be_visible()
    other = new_page()
    other.goto(base + "/")
    thread = widget(other)
    expect(thread.get_by_text("Troll opener")).to_be_visible()  # from before the ban
    expect(thread.get_by_text("Troll again")).to_have_count(0)
    assert troll.errors == [] and other.errors == [] and page.errors == []


def test_bulk_approve_with_the_keyboard(
    new_page: Any, live_server: LiveServer, admin: accounts.User
) -> None:
    base = live_server.url
    for n in (1, 2, 3):
        assert post_as_reader(base, f"Number {n}: what a moron")["status"] == "pending"
    page = new_page()
    sign_in(page, base, to="/admin/queue/pending?q=what+a+moron")
    expect(page.locator("article.item")).to_have_count(3)
    focus_item(page, "Number 3")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("[data-selected]")).to_have_text("2 selected")
    screenshot(page, "bulk-selected")
    page.keyboard.press("Shift+A")
    expect(page.locator("article.item.done")).to_have_count(2)
    expect(item_with(page, "Number 1")).not_to_have_class(re.compile(r"\bdone\b"))
    article = new_page()
    article.goto(base + "/")
    thread = widget(article)
    expect(thread.get_by_text("Number 3")).to_be_visible()
    expect(thread.get_by_text("Number 2")).to_be_visible()
    expect(thread.get_by_text("Number 1")).to_have_count(0)
    assert page.errors == []


def test_change_a_threshold(
    new_page: Any, live_server: LiveServer, admin: accounts.User, services: Services
) -> None:
    base = live_server.url
    page = new_page()
    sign_in(page, base, to="/admin/sites/demo")
    hold = page.get_by_label("Toxicity: hold")
    hold.fill("1.5")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#form-errors")).to_contain_text("the score must be between 0 and 1")
    expect(page.get_by_label("Toxicity: hold")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "settings-error")
    page.get_by_label("Toxicity: hold").fill("0.65")
    page.get_by_label("Why (for the audit log)").fill("fewer false alarms")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash")).to_have_text("Settings saved.")
    expect(page.get_by_label("Toxicity: hold")).to_have_value("0.65")
    assert moderation.get_policy(services, "demo").toxicity_hold == 0.65
    # The form with errors came back as a 422, which chromium logs; nothing else went wrong.
    assert [e for e in page.errors if "status of 422" not in e] == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_dashboard(
    new_page: Any, live_server: LiveServer, admin: accounts.User, scheme: str
) -> None:
    page = new_page(color_scheme=scheme)
    sign_in(page, live_server.url)
    expect(page.locator("svg.chart")).to_have_count(3)
    expect(page.locator("svg.per-day rect").first).to_be_visible()
    expect(page.locator(".tiles")).to_contain_text("waiting")
    expect(page.get_by_role("link", name=re.compile("Council backs"))).to_have_count(2)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(20, 20, 22)") == (scheme == "dark")
    screenshot(page, f"dashboard-{scheme}")
    page.goto(live_server.url + "/admin/queue/pending")
    screenshot(page, f"pending-{scheme}")
    page.keyboard.press("?")
    expect(page.locator("dialog#help")).to_be_visible()
    screenshot(page, f"help-{scheme}")
    page.keyboard.press("Escape")
    expect(page.locator("dialog#help")).to_be_hidden()
    assert page.errors == []


def test_wrong_password_lockout(
    new_page: Any, live_server: LiveServer, admin: accounts.User, demo_site: Site
) -> None:
    page = new_page()
    page.goto(live_server.url + "/admin/")
    for attempt in range(accounts.MAX_FAILURES):
        page.get_by_label("Email").fill("admin@example.org")
        page.get_by_label("Password").fill(f"not it {attempt}")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("locked for 15 more minutes")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("locked")
    screenshot(page, "lockout")
    assert re.search(r"/admin/login", page.url)
