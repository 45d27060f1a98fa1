"""Small helpers shared by the browser tests (driving the widget inside its shadow root;
Playwright's CSS and role locators pierce open shadow roots)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import HostServer, widget_html

HEADING = re.compile(r"^\d[\d,]* Comments?$")


def open_widget(
    new_page: Any,
    host: HostServer,
    api: str,
    path: str = "/article",
    page_options: dict[str, Any] | None = None,
    **html: Any,
) -> tuple[Any, Any]:
    """A host page on the publisher's origin with the widget; returns (page, widget)."""
    url = host.page(path, widget_html(api, **html))
    page = new_page(**(page_options or {}))
    page.goto(url)
    widget = page.locator("#townhall-thread")
    expect(widget.locator("h2")).to_have_text(HEADING)
    return page, widget


def focused_id(page: Any) -> str | None:
    """data-id of the comment holding focus inside the widget (None if focus is elsewhere)."""
    return page.evaluate(
        "() => document.getElementById('townhall-thread').shadowRoot.activeElement"
        "?.closest('li[data-id]')?.dataset.id ?? null"
    )


def focused_tag(page: Any) -> str | None:
    return page.evaluate(
        "() => { const a = document.getElementById('townhall-thread').shadowRoot.activeElement;"
        " return a ? a.tagName.toLowerCase() + (a.dataset.act ? ':' + a.dataset.act : '') : null }"
    )


def comment(widget: Any, comment_id: Any) -> Any:
    """The <article> of one comment."""
    return widget.locator(f'li[data-id="{comment_id}"] > article')


def post(
    widget: Any, text: str, *, name: str = "Tess", form: Any = None, button: str = "Post comment"
) -> dict[str, Any]:
    """Fill a reply box and post it; returns the server's JSON answer."""
    form = form or widget.locator("form").first
    form.get_by_label(re.compile("^(Your comment|Your reply to .*)$")).fill(text)
    form.get_by_label("Name", exact=True).fill(name)
    with widget.page.expect_response(
        lambda r: r.url.endswith("/api/v1/comments") and r.request.method == "POST"
    ) as info:
        form.get_by_role("button", name=button).click()
    return info.value.json()  # type: ignore[no-any-return]


def reply(widget: Any, parent_id: Any, text: str, name: str = "Tess") -> dict[str, Any]:
    comment(widget, parent_id).get_by_role("button", name="Reply", exact=True).click()
    form = widget.locator(f'li[data-id="{parent_id}"] > form')
    return post(widget, text, name=name, form=form, button="Post reply")
