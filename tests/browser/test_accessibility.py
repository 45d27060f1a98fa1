"""axe-core (vendored, MPL-2.0: see vendor/README.md) finds no WCAG 2.x A/AA violation in the
widget, in light and dark, with every kind of form open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import THREAD, HostServer, Seeder, render_template, screenshot
from tests.browser.helpers import comment, post

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page: Any, context: str = "document") -> list[dict[str, Any]]:
    page.add_script_tag(content=AXE)
    return page.evaluate(  # type: ignore[no-any-return]
        f"""async () => {{
            const r = await axe.run({context}, {{runOnly: {{type: 'tag', values: {TAGS!r}}}}});
            return r.violations.map(v => ({{id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => n.target.join(' > ') + ': ' + n.failureSummary)}}));
        }}"""
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_demo_page_has_no_axe_violations(
    new_page: Any, host: HostServer, api: str, seed: Seeder, scheme: str
) -> None:
    ids = seed.comments(
        [
            {
                "text": "A **bold** opinion with a [link](https://example.org).",
                "name": "Ann",
                "website": "https://ann.example",
            },
            {"text": "A reply", "name": "Bo", "parent": 0},
            {"text": "> A quote\n\nand `code`", "name": "Cy", "parent": 1},
        ]
    )
    html = render_template(
        "demo/article.html",
        server_url=api,
        site_key="news",
        thread_key=THREAD,
        asset_version="test",
    )
    page = new_page(color_scheme=scheme)
    page.goto(host.page(THREAD, html))
    widget = page.locator("#townhall-thread")
    widget.scroll_into_view_if_needed()
    expect(widget.locator("h2")).to_have_text("3 Comments")
    mine = post(widget, "My own comment, so Edit and Delete show")["comment"]["id"]
    comment(widget, ids[0]).get_by_role("button", name="Reply", exact=True).click()
    comment(widget, ids[1]).get_by_role("button", name="Report").click()
    comment(widget, mine).get_by_role("button", name="Delete").click()
    widget.locator("form").first.get_by_role("button", name="Post comment").click()  # an error
    expect(widget.get_by_text("Please write a comment first.")).to_be_visible()

    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)
    screenshot(page, f"axe-{scheme}", widget)

    comment(widget, mine).get_by_role("button", name="Edit").click()
    widget.locator("form").first.get_by_label("Your comment").fill("Preview *me*")
    widget.locator("form").first.get_by_role("button", name="Preview").click()
    expect(widget.locator(".preview em")).to_have_text("me")
    violations = axe_violations(page, "{include: [['#townhall-thread']]}")
    assert violations == [], json.dumps(violations, indent=1)
