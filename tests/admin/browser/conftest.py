"""Browser tests of the moderator pages: Debian chromium driven by Playwright (never
`playwright install`), against a real uvicorn server (tests/conftest.py's ``live_server``) that
also serves the demo article with the widget, so a decision can be checked where readers see
it. SQLite only: these test the pages, not the databases."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.admin.conftest import PASSWORD
from tests.conftest import LiveServer, make_test_settings
from townhall.demo.seed import seed_demo
from townhall.domain import accounts
from townhall.domain.services import Services
from townhall.domain.sites import Site, create_site
from townhall.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
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
# The demo discussion has two rude comments; these words hold them for review when it is
# seeded (the toxicity model may not be installed, a word list always is).
DEMO_POLICY = {
    "suspect_words": ["idiot*", "moron*", "brain-dead"],
    "rate_burst": 1000,
    "rate_sustained": 10000,
    # The model scores every comment (for the dashboard) but holds only the blatant: which
    # comments wait must not depend on the model's version.
    "toxicity_nudge": None,
    "toxicity_hold": 0.95,
    "toxicity_reject": None,
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Per module, not per session: Playwright's sync API keeps an event loop running in this
    thread while it is open, and async tests collected after it could not start theirs."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """`new_page(**context_options)` -> a page whose script errors land in page.errors."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        ctx = browser.new_context(**options)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10_000)
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                page.errors.append(f"console.{msg.type}: {msg.text} at {msg.location}")
                if msg.type == "error" and "favicon" not in (msg.location or {}).get("url", "")
                else None
            ),
        )
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"admin-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'townhall.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_test_settings(tmp_path, database_url, demo=True)


@pytest.fixture
def demo_site(services: Services, live_server: LiveServer) -> Site:
    """The demo site and its seeded discussion, allowing the live server's origin."""
    site = create_site(
        services.db,
        key="demo",
        name="The Riverside Courier",
        origins=[live_server.url],
        policy=DEMO_POLICY,
    )
    assert seed_demo(services.settings, services.db, origins=[live_server.url]) > 10
    services.sites.forget()
    return site


@pytest.fixture
def admin(services: Services, demo_site: Site) -> accounts.User:
    return accounts.create_user(
        services.db, email="admin@example.org", password=PASSWORD, role="admin"
    )


def sign_in(page: Any, base: str, email: str = "admin@example.org", to: str = "/admin/") -> None:
    page.goto(base + to)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + to)
