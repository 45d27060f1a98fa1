"""Signing in and out through the real pages: argon2 passwords, cookie flags, CSRF on the
sign-in form, lockout, password change and sign-out everywhere, safe redirects."""

from __future__ import annotations

import dataclasses
import re

import httpx
import pytest

from tests.admin.conftest import CSRF_FIELD, PASSWORD, SignIn, sign_in
from tests.conftest import app_client
from townhall.domain import accounts
from townhall.domain.services import Services
from townhall.settings import Settings
from townhall.store.schema import users


async def _login_form(client: httpx.AsyncClient) -> str:
    page = await client.get("/admin/login")
    found = CSRF_FIELD.search(page.text)
    assert found is not None
    return found.group(1)


async def test_anonymous_is_sent_to_the_sign_in_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/admin/queue/pending?site=news")
    assert r.status_code == 303
    assert r.headers["location"] == "/admin/login?next=%2Fadmin%2Fqueue%2Fpending%3Fsite%3Dnews"
    page = await client.get(r.headers["location"])
    assert page.status_code == 200
    assert 'name="next" value="/admin/queue/pending?site=news"' in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_password_is_stored_as_argon2id(
    services: Services, admin_user: accounts.User
) -> None:
    with services.db.read() as conn:
        stored = conn.execute(users.select()).mappings().one()["password_hash"]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_sign_in_sets_a_hardened_cookie_and_lands_on_next(
    client: httpx.AsyncClient, admin_user: accounts.User
) -> None:
    token = await _login_form(client)
    r = await client.post(
        "/admin/login",
        data={
            "csrf_token": token,
            "email": "ADMIN@example.org ",
            "password": PASSWORD,
            "next": "/admin/queue/flagged",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/queue/flagged"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("townhall_admin=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the HTTPS test
    page = await client.get("/admin/queue/flagged")
    assert page.status_code == 200 and "admin@example.org" in page.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/api/v1/x"])
async def test_next_never_leaves_the_admin(
    client: httpx.AsyncClient, admin_user: accounts.User, target: str
) -> None:
    token = await _login_form(client)
    r = await client.post(
        "/admin/login",
        data={"csrf_token": token, "email": admin_user.email, "password": PASSWORD, "next": target},
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/"


async def test_cookie_is_secure_behind_https(
    settings: Settings, services: Services, admin_user: accounts.User
) -> None:
    app_ctx = app_client(settings, services)
    async with app_ctx as plain:
        https = httpx.AsyncClient(transport=plain._transport, base_url="https://testserver")
        async with https:
            token = await _login_form(https)
            r = await https.post(
                "/admin/login",
                data={"csrf_token": token, "email": admin_user.email, "password": PASSWORD},
            )
            assert r.status_code == 303
            assert "Secure" in r.headers["set-cookie"]


@pytest.mark.parametrize(
    ("trusted", "proto", "secure"),
    [
        (True, "https", True),  # a TLS proxy in front says so
        (True, "https, http", False),  # the client wrote "https"; the proxy appended "http"
        (True, "http, https", True),
        (False, "https", False),  # nobody vouches for the header
    ],
)
async def test_cookie_is_secure_behind_a_tls_proxy(
    settings: Settings,
    services: Services,
    trusted: bool,
    proto: str,
    secure: bool,
) -> None:
    """Behind a trusted proxy the scheme is the proxy's own X-Forwarded-Proto entry, the last,
    as the address is the last X-Forwarded-For entry: what comes before it, the client wrote."""
    settings = dataclasses.replace(settings, trust_forwarded_for=trusted)
    services = Services(settings=settings, db=services.db, hasher=services.hasher)
    async with app_client(settings, services) as client:
        # the sign-in form starts a session (for its CSRF token): its cookie says
        r = await client.get("/admin/login", headers={"X-Forwarded-Proto": proto})
        assert r.status_code == 200
        assert ("Secure" in r.headers["set-cookie"]) is secure


async def test_sign_in_form_needs_its_csrf_token(
    client: httpx.AsyncClient, admin_user: accounts.User
) -> None:
    await _login_form(client)  # has a pre-sign-in session, but sends no token
    r = await client.post("/admin/login", data={"email": admin_user.email, "password": PASSWORD})
    assert r.status_code == 403
    assert "expired" in r.text
    assert (await client.get("/admin/")).status_code == 303  # still signed out


async def test_token_from_before_sign_in_does_not_work_after(
    client: httpx.AsyncClient, admin_user: accounts.User
) -> None:
    before = await _login_form(client)
    after = await sign_in(client, admin_user.email)
    assert before != after  # a new CSRF secret at sign-in: no session fixation
    r = await client.post("/admin/logout", data={"csrf_token": before})
    assert r.status_code == 403


async def test_wrong_password_then_lockout(
    client: httpx.AsyncClient, services: Services, moderator: accounts.User
) -> None:
    token = await _login_form(client)
    for attempt in range(1, accounts.MAX_FAILURES + 1):
        r = await client.post(
            "/admin/login",
            data={"csrf_token": token, "email": moderator.email, "password": f"wrong {attempt}"},
        )
        if attempt < accounts.MAX_FAILURES:
            assert r.status_code == 401
            assert "wrong email or password" in r.text
    assert r.status_code == 403 and "locked for 15 more minutes" in r.text
    # Locked: even the right password is refused, and says why.
    r = await client.post(
        "/admin/login",
        data={"csrf_token": token, "email": moderator.email, "password": PASSWORD},
    )
    assert r.status_code == 403 and "locked" in r.text
    # An unknown email fails exactly like a wrong password (no account enumeration).
    r = await client.post(
        "/admin/login",
        data={"csrf_token": token, "email": "nobody@example.org", "password": PASSWORD},
    )
    assert r.status_code == 401 and "wrong email or password" in r.text
    accounts.unlock(services.db, "test", moderator.id)
    assert await sign_in(client, moderator.email)


async def test_a_right_password_resets_the_failure_count(
    client: httpx.AsyncClient, services: Services, moderator: accounts.User
) -> None:
    token = await _login_form(client)
    for _ in range(accounts.MAX_FAILURES - 1):
        await client.post(
            "/admin/login",
            data={"csrf_token": token, "email": moderator.email, "password": "nope nope nope"},
        )
    await sign_in(client, moderator.email)
    user = accounts.get_user(services.db, moderator.id)
    assert user is not None and user.failed_logins == 0 and user.locked_until is None


async def test_logout(signed_in: SignIn, admin_user: accounts.User) -> None:
    me = await signed_in(admin_user)
    r = await me.form("/admin/logout")
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    assert 'townhall_admin=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert (await me.client.get("/admin/")).status_code == 303
    page = await me.client.get("/admin/login")
    assert "You are signed out." in page.text


async def test_password_change_ends_other_sessions(
    signed_in: SignIn, admin_user: accounts.User
) -> None:
    laptop = await signed_in(admin_user)
    phone = await signed_in(admin_user)
    r = await laptop.form("/admin/password", {"current": "bad", "new": "x" * 12, "confirm": "x"})
    assert r.status_code == 422 and "the new passwords differ" in r.text
    r = await laptop.form(
        "/admin/password", {"current": "bad guess here", "new": "n" * 12, "confirm": "n" * 12}
    )
    assert r.status_code == 422 and "current password is wrong" in r.text
    r = await laptop.form(
        "/admin/password", {"current": PASSWORD, "new": "short", "confirm": "short"}
    )
    assert r.status_code == 422 and "at least 10 characters" in r.text
    new = "a much better passphrase"
    r = await laptop.form("/admin/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert r.status_code == 303
    assert (await laptop.client.get("/admin/")).status_code == 200  # this session goes on
    assert (await phone.client.get("/admin/")).status_code == 303  # the other one ended
    assert await sign_in(phone.client, admin_user.email, new)


async def test_sign_out_everywhere(signed_in: SignIn, admin_user: accounts.User) -> None:
    one = await signed_in(admin_user)
    two = await signed_in(admin_user)
    r = await one.form("/admin/logout", {"everywhere": "1"})
    assert r.status_code == 303
    assert (await two.client.get("/admin/")).status_code == 303


async def test_a_forged_or_foreign_cookie_is_refused(
    settings: Settings, services: Services, signed_in: SignIn, admin_user: accounts.User
) -> None:
    me = await signed_in(admin_user)
    value = me.client.cookies["townhall_admin"]
    payload, _, signature = value.rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    async with app_client(settings, services) as other:
        other.cookies.set("townhall_admin", forged)
        assert (await other.get("/admin/")).status_code == 303
        other.cookies.set("townhall_admin", value)
        assert (await other.get("/admin/")).status_code == 200  # the real one works anywhere


async def test_deleted_account_session_ends(
    signed_in: SignIn, services: Services, admin_user: accounts.User, moderator: accounts.User
) -> None:
    mod = await signed_in(moderator)
    accounts.delete_user(services.db, admin_user, moderator.id)
    assert (await mod.client.get("/admin/")).status_code == 303
    r = await mod.api("GET", "/api/v1/moderation/queue")
    assert r.status_code == 401


async def test_login_page_escapes_the_email(
    client: httpx.AsyncClient, admin_user: accounts.User
) -> None:
    token = await _login_form(client)
    payload = '"><script>alert(1)</script>@x.y'
    r = await client.post(
        "/admin/login", data={"csrf_token": token, "email": payload, "password": "whatever"}
    )
    assert r.status_code == 401
    assert "<script>alert(1)</script>" not in r.text
    assert re.search(r"&#34;&gt;&lt;script&gt;|&quot;&gt;&lt;script&gt;", r.text)
