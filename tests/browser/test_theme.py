"""Colour schemes, publisher overrides, and isolation from (and of) the host page's CSS."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import HostServer, Seeder, screenshot
from tests.browser.helpers import open_widget, post

pytestmark = pytest.mark.browser

ROOT_STYLE = "el => { const s = getComputedStyle(el); return [s.color, s.backgroundColor]; }"


def luminance(css: str) -> float:
    r, g, b = (float(x) for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def widget_colours(widget: Any) -> tuple[float, str]:
    color, background = widget.locator("section.th").evaluate(ROOT_STYLE)
    return luminance(color), background


@pytest.fixture
def thread(seed: Seeder) -> None:
    seed.comments(
        [
            {"text": "Dark or light?", "name": "Ann", "likes": 2},
            {"text": "Whatever the page says.", "name": "Bo", "parent": 0},
        ]
    )


def test_light_by_default(new_page: Any, host: HostServer, api: str, thread: None) -> None:
    page, widget = open_widget(new_page, host, api)
    text, background = widget_colours(widget)
    assert text < 80 and background == "rgba(0, 0, 0, 0)"
    assert widget.get_attribute("data-townhall-scheme") == "light"
    screenshot(page, "theme-light", widget)


def test_dark_from_prefers_color_scheme(
    new_page: Any, host: HostServer, api: str, thread: None
) -> None:
    page, widget = open_widget(new_page, host, api, page_options={"color_scheme": "dark"})
    text, background = widget_colours(widget)
    assert text > 180
    assert background != "rgba(0, 0, 0, 0)"  # the page paints nothing: the widget brings a ground
    assert widget.get_attribute("data-townhall-scheme") == "dark"
    screenshot(page, "theme-dark-os", widget)


def test_dark_page_wins_over_light_os(
    new_page: Any, host: HostServer, api: str, thread: None
) -> None:
    head = "<style>body { background: #101418; color: #eee }</style>"
    page, widget = open_widget(new_page, host, api, head=head)
    text, background = widget_colours(widget)
    assert text > 180 and background == "rgba(0, 0, 0, 0)"  # blends into the dark page
    # a page that switches its own theme later is followed
    page.evaluate("document.body.style.background = '#fff'")
    expect(widget).to_have_attribute("data-townhall-scheme", "light")
    screenshot(page, "theme-page-light-again", widget)


def test_attribute_forces_dark_on_light_page(
    new_page: Any, host: HostServer, api: str, thread: None
) -> None:
    page, widget = open_widget(
        new_page,
        host,
        api,
        head="<style>body { background: #fff }</style>",
        attrs='data-townhall-theme="dark"',
    )
    text, background = widget_colours(widget)
    assert text > 180 and luminance(background) < 60
    screenshot(page, "theme-dark-forced", widget)


def test_publisher_custom_properties(
    new_page: Any, host: HostServer, api: str, thread: None
) -> None:
    head = """<style>#townhall-thread { --townhall-accent: rgb(200, 0, 100);
        --townhall-font: Georgia, serif; --townhall-font-size: 20px; }</style>"""
    page, widget = open_widget(new_page, host, api, head=head)
    button = widget.get_by_role("button", name="Post comment")
    assert button.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(200, 0, 100)"
    font = widget.locator("section.th").evaluate(
        "el => [getComputedStyle(el).fontFamily, getComputedStyle(el).fontSize]"
    )
    assert font == ["Georgia, serif", "20px"]
    assert page.errors == []


HOSTILE = """<style>
  * { all: unset; }
  html { font-size: 72px !important; }
  * { font-size: 48px !important; color: red !important; line-height: 0.5 !important;
      background: yellow !important; letter-spacing: 12px !important; }
  div:not(#townhall-thread), section, article, form, ol, li, h2 { display: none !important; }
  button, textarea, input, select { display: none !important; visibility: hidden !important; }
  p { transform: rotate(180deg) !important; }
  #townhall-thread { text-transform: uppercase; direction: ltr; font-family: monospace; }
</style>"""


def test_hostile_host_css_does_not_break_the_widget(
    new_page: Any, host: HostServer, api: str, thread: None
) -> None:
    page, widget = open_widget(new_page, host, api, head=HOSTILE, before="<p>Hostile page</p>")
    expect(widget.locator("section.th")).to_be_visible()
    expect(widget.get_by_text("Dark or light?")).to_be_visible()
    styles = widget.locator("section.th").evaluate(
        """el => { const s = getComputedStyle(el);
           return [s.fontSize, s.textTransform, s.letterSpacing, s.display]; }"""
    )
    assert styles == ["16px", "none", "normal", "block"]
    body = widget.get_by_text("Dark or light?")
    assert body.evaluate("el => getComputedStyle(el).color") != "rgb(255, 0, 0)"
    assert body.evaluate("el => getComputedStyle(el).transform") == "none"
    textarea = widget.get_by_label("Your comment")
    expect(textarea).to_be_visible()
    box = textarea.bounding_box()
    assert box and box["height"] > 60 and box["width"] > 300
    # and it still works
    answer = post(widget, "Posted through hostile CSS")
    assert answer["status"] == "published"
    expect(widget.get_by_text("Posted through hostile CSS")).to_be_visible()
    screenshot(page, "hostile-css", widget)
    assert page.errors == []


def test_widget_css_does_not_leak_into_the_page(
    new_page: Any, host: HostServer, api: str, thread: None
) -> None:
    before = """<h2 id="host-h2">Host heading</h2><ol id="host-ol"><li>one</li></ol>
        <button id="host-button">Host button</button><p class="meta">host meta</p>"""
    probe = """() => ['#host-h2', '#host-ol', '#host-button', '.meta'].map(s => {
        const c = getComputedStyle(document.querySelector(s));
        return [c.fontSize, c.margin, c.padding, c.color, c.listStyleType, c.borderRadius,
                c.display].join('|'); })"""
    page, _ = open_widget(new_page, host, api, before=before, thread="/no-widget-yet")
    widget_on = page.evaluate(probe)
    page2 = new_page()
    page2.goto(host.page("/plain", f"<!doctype html><html><body><main>{before}</main></body>"))
    assert page2.evaluate(probe) == widget_on
    # nothing of the widget's lives outside its shadow root except the container itself
    assert page.evaluate("document.querySelectorAll('style, link[rel=stylesheet]').length") == 0
    assert page.evaluate("document.getElementById('townhall-thread').children.length") == 0
