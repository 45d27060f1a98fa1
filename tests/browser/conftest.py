"""Browser tests of the widget: Debian chromium driven by Playwright (never `playwright install`).

Each test gets a real townhall server (uvicorn, temporary SQLite, see tests/conftest.py) and a
host page served from ANOTHER origin (http://localhost:<port>, while the API is on
http://127.0.0.1:<port>), so every request of the widget is a CORS request, as on a
publisher's site."""

from __future__ import annotations

import datetime as dt
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tests.conftest import ORIGIN, LiveServer, make_test_settings
from townhall.domain.rendering import render_markdown
from townhall.domain.services import Services
from townhall.domain.sites import Site, create_site
from townhall.settings import Settings
from townhall.store import comments as comment_store
from townhall.store import threads as thread_store
from townhall.types import CommentStatus

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("TOWNHALL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
THREAD = "/2026/11/story"
TEMPLATES = ROOT / "townhall" / "templates"


# --------------------------------------------------------------------------- the browser


# Module scope, not session: Playwright's sync API runs an event loop while it is started,
# and async tests collected after the browser modules could not start their own.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: chromium not found at {CHROMIUM}")
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class PageErrors(list[str]):
    """Uncaught exceptions and console errors of a page; tests assert it stays empty."""


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """`new_page(**context_options)` -> a page whose JS errors are collected in page.errors.

    Depends on the live server so that pages (and their EventSource streams) close before
    the server stops: uvicorn waits for open connections when shutting down."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1100, "height": 900})
        ctx = browser.new_context(**options)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10_000)
        page.errors = PageErrors()
        page.on("pageerror", lambda exc: page.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                page.errors.append(f"console.{msg.type}: {msg.text}")
                if msg.type == "error" and "favicon" not in (msg.location or {}).get("url", "")
                else None
            ),
        )
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def screenshot(page: Any, name: str, locator: Any = None) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    (locator or page).screenshot(path=str(path))
    return path


# --------------------------------------------------------------------------- the host page


class HostServer:
    """Serves in-memory pages on http://localhost:<port>: the publisher's origin."""

    def __init__(self) -> None:
        pages = self.pages = {}  # type: dict[str, str]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0].split("#")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.origin = f"http://localhost:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def page(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.origin + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def host_server() -> Iterator[HostServer]:
    server = HostServer()
    yield server
    server.close()


@pytest.fixture
def host(host_server: HostServer) -> Iterator[HostServer]:
    yield host_server
    host_server.pages.clear()


def widget_html(
    api: str,
    *,
    site: str = "news",
    thread: str | None = THREAD,
    attrs: str = "",
    head: str = "",
    before: str = "<h1>A story</h1><p>Some article text.</p>",
    after: str = "",
    lang: str = "en",
    title: str = "A story",
) -> str:
    thread_attr = f' data-townhall-thread="{thread}"' if thread else ""
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{title}</title>{head}</head><body><main>{before}
<div id="townhall-thread"></div>{after}</main>
<script src="{api}/embed.js" data-townhall-site="{site}"{thread_attr} {attrs} async></script>
</body></html>"""


def render_template(name: str, **values: Any) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    return env.get_template(name).render(**values)


# --------------------------------------------------------------------------- the server


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Browser tests run on SQLite only: they test the widget, not the databases."""
    return f"sqlite:///{tmp_path / 'townhall.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # A small subtree cap so "Show N more replies" is reachable with a dozen replies.
    return make_test_settings(tmp_path, database_url, replies_per_subtree=5)


SITE_POLICY = {"rate_burst": 100, "rate_sustained": 1000}


@pytest.fixture
def site(services: Services, host: HostServer) -> Site:
    return create_site(
        services.db,
        key="news",
        name="News",
        origins=[ORIGIN, host.origin],
        policy=SITE_POLICY,
    )


@pytest.fixture
def api(live_server: LiveServer) -> str:
    return str(live_server.url)


class Seeder:
    """Writes threads and comments straight into the store (as the demo seeding does), for
    threads far bigger than rate limits would let a test post through the API."""

    def __init__(self, services: Services, site: Site) -> None:
        self.db = services.db
        self.site = site
        self.now = dt.datetime.now(dt.UTC)

    def thread(self, key: str = THREAD, title: str = "A story", **values: Any) -> int:
        with self.db.write() as conn:
            row = thread_store.get_or_create_thread(
                conn, site_id=self.site.id, key=key, title=title, url=ORIGIN + key, now=self.now
            )
            if values:
                thread_store.update_thread(conn, row["id"], **values)
        return int(row["id"])

    def comments(self, specs: list[dict[str, Any]], key: str = THREAD) -> list[int]:
        """specs: {text, name?, parent? (index into specs), minutes_ago?, likes?, status?}"""
        thread_id = self.thread(key)
        ids: list[int] = []
        meta: list[tuple[int, int | None]] = []  # depth, root
        with self.db.write() as conn:
            visible = 0
            for spec in specs:
                parent = spec.get("parent")
                depth = meta[parent][0] + 1 if parent is not None else 0
                root = (meta[parent][1] or ids[parent]) if parent is not None else None
                status = spec.get("status", CommentStatus.PUBLISHED)
                cid = comment_store.insert_comment(
                    conn,
                    thread_id=thread_id,
                    parent_id=ids[parent] if parent is not None else None,
                    root_id=root,
                    depth=depth,
                    status=status,
                    shadow=False,
                    author_name=spec.get("name", "Reader"),
                    author_website=spec.get("website"),
                    reader_id=None,
                    text=spec["text"],
                    html=render_markdown(spec["text"]),
                    created_at=self.now - dt.timedelta(minutes=spec.get("minutes_ago", 60)),
                    likes=spec.get("likes", 0),
                    dislikes=0,
                    flag_count=0,
                    toxicity=None,
                    moderation=None,
                )
                ids.append(cid)
                meta.append((depth, root))
                visible += status == CommentStatus.PUBLISHED
            thread_store.bump(conn, thread_id, count_delta=visible, last_comment_at=self.now)
        return ids


@pytest.fixture
def seed(services: Services, site: Site) -> Seeder:
    return Seeder(services, site)
