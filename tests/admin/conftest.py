"""Fixtures for the moderator pages and the moderation API: accounts, signed-in HTTP clients
(real requests through the ASGI app, cookies and CSRF tokens as a browser sends them), and a
few comments in known states."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import ORIGIN, RELAXED_LIMITS, app_client, comment_body
from townhall.domain import accounts
from townhall.domain.services import Services
from townhall.domain.sites import Site, create_site, update_site
from townhall.settings import Settings

PASSWORD = "correct horse battery staple"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Signed:
    """An HTTP client with a moderator session, and that session's CSRF token."""

    client: httpx.AsyncClient
    csrf: str
    user: accounts.User

    async def form(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = {"csrf_token": self.csrf, **(data or {})}
        return await self.client.post(path, data=body, **kw)

    async def api(self, method: str, path: str, json: Any = None) -> Any:
        headers = {"X-CSRF-Token": self.csrf}
        return await self.client.request(method, path, json=json, headers=headers)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    page = await client.get("/admin/login")
    assert page.status_code == 200
    token = CSRF_FIELD.search(page.text)
    assert token is not None
    r = await client.post(
        "/admin/login",
        data={"csrf_token": token.group(1), "email": email, "password": password, "next": ""},
    )
    assert r.status_code == 303, r.text
    home = await client.get("/admin/")
    assert home.status_code == 200, home.text
    found = CSRF_META.search(home.text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def other_site(services: Services) -> Site:
    return create_site(
        services.db,
        key="other",
        name="Other",
        origins=["https://other.example"],
        policy=RELAXED_LIMITS,
    )


def make_user(services: Services, email: str, role: str, sites: list[str]) -> accounts.User:
    return accounts.create_user(
        services.db, email=email, password=PASSWORD, role=role, site_keys=sites
    )


@pytest.fixture
def admin_user(services: Services, site: Site) -> accounts.User:
    return make_user(services, "admin@example.org", "admin", [])


@pytest.fixture
def moderator(services: Services, site: Site) -> accounts.User:
    return make_user(services, "mod@example.org", "moderator", ["news"])


@pytest.fixture
def outsider(services: Services, other_site: Site) -> accounts.User:
    """A moderator of another site than the one the comments are on."""
    return make_user(services, "outsider@example.org", "moderator", ["other"])


SignIn = Callable[[accounts.User], Awaitable[Signed]]


@pytest.fixture
async def signed_in(settings: Settings, services: Services, site: Site) -> AsyncIterator[SignIn]:
    """`await signed_in(user)` -> a new client signed in as that user."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(user: accounts.User) -> Signed:
            client = await stack.enter_async_context(app_client(settings, services))
            return Signed(client, await sign_in(client, user.email), user)

        yield make


@pytest.fixture
async def as_admin(signed_in: SignIn, admin_user: accounts.User) -> Signed:
    return await signed_in(admin_user)


@pytest.fixture
async def as_moderator(signed_in: SignIn, moderator: accounts.User) -> Signed:
    return await signed_in(moderator)


@pytest.fixture
async def as_outsider(signed_in: SignIn, outsider: accounts.User) -> Signed:
    return await signed_in(outsider)


# --- comments ------------------------------------------------------------------------------


HOLD_WORD = "bypassgate"


@pytest.fixture
def holding_site(services: Services, site: Site) -> Site:
    """The news site holds comments containing HOLD_WORD (a suspect word: deterministic,
    unlike the toxicity model)."""
    changed = update_site(services.db, "news", policy_changes={"suspect_words": [HOLD_WORD]})
    services.sites.forget("news")  # the site may be cached already (by a signed-in page)
    return changed


async def post(client: httpx.AsyncClient, text: str, **more: Any) -> dict[str, Any]:
    reader = more.pop("reader", None)
    headers = {"Origin": ORIGIN}
    if reader:
        headers["X-Townhall-Reader"] = reader
    r = await client.post("/api/v1/comments", json=comment_body(text, **more), headers=headers)
    assert r.status_code in (201, 202), r.text
    data: dict[str, Any] = r.json()
    return data


@pytest.fixture
async def held(client: httpx.AsyncClient, holding_site: Site) -> dict[str, Any]:
    """A held comment on the news site (the answer of POST /api/v1/comments)."""
    data = await post(client, f"This {HOLD_WORD} story is a scandal.")
    assert data["status"] == "pending"
    return data


async def reader_view(client: httpx.AsyncClient, reader: str | None = None) -> dict[str, Any]:
    headers = {"X-Townhall-Reader": reader} if reader else {}
    r = await client.get(
        "/api/v1/comments", params={"site": "news", "thread": "/2026/11/story"}, headers=headers
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def policy_form(services: Services, key: str) -> dict[str, Any]:
    """The site settings form as the page fills it in, for the site's current policy."""
    from townhall.domain import moderation
    from townhall.web.admin.site_pages import FIELDS

    policy = moderation.get_policy(services, key).to_json()
    form: dict[str, Any] = {}
    for field in FIELDS:
        value = policy[field.name]
        if field.kind == "bool":
            if value:
                form[field.name] = "1"
        elif field.kind == "words":
            form[field.name] = "\n".join(value)
        else:
            form[field.name] = "" if value is None else str(value)
    return form
