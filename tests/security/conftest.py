"""Shared pieces of the security tests (issue 8). The databases, the app over ASGI and the
live uvicorn server come from tests/conftest.py; the long-run harness lives in security/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ORIGIN, PG_ADMIN, PgTemplates
from townhall.domain.services import Services
from townhall.domain.sites import Site, create_site

# No moderation checks and no per-reader limits: every payload is published and rendered, so
# the renderer and the widget meet all of it (holding a payload would hide it from the test).
OPEN_POLICY: dict[str, Any] = {
    "checks": [],
    "rate_burst": 1_000_000,
    "rate_sustained": 1_000_000,
    "thread_rate": 0,
}


def open_site(services: Services, key: str = "xss", origins: tuple[str, ...] = (ORIGIN,)) -> Site:
    return create_site(
        services.db, key=key, name=key.upper(), origins=list(origins), policy=OPEN_POLICY
    )


def quick_commits(url: str) -> None:
    """Commit without waiting for the disk on this test database: these tests post thousands
    of comments and none of them is about PostgreSQL surviving a power cut (the kill loop,
    which kills townhall and not PostgreSQL, keeps the server's defaults)."""
    import psycopg

    name = make_url(url).database
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'townhall.db'}"
    templates: PgTemplates = request.getfixturevalue("pg")
    url = templates.new_database()
    quick_commits(url)
    return url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian chromium with the browser tests' flags; per module, so that Playwright's event
    loop is not left running under the async tests that follow (tests/admin/browser does the
    same)."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
