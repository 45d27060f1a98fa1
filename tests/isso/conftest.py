"""Fixtures for the Isso-compatible API: Isso's own client (``embed.min.js`` from the ``isso``
package, a test dependency, unmodified), a publisher page on another origin that loads it,
and Debian chromium through Playwright (never ``playwright install``).

The browser fixture is module-scoped on purpose: Playwright's sync API keeps an event loop
running while it is started, and every async test after it would fail."""

from __future__ import annotations

import http.server
import importlib.util
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


def isso_embed_js() -> Path:
    """``isso/js/embed.min.js`` of the installed ``isso`` package (found without importing
    it: the client is all we use)."""
    spec = importlib.util.find_spec("isso")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "js" / "embed.min.js"
        if path.is_file():
            return path
    message = "the isso package is not installed: pip install -e '.[test]'"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        message = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def screenshot(target: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    target.screenshot(path=str(path))
    return path


class PublisherSite:
    """A publisher's site on its own port: article pages plus its own copy of Isso's
    embed.min.js. On ``127.0.0.1`` it is another origin than the API but the same site (as
    www.news.example and comments.news.example are); on ``localhost`` another site."""

    def __init__(self, embed_js: bytes, host: str = "127.0.0.1") -> None:
        pages: dict[str, bytes] = {"/js/embed.min.js": embed_js}
        self.pages = pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0].split("#")[0]
                body = pages.get(path)
                if body is None:
                    self.send_error(404)
                    return
                kind = "text/javascript" if path.endswith(".js") else "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.origin = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def article(self, path: str, endpoint: str, *, title: str = "A story", extra: str = "") -> str:
        """An article that embeds Isso exactly as Isso's docs say, `data-isso` pointing at
        ``endpoint``; a link to its own thread gets Isso's comment count."""
        html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="icon" href="data:,"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem">
<article><h1>{title}</h1><p>The article's text.</p>
<p><a id="count" href="{path}#isso-thread">Comments</a></p>{extra}</article>
<section id="isso-thread" data-title="{title}"></section>
<script data-isso="{endpoint}" data-isso-lang="en" src="/js/embed.min.js"></script>
</body></html>"""
        self.pages[path] = html.encode()
        return self.origin + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def publisher() -> Iterator[PublisherSite]:
    site = PublisherSite(isso_embed_js().read_bytes())
    yield site
    site.close()


@pytest.fixture
def other_site_publisher() -> Iterator[PublisherSite]:
    site = PublisherSite(isso_embed_js().read_bytes(), host="localhost")
    yield site
    site.close()
