"""XSS in the widget, in headless Chromium: every payload of payloads/xss.txt as comment text,
author name and author website, posted through the API (arriving live over SSE, then listed
on reload) and through the widget's own form, rendered on a publisher's page from another
origin. The canary (canary.py) must stay silent: no script, dialog, navigation, injected
request or CSP violation, and the widget's DOM holds only the allow-list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import widget_html
from tests.conftest import ORIGIN, LiveServer, make_test_settings
from tests.security.canary import Canary, CspHostServer
from tests.security.conftest import OPEN_POLICY
from tests.security.payloads import XSS_PAYLOADS, Payload
from townhall.domain.services import Services
from townhall.domain.sites import Site, create_site
from townhall.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HEADING = "#townhall-thread"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'townhall.db'}"  # the widget is the subject, not the store


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # Every comment on one page (no "load more"), and names as long as the payloads.
    return make_test_settings(tmp_path, database_url, page_size=2000, max_name_chars=5000)


@pytest.fixture(scope="module")
def host() -> Iterator[CspHostServer]:
    server = CspHostServer()
    yield server
    server.close()


@pytest.fixture
def site(services: Services, host: CspHostServer) -> Site:
    return create_site(
        services.db, key="news", name="News", origins=[ORIGIN, host.origin], policy=OPEN_POLICY
    )


@pytest.fixture
def canary_page(browser: Any, host: CspHostServer, live_server: LiveServer) -> Iterator[Any]:
    contexts: list[Any] = []
    host.api_origin = live_server.url

    def make(thread: str) -> tuple[Any, Canary]:
        url = host.page(thread, widget_html(live_server.url, thread=thread))
        api = live_server.url
        canary = Canary(
            allowed_prefixes=(f"{api}/api/", f"{api}/embed.js", f"{api}/count.js"),
            allowed_urls={url},
        )
        context = browser.new_context(viewport={"width": 1000, "height": 800})
        contexts.append(context)
        canary.attach(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(url)
        page.locator(HEADING).locator("h2").filter(has_text=re.compile(r"\d")).wait_for()
        return page, canary

    yield make
    for context in contexts:
        context.close()


def heading_count(page: Any) -> int:
    text = page.locator(HEADING).locator("h2").inner_text()
    return int(re.sub(r"\D", "", text) or 0)


def wait_for_count(page: Any, n: int) -> None:
    page.wait_for_function(
        """(n) => {
          const h = document.querySelector('#townhall-thread').shadowRoot.querySelector('h2');
          return h && parseInt(h.textContent.replace(/\\D/g, '') || '0') >= n;
        }""",
        arg=n,
        timeout=60_000,
    )


def rendered_names(page: Any) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelector('#townhall-thread').shadowRoot"
        ".querySelectorAll('.who')].map((e) => e.textContent)"
    )


def api_post(client: httpx.Client, thread: str, p: Payload, parent: str | None = None) -> str:
    body: dict[str, Any] = {
        "site": "news",
        "thread": thread,
        "text": p.text,
        "author": {"name": p.text, "website": p.text},
        "thread_url": ORIGIN + thread,
    }
    if parent:
        body["parent_id"] = parent
    r = client.post("/api/v1/comments", json=body)
    if r.status_code == 422 and r.json()["error"].get("field") == "author.website":
        del body["author"]["website"]
        r = client.post("/api/v1/comments", json=body)
    assert r.status_code == 201, (p.short, r.text)
    return str(r.json()["comment"]["id"])


def expected_name(p: Payload) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", "", p.text.strip()) or "Anonymous"


def test_payloads_posted_through_the_api_render_inert(
    canary_page: Any, live_server: LiveServer
) -> None:
    thread = "/xss/api"
    page, canary = canary_page(thread)
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        for p in XSS_PAYLOADS:
            api_post(client, thread, p)
        # a reply chain deep enough to be flattened ("replying to <name>")
        parent = None
        for p in XSS_PAYLOADS[:8]:
            parent = api_post(client, thread, p, parent)
    total = len(XSS_PAYLOADS) + 8
    wait_for_count(page, total)  # they arrived live, over SSE
    assert canary.hits(page) == []
    page.reload()
    wait_for_count(page, total)
    page.locator(HEADING).locator("article").nth(total - 1).wait_for()
    assert canary.hits(page) == []
    names = rendered_names(page)
    for p in XSS_PAYLOADS:  # the name is shown as the very text that was typed
        assert expected_name(p) in names, p.short
    print(f"\nXSS in the widget via the API: {len(XSS_PAYLOADS)} payloads, 0 fired")


# Each payload goes in as text and name, and as website when it could pass for an address
# (test_xss_api.py shows the server refuses the rest as websites; sending those too would only
# double the posts). A refused website comes back as a 422 that names the field and the
# widget marks it; today that 422 carries no CORS headers, so the widget sees a network
# failure instead (the browser tests' xfail for web/errors.py). Either way the comment is
# then sent again without the website.
WIDGET_POST = """
async (payloads) => {
  const root = document.querySelector('#townhall-thread').shadowRoot;
  const form = root.querySelector('form');
  const button = form.querySelector('button[type=submit]');
  const settle = () => new Promise((resolve) => {
    const check = () => button.getAttribute('aria-disabled') === 'true'
      ? setTimeout(check, 5) : resolve();
    check();
  });
  const refused = () => form.elements.website.getAttribute('aria-invalid') === 'true'
    || form.querySelector('.alert');
  let refusedSites = 0;
  for (const [p, website] of payloads) {
    form.elements.text.value = p;
    form.elements.name.value = p;
    form.elements.website.value = website;
    form.requestSubmit();
    await settle();
    if (refused()) {
      refusedSites += 1;
      form.elements.website.value = '';
      form.requestSubmit();
      await settle();
    }
    const stuck = [...form.querySelectorAll('[aria-invalid=true]')].map((e) => e.name);
    const alert = form.querySelector('.alert');
    if (stuck.length || alert) return {error: p, stuck, alert: alert && alert.textContent};
  }
  // What the heading said the moment the last post was answered (the count comes over SSE).
  return {refusedSites, heading: root.querySelector('h2').textContent};
}
"""


PREVIEW = """
async (text) => {
  const root = document.querySelector('#townhall-thread').shadowRoot;
  const form = root.querySelector('form');
  const toggle = [...form.querySelectorAll('button')].find((b) => b.hasAttribute('aria-pressed'));
  form.elements.text.value = text;
  toggle.click();
  const box = form.querySelector('.preview');
  for (let i = 0; i < 400 && (box.textContent === '…' || box.hidden); i++)
    await new Promise((r) => setTimeout(r, 10));
  const html = box.innerHTML;
  toggle.click();
  return html;
}
"""


def test_payloads_posted_through_the_widget_render_inert(canary_page: Any) -> None:
    thread = "/xss/widget"
    page, canary = canary_page(thread)
    texts = [p.text for p in XSS_PAYLOADS]
    outcome = page.evaluate(
        WIDGET_POST, [[t, t if "://" in t or "." in t[:20] else ""] for t in texts]
    )
    assert "error" not in outcome, outcome
    # Every payload is in the list (the form adds the comment from its own answer)...
    names = rendered_names(page)
    assert [p.short for p in XSS_PAYLOADS if expected_name(p) not in names] == []
    # ...and the count, which only the live events carry, catches up to all of them: it may
    # lag the last answer by an event (it once read 381 here when the test did not wait), and
    # it must end right (the events' counts once arrived out of order: web/live.py).
    wait_for_count(page, len(texts))
    assert heading_count(page) == len(texts), (outcome["heading"], heading_count(page))
    assert canary.hits(page) == []
    previews = 0
    for p in XSS_PAYLOADS[::7]:  # the preview is server HTML put through innerHTML
        page.evaluate(PREVIEW, p.text)
        previews += 1
    assert canary.hits(page) == []
    page.reload()
    wait_for_count(page, len(texts))
    page.locator(HEADING).locator("article").nth(len(texts) - 1).wait_for()
    assert canary.hits(page) == []
    print(
        f"\nXSS in the widget via its form: {len(texts)} payloads "
        f"({outcome['refusedSites']} websites refused), {previews} previews, 0 fired"
    )


def test_the_canary_notices_a_payload_that_runs(canary_page: Any, live_server: LiveServer) -> None:
    """The control: were the sanitiser gone, would the hook see it? Put raw payloads where a
    comment body goes and count what it reports."""
    thread = "/xss/control"
    with httpx.Client(base_url=live_server.url) as client:
        api_post(client, thread, XSS_PAYLOADS[0])
    page, canary = canary_page(thread)
    page.locator(HEADING).locator("article").first.wait_for()
    assert canary.hits(page) == []
    page.evaluate(
        """() => {
          const body = document.querySelector('#townhall-thread').shadowRoot
            .querySelector('.body');
          body.innerHTML = '<img src=x onerror="__xss.push(1)">'
            + '<a href="javascript:alert(2)">x</a><svg><a><text>y</text></a></svg>';
          const s = document.createElement('script');  // what an injected script would do
          s.textContent = 'alert(3)';
          document.body.append(s);
        }"""
    )
    page.wait_for_timeout(500)
    hits = "\n".join(canary.hits(page))
    for expected in (
        "alert:3",  # the overridden alert recorded the call
        "__xss: 1",  # the onerror handler ran
        "csp:script-src",  # the report-only policy saw the inline script
        "request for image",  # the injected <img> fetched
        "link to javascript:",  # the DOM audit
        "element <img>",
        "handler onerror",
    ):
        assert expected in hits, (expected, hits)
