"""Shared fixtures: real SQLite and PostgreSQL databases, the app over httpx's ASGI transport,
and a real uvicorn server on a loopback socket.

PostgreSQL: ``TOWNHALL_TEST_PG`` (default postgresql://postgres@127.0.0.1:5432/postgres) must
reach a server where we may create databases. Without one the PostgreSQL runs skip with the
reason, except under CI (``CI=true``), where they fail: CI must run them."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from townhall.app import create_app
from townhall.domain.services import Services
from townhall.domain.sites import Site, create_site
from townhall.settings import Settings, load_settings

PG_ADMIN = os.environ.get("TOWNHALL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ORIGIN = "https://news.example"
# API tests check mechanics, not judgement: no rate limits, no model (moderation tests set
# their own policies).
RELAXED_LIMITS = {
    "rate_burst": 100000,
    "rate_sustained": 100000,
    "thread_rate": 0,
    "toxicity_nudge": None,
    "toxicity_hold": None,
}


def _pg_reason() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN} ({exc.__class__.__name__}: {exc})"
    return None


class PgTemplates:
    """Migrate once into a template database; every test gets a fresh copy of it (fast)."""

    def __init__(self) -> None:
        self.template: str | None = None
        self.created: list[str] = []

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(PG_ADMIN, autocommit=True)

    def _url(self, name: str) -> str:
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/{name}"

    def new_database(self, *, migrated: bool = True) -> str:
        name = f"townhall_test_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            if migrated:
                if self.template is None:
                    self.template = f"townhall_tpl_{uuid.uuid4().hex[:12]}"
                    conn.execute(f'CREATE DATABASE "{self.template}"')
                    self.created.append(self.template)
                    from townhall.store.database import Database

                    db = Database(self._url(self.template))
                    db.migrate()
                    db.dispose()
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            else:
                conn.execute(f'CREATE DATABASE "{name}"')
        self.created.insert(0, name)
        return self._url(name)

    def drop_all(self) -> None:
        with self._admin() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture(scope="session")
def pg() -> Iterator[PgTemplates]:
    reason = _pg_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    templates = PgTemplates()
    yield templates
    templates.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'townhall.db'}"
    templates: PgTemplates = request.getfixturevalue("pg")
    return templates.new_database()


def make_test_settings(tmp_path: Path, database_url: str, **more: Any) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "data_dir": tmp_path,
            "database_url": database_url,
            "secret_key": "test-secret-key-0123456789",
            # Request limits are off unless a test turns them on (tests post fast from one IP).
            "rate_limit_reads": 0,
            "rate_limit_writes": 0,
            **more,
        },
    )


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_test_settings(tmp_path, database_url)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = Services.from_settings(settings)
    svc.db.migrate()
    yield svc
    svc.db.dispose()


@pytest.fixture
def site(services: Services) -> Site:
    # Rate limits are relaxed so tests can post quickly; their own tests set them tight.
    return create_site(
        services.db, key="news", name="News", origins=[ORIGIN], policy=RELAXED_LIMITS
    )


@contextlib.asynccontextmanager
async def app_client(settings: Settings, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, services=services)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def client(
    settings: Settings, services: Services, site: Site
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, services) as c:
        yield c


class LiveServer:
    """A real uvicorn server on a free loopback port, in a background thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # open event streams would otherwise hold the shutdown until they end
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", timeout_graceful_shutdown=3
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture
def live_server(settings: Settings, services: Services, site: Site) -> Iterator[LiveServer]:
    app = create_app(settings, services=services)
    with LiveServer(app) as server:
        yield server


def comment_body(text: str = "A thoughtful comment.", **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "site": "news",
        "thread": "/2026/11/story",
        "text": text,
        "author": {"name": "Ann", "email": "ann@example.org"},
        "thread_title": "A story",
        "thread_url": ORIGIN + "/2026/11/story",
    }
    body.update(more)
    return body
