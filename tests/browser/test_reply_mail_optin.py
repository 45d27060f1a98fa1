"""The reply box's "Email me replies" box reaches the server, which needs an address for it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import HostServer
from tests.browser.helpers import open_widget
from townhall.domain.services import Services
from townhall.store.schema import comments

pytestmark = pytest.mark.browser


def test_opting_in_to_reply_mail(
    new_page: Any, host: HostServer, api: str, services: Services
) -> None:
    _page, widget = open_widget(new_page, host, api)
    form = widget.locator("form").first
    form.get_by_label("Your comment").fill("Tell me when someone answers")
    form.get_by_label("Name", exact=True).fill("Ann")
    form.get_by_label("Email me replies").check()
    form.get_by_role("button", name="Post comment").click()
    # no address: the server says so next to the email field
    expect(form.get_by_text("give an email address")).to_be_visible()
    form.get_by_label("Email (optional, never shown)").fill("ann@example.org")
    form.get_by_role("button", name="Post comment").click()
    expect(widget.locator("h2")).to_have_text("1 Comment")
    with services.db.read() as conn:
        row = conn.execute(select(comments.c.notify_replies, comments.c.author_email)).one()
    assert row.notify_replies is True and row.author_email == "ann@example.org"
