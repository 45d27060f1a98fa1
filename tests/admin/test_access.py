"""Every /admin route and every moderation API route refuses anonymous users, refuses a
moderator of another site, and refuses a change without a valid CSRF token (issue 5).

The table below must name every route of ``admin_routes()`` and ``moderation_api_routes()``:
a new route without an entry fails ``test_every_route_is_classified``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from tests.admin.conftest import HOLD_WORD, PASSWORD, Signed, SignIn, policy_form
from townhall.domain import accounts, moderation
from townhall.domain.services import Services
from townhall.domain.sites import Site
from townhall.web.admin import admin_routes
from townhall.web.moderation_api import moderation_api_routes

PUBLIC = "public"  # the sign-in form
SELF = "self"  # one's own account: any signed-in user
LISTING = "listing"  # lists: a moderator sees only their sites; ?site=<not theirs> is a 403
SCOPED = "scoped"  # one site's comment, thread, ban, policy: its moderators and admins only
ADMIN = "admin"  # admins only


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # as declared, with {params}
    kind: str
    body: dict[str, Any] | None = None

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def unsafe(self) -> bool:
        return self.method not in ("GET", "HEAD")


A = "/admin"
M = "/api/v1/moderation"
CASES = [
    Case("GET", f"{A}/", LISTING),
    Case("GET", f"{A}/login", PUBLIC),
    Case("POST", f"{A}/login", PUBLIC),
    Case("POST", f"{A}/logout", SELF),
    Case("GET", f"{A}/password", SELF),
    Case("POST", f"{A}/password", SELF,
         {"current": PASSWORD, "new": "n" * 12, "confirm": "n" * 12}),
    Case("GET", f"{A}/queue", LISTING),
    Case("GET", f"{A}/queue/{{name}}", LISTING),
    Case("POST", f"{A}/comments/bulk", SCOPED, {"action": "approve", "ids": "{comment}"}),
    Case("GET", f"{A}/comments/{{id:int}}/edit", SCOPED),
    Case("POST", f"{A}/comments/{{id:int}}/edit", SCOPED, {"text": "edited text"}),
    Case("GET", f"{A}/comments/{{id:int}}/author", SCOPED),
    Case("POST", f"{A}/comments/{{id:int}}/author/notes", SCOPED, {"note": "a note"}),
    Case("POST", f"{A}/comments/{{id:int}}/ban", SCOPED,
         {"kind": "reader", "reason": "r", "hours": ""}),
    Case("POST", f"{A}/comments/{{id:int}}/{{action}}", SCOPED, {"reason": "r"}),
    Case("GET", f"{A}/threads/{{id:int}}", SCOPED),
    Case("POST", f"{A}/threads/{{id:int}}/{{action}}", SCOPED, {"reason": "r"}),
    Case("GET", f"{A}/bans", LISTING),
    Case("POST", f"{A}/bans", SCOPED,
         {"kind": "email", "value": "x@example.org", "site": "news", "reason": "r", "hours": ""}),
    Case("POST", f"{A}/bans/{{id:int}}/lift", SCOPED, {"reason": "r"}),
    Case("GET", f"{A}/sites", LISTING),
    Case("GET", f"{A}/sites/{{key}}", SCOPED),
    Case("POST", f"{A}/sites/{{key}}", SCOPED, {"premoderation": "1"}),
    Case("GET", f"{A}/log", LISTING),
    Case("GET", f"{A}/users", ADMIN),
    Case("POST", f"{A}/users", ADMIN,
         {"email": "new@example.org", "password": PASSWORD, "role": "admin"}),
    Case("POST", f"{A}/users/{{id}}", ADMIN, {"role": "admin"}),
    Case("POST", f"{A}/users/{{id}}/delete", ADMIN),
    Case("POST", f"{A}/users/{{id}}/unlock", ADMIN),
    Case("POST", f"{A}/users/{{id}}/tokens", ADMIN, {"name": "stolen"}),
    Case("POST", f"{A}/tokens/{{id}}/revoke", ADMIN),
    Case("GET", f"{M}/me", SELF),
    Case("GET", f"{M}/queue", LISTING),
    Case("GET", f"{M}/counts", LISTING),
    Case("GET", f"{M}/log", LISTING),
    Case("GET", f"{M}/bans", LISTING),
    Case("POST", f"{M}/bans", SCOPED, {"kind": "reader", "reason": "r", "comment_id": "{comment}"}),
    Case("POST", f"{M}/bans/{{id}}/lift", SCOPED, {"reason": "r"}),
    Case("POST", f"{M}/bulk", SCOPED, {"action": "approve", "ids": ["{comment}"]}),
    Case("PATCH", f"{M}/comments/{{id}}", SCOPED, {"text": "edited text"}),
    Case("GET", f"{M}/comments/{{id}}/author", SCOPED),
    Case("POST", f"{M}/comments/{{id}}/author/notes", SCOPED, {"note": "a note"}),
    Case("POST", f"{M}/comments/{{id}}/{{action}}", SCOPED, {"reason": "r"}),
    Case("GET", f"{M}/sites/{{key}}/policy", SCOPED),
    Case("PATCH", f"{M}/sites/{{key}}/policy", SCOPED, {"changes": {"premoderation": True}}),
    Case("PUT", f"{M}/threads/{{id}}/premoderation", SCOPED, {"enabled": True}),
    Case("POST", f"{M}/threads/{{id}}/{{action}}", SCOPED, {"reason": "r"}),
]  # fmt: skip


@dataclass
class World:
    comment: str
    thread: int
    ban: int
    user: int
    token: int


@pytest.fixture
def world(
    services: Services,
    held: dict[str, Any],
    admin_user: accounts.User,
    moderator: accounts.User,
) -> World:
    comment = held["comment"]["id"]
    history = moderation.reader_history(services, comment)
    thread = history.comments[0].thread.id
    ban = moderation.ban(
        services,
        admin_user.email,
        kind="email",
        value="spammer@example.org",
        site="news",
        reason="spam",
        until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    token, _ = accounts.create_token(services.db, admin_user, moderator.id, "bot")
    return World(comment=comment, thread=thread, ban=ban.id, user=moderator.id, token=token.id)


def url(case: Case, w: World, query: str = "") -> str:
    path = case.path
    ident = {
        "comments": w.comment,
        "threads": w.thread,
        "bans": w.ban,
        "users": w.user,
        "tokens": w.token,
    }
    for noun, value in ident.items():
        for param in ("{id:int}", "{id}"):
            path = path.replace(f"/{noun}/{param}", f"/{noun}/{value}")
    action = "close" if "/threads/" in path else "approve"
    path = path.replace("{action}", action).replace("{name}", "pending").replace("{key}", "news")
    assert "{" not in path, path
    return path + query


def body(case: Case, w: World) -> dict[str, Any] | None:
    if case.body is None:
        return None

    def fill(value: Any) -> Any:
        if value == "{comment}":
            return w.comment
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return {k: fill(v) for k, v in case.body.items()}


async def send(
    who: Signed | Any, case: Case, w: World, *, csrf: str | None, query: str = ""
) -> Any:
    client = who.client if isinstance(who, Signed) else who
    target = url(case, w, query)
    data = body(case, w)
    if case.api:
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        return await client.request(case.method, target, json=data, headers=headers)
    if not case.unsafe:
        return await client.get(target)
    form = dict(data or {})
    if csrf:
        form["csrf_token"] = csrf
    return await client.post(target, data=form)


def assert_unchanged(services: Services, w: World, admin_user: accounts.User) -> None:
    """None of the refused requests changed anything."""
    item = moderation.reader_history(services, w.comment).comments[0]
    assert item.status == "pending" and item.text.startswith("This")
    bans = moderation.list_bans(services, sites=["news"])
    assert [b.id for b in bans] == [w.ban]
    users = {u.email: u for u in accounts.list_users(services.db)}
    assert "new@example.org" not in users
    assert [u.email for u in users.values() if u.is_admin] == [admin_user.email]
    assert users["mod@example.org"].session_version == 1
    assert moderation.get_policy(services, "news").premoderation is False
    assert [t for t in accounts.list_tokens(services.db, admin_user) if t.revoked_at is None]


def test_every_route_is_classified() -> None:
    declared = set()
    for route in [*admin_routes()]:
        for method in route.methods - {"HEAD"}:
            declared.add((method, A + route.path.rstrip("/") + ("/" if route.path == "/" else "")))
    for route in moderation_api_routes():
        for method in route.methods - {"HEAD"}:
            declared.add((method, route.path))
    classified = {(c.method, c.path) for c in CASES}
    assert declared == classified


async def test_anonymous_is_refused_everywhere(
    client: Any, services: Services, world: World, admin_user: accounts.User
) -> None:
    for case in CASES:
        if case.kind == PUBLIC:
            continue
        r = await send(client, case, world, csrf=None)
        where = f"{case.method} {case.path}"
        if case.api:
            assert r.status_code == 401, where
            assert r.json()["error"]["code"] == "unauthorized", where
        elif case.unsafe:
            assert r.status_code == 401, where
            assert HOLD_WORD not in r.text, where
        else:
            assert r.status_code == 303, where
            assert r.headers["location"].startswith("/admin/login?next="), where
    # A token that is not one (or a scheme that is not Bearer) is a 401 too.
    for header in ("Bearer th_nope", "Basic YWRtaW46cGFzcw==", "Bearer "):
        r = await client.get(f"{M}/queue", headers={"Authorization": header})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    assert_unchanged(services, world, admin_user)


async def test_a_moderator_of_another_site_is_refused(
    as_outsider: Signed, services: Services, world: World, admin_user: accounts.User
) -> None:
    for case in CASES:
        if case.kind in (PUBLIC, SELF) or case.path.endswith("/logout"):
            continue
        where = f"{case.method} {case.path}"
        r = await send(as_outsider, case, world, csrf=as_outsider.csrf)
        if case.kind in (SCOPED, ADMIN):
            assert r.status_code == 403, (where, r.status_code, r.text[:300])
            if case.api:
                assert r.json()["error"]["code"] in ("not_your_site", "admin_only"), where
        else:  # a listing: their own sites only
            assert r.status_code in (200, 303), where
            assert HOLD_WORD not in r.text, where
            if case.api and "queue" in case.path:
                assert r.json()["items"] == []
            if case.path.endswith("/counts"):
                assert r.json() == {"pending": 0, "flagged": 0}
            # ... and asking for the other site by name is refused.
            if case.path not in (f"{A}/sites", f"{A}/queue"):
                r = await send(as_outsider, case, world, csrf=as_outsider.csrf, query="?site=news")
                assert r.status_code == 403, where
    assert_unchanged(services, world, admin_user)


async def test_a_moderator_may_not_do_an_admins_work(
    as_moderator: Signed, services: Services, world: World, admin_user: accounts.User
) -> None:
    for case in CASES:
        if case.kind != ADMIN:
            continue
        r = await send(as_moderator, case, world, csrf=as_moderator.csrf)
        assert r.status_code == 403, f"{case.method} {case.path}"
    # Nor ban on every site, nor change the site's origins.
    r = await as_moderator.api(
        "POST", f"{M}/bans", {"kind": "reader", "reason": "r", "comment_id": world.comment,
                              "all_sites": True}
    )  # fmt: skip
    assert r.status_code == 403 and r.json()["error"]["code"] == "admin_only"
    form = policy_form(services, "news")
    form.update(origins="https://evil.example", name="Pwned", edit_window="1")
    r = await as_moderator.form("/admin/sites/news", form)
    assert r.status_code == 303
    site = services.sites.get("news")
    assert site.origins == ("https://news.example",) and site.name == "News"
    assert_unchanged(services, world, admin_user)


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_changes_need_the_csrf_token(
    as_admin: Signed,
    services: Services,
    world: World,
    admin_user: accounts.User,
    site: Site,
    token: str | None,
) -> None:
    for case in CASES:
        if not case.unsafe or case.kind == PUBLIC:
            continue
        where = f"{case.method} {case.path}"
        r = await send(as_admin, case, world, csrf=token)
        assert r.status_code == 403, (where, r.status_code)
        if case.api:
            assert r.json()["error"]["code"] == "csrf", where
        else:
            assert "CSRF" in r.text, where
    assert (await as_admin.client.get("/admin/")).status_code == 200  # still signed in
    assert_unchanged(services, world, admin_user)


async def test_the_csrf_token_of_another_session_does_not_work(
    signed_in: SignIn, services: Services, world: World, admin_user: accounts.User
) -> None:
    mine = await signed_in(admin_user)
    theirs = await signed_in(admin_user)
    case = next(c for c in CASES if c.path.endswith("/{action}") and not c.api)
    r = await send(mine, case, world, csrf=theirs.csrf)
    assert r.status_code == 403
    assert_unchanged(services, world, admin_user)


async def test_a_form_post_of_another_content_type_is_refused(
    as_admin: Signed, world: World
) -> None:
    r = await as_admin.client.post(
        f"/admin/comments/{world.comment}/approve",
        json={"csrf_token": as_admin.csrf},
        headers={"X-CSRF-Token": as_admin.csrf},
    )
    assert r.status_code == 415
