"""The authorization matrix (issue 8): every route of the app, each identity, who succeeds.

Identities: anonymous; a reader holding their own edit token (used on someone else's comment);
a moderator of another site; a moderator of the site; an admin. For the reader API and the
Isso API the author (with their own edit token or cookie) is the only one who may change a
comment, staff included (staff act through the moderation API); tampered, foreign and expired
tokens and cookies fail. For the moderator pages and the moderation API (the route table and
request helpers of tests/admin/test_access.py, which checks the refusals in detail) every case
is also run for the identities that should succeed, each on fresh data. Session cookies that
are tampered, idle-expired, too old or from before a password change fail; so do revoked API
tokens; every state-changing form and API call needs the session's CSRF token; and a write
from another site's page (Origin) is refused everywhere."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import update
from starlette.routing import Mount

from tests.admin.conftest import CSRF_META, HOLD_WORD, Signed, make_user, policy_form, sign_in
from tests.admin.test_access import ADMIN, CASES, LISTING, PUBLIC, SCOPED, SELF, Case, World
from tests.admin.test_access import send as send_case
from tests.conftest import ORIGIN, RELAXED_LIMITS, app_client, make_test_settings
from townhall.app import create_app
from townhall.domain import accounts, moderation
from townhall.domain import comments as comment_domain
from townhall.domain.identity import Reader, token_hash
from townhall.domain.services import Services
from townhall.domain.sites import create_site
from townhall.settings import Settings
from townhall.store.schema import comments
from townhall.web.admin import session as sessions

EVERYONE = "everyone"  # reading, posting, voting, flagging, pages, assets
AUTHOR = "author"  # changing a comment: its edit token (reader API) or cookie (Isso API)
SIGNED_LINK = "signed-link"  # a link whose token the server signed (unsubscribe)
STAFF = "staff"  # /admin and /api/v1/moderation: tests/admin/test_access.py's CASES

ROUTES = {
    ("GET", "/api/v1/comments"): EVERYONE,
    ("POST", "/api/v1/comments"): EVERYONE,
    ("PATCH", "/api/v1/comments/{id}"): AUTHOR,
    ("DELETE", "/api/v1/comments/{id}"): AUTHOR,
    ("POST", "/api/v1/comments/{id}/vote"): EVERYONE,
    ("POST", "/api/v1/comments/{id}/flag"): EVERYONE,
    ("GET", "/api/v1/counts"): EVERYONE,
    ("POST", "/api/v1/counts"): EVERYONE,
    ("POST", "/api/v1/preview"): EVERYONE,
    ("GET", "/api/v1/events"): EVERYONE,
    ("GET", "/api/v1/unsubscribe"): SIGNED_LINK,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/metrics"): EVERYONE,
    ("GET", "/api/openapi.json"): EVERYONE,
    ("GET", "/api/docs"): EVERYONE,
    ("GET", "/embed.js"): EVERYONE,
    ("GET", "/count.js"): EVERYONE,
    ("GET", "/static/{path:path}"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("GET", "/listing"): EVERYONE,
    ("GET", "/isso/{site}/"): EVERYONE,
    ("GET", "/isso/{site}/config"): EVERYONE,
    ("POST", "/isso/{site}/new"): EVERYONE,
    ("POST", "/isso/{site}/count"): EVERYONE,
    ("POST", "/isso/{site}/preview"): EVERYONE,
    ("GET", "/isso/{site}/feed"): EVERYONE,
    ("GET", "/isso/{site}/id/{id:int}"): AUTHOR,
    ("PUT", "/isso/{site}/id/{id:int}"): AUTHOR,
    ("DELETE", "/isso/{site}/id/{id:int}"): AUTHOR,
    ("POST", "/isso/{site}/id/{id:int}/like"): EVERYONE,
    ("POST", "/isso/{site}/id/{id:int}/dislike"): EVERYONE,
    ("GET", "/isso/{site}/css/isso.css"): EVERYONE,
}


def app_routes(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= app_routes(route.routes, prefix + route.path)
        else:
            for method in (route.methods or set()) - {"HEAD"}:
                found.add((method, prefix + route.path))
    return found


def test_every_route_is_classified(tmp_path: Path) -> None:
    """A new route must say who may use it: here, or in tests/admin/test_access.py."""
    settings = make_test_settings(tmp_path, f"sqlite:///{tmp_path / 'r.db'}")
    declared = app_routes(create_app(settings).routes)
    staff = {(c.method, c.path) for c in CASES}
    assert declared == set(ROUTES) | staff, (
        f"unclassified: {sorted(declared - set(ROUTES) - staff)}; "
        f"gone: {sorted((set(ROUTES) | staff) - declared)}"
    )


# --------------------------------------------------------------------------- the world


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'townhall.db'}"  # the rules do not depend on the database


@dataclass
class People:
    admin: Signed
    moderator: Signed
    outsider: Signed
    admin_user: accounts.User
    moderator_user: accounts.User


@pytest.fixture
async def people(settings: Settings, services: Services) -> AsyncIterator[People]:
    policy = {**RELAXED_LIMITS, "suspect_words": [HOLD_WORD], "flags_to_hold": 0}
    create_site(services.db, key="news", name="News", origins=[ORIGIN], policy=policy)
    create_site(
        services.db, key="other", name="Other", origins=["https://other.example"], policy=policy
    )
    admin = make_user(services, "admin@example.org", "admin", [])
    moderator = make_user(services, "mod@example.org", "moderator", ["news"])
    outsider = make_user(services, "outsider@example.org", "moderator", ["other"])
    async with contextlib.AsyncExitStack() as stack:
        signed = []
        for user in (admin, moderator, outsider):
            client = await stack.enter_async_context(app_client(settings, services))
            signed.append(Signed(client, await sign_in(client, user.email), user))
        yield People(signed[0], signed[1], signed[2], admin, moderator)


@pytest.fixture
async def anon(settings: Settings, services: Services, people: People) -> AsyncIterator[Any]:
    async with app_client(settings, services) as client:
        yield client


_worlds = iter(range(1, 10_000))


def new_world(services: Services, people: People, *, spare_user: bool) -> World:
    """A held comment (its own thread, author and address), a ban and an API token; with
    ``spare_user`` a fresh account for the cases that change or delete one."""
    n = next(_worlds)
    reader = Reader(reader_id=token_hash(f"world-reader-{n}"), ip_hash=f"world-ip-{n}")
    posted = comment_domain.submit_comment(
        services,
        comment_domain.NewComment(
            site="news",
            thread=f"/authz/{n}",
            text=f"This {HOLD_WORD} story number {n}.",
            author_name=f"Author {n}",
            author_email=f"author{n}@example.org",
            thread_url=f"{ORIGIN}/authz/{n}",
        ),
        reader,
    )
    assert posted.status == "pending"
    history = moderation.reader_history(services, posted.comment.id)
    ban = moderation.ban(
        services,
        people.admin_user.email,
        kind="email",
        value=f"spammer{n}@example.org",
        site="news",
        reason="spam",
        until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    user = (
        make_user(services, f"spare{n}@example.org", "moderator", ["news"]).id
        if spare_user
        else people.moderator_user.id
    )
    token, _ = accounts.create_token(services.db, people.admin_user, user, f"bot {n}")
    return World(
        comment=posted.comment.id,
        thread=history.comments[0].thread.id,
        ban=ban.id,
        user=user,
        token=token.id,
    )


def aged_serializer(secret: bytes, salt: str, age: float) -> URLSafeTimedSerializer:
    """Signs as the server does, dated ``age`` seconds ago."""

    class AgedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age)

    return URLSafeTimedSerializer(secret, salt=salt, signer=AgedSigner)


# --------------------------------------------------------------------------- reader API


async def post(client: httpx.AsyncClient, text: str, **headers: str) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/comments",
        json={"site": "news", "thread": "/authz/reader", "text": text},
        headers=headers,
    )
    assert r.status_code in (201, 202), r.text
    return r.json()  # type: ignore[no-any-return]


def tampered(token: str) -> str:
    """One character changed, in the middle: the last character of a base64 signature may
    carry only padding bits, and changing those changes nothing."""
    i = len(token) - 8
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


async def test_only_the_author_changes_a_comment_on_the_reader_api(
    anon: httpx.AsyncClient, people: People, services: Services
) -> None:
    victim = await post(anon, "Mine, and only mine.")
    other = await post(anon, "Somebody else's.")
    cid, token = victim["comment"]["id"], victim["edit_token"]
    tries = {
        "anonymous": (anon, {}),
        "reader with another's edit token": (anon, {"X-Townhall-Edit-Token": other["edit_token"]}),
        "tampered edit token": (anon, {"X-Townhall-Edit-Token": tampered(token)}),
        "edit token in the wrong header": (anon, {"X-Townhall-Reader": token}),
        "moderator of another site": (
            people.outsider.client,
            {"X-CSRF-Token": people.outsider.csrf},
        ),
        "moderator": (people.moderator.client, {"X-CSRF-Token": people.moderator.csrf}),
        "admin": (people.admin.client, {"X-CSRF-Token": people.admin.csrf}),
    }
    for who, (client, headers) in tries.items():
        r = await client.patch(
            f"/api/v1/comments/{cid}", json={"text": "hijacked"}, headers=headers
        )
        assert r.status_code == 401, (who, r.status_code, r.text)
        r = await client.delete(f"/api/v1/comments/{cid}", headers=headers)
        assert r.status_code == 401, (who, r.status_code, r.text)
    mine = {"X-Townhall-Edit-Token": token}
    r = await anon.patch(f"/api/v1/comments/{cid}", json={"text": "still mine"}, headers=mine)
    assert r.status_code == 200 and "still mine" in r.json()["comment"]["html"]
    # an edit token outlives its window: 403 once the site's edit window has closed
    with services.db.write() as conn:
        conn.execute(
            update(comments)
            .where(comments.c.id == int(other["comment"]["id"]))
            .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        )
    late = {"X-Townhall-Edit-Token": other["edit_token"]}
    r = await anon.patch(
        f"/api/v1/comments/{other['comment']['id']}", json={"text": "x"}, headers=late
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "edit_window_closed"
    # after deleting, the token is spent
    assert (await anon.delete(f"/api/v1/comments/{cid}", headers=mine)).status_code == 200
    r = await anon.patch(f"/api/v1/comments/{cid}", json={"text": "back"}, headers=mine)
    assert r.status_code in (401, 404), r.text


async def test_a_held_comment_is_seen_by_its_author_only(
    anon: httpx.AsyncClient, people: People
) -> None:
    author = "author-reader-token-0123456789"
    held = await post(anon, f"This {HOLD_WORD} is held.", **{"X-Townhall-Reader": author})
    assert held["status"] == "pending"
    params = {"site": "news", "thread": "/authz/reader"}
    viewers = {
        "author": (anon, {"X-Townhall-Reader": author}, True),
        "anonymous": (anon, {}, False),
        "another reader": (anon, {"X-Townhall-Reader": "another-reader-token-01234567"}, False),
        "tampered reader token": (anon, {"X-Townhall-Reader": tampered(author)}, False),
        "moderator session": (people.moderator.client, {}, False),
        "admin session": (people.admin.client, {}, False),
    }
    for who, (client, headers, sees) in viewers.items():
        page = (await client.get("/api/v1/comments", params=params, headers=headers)).json()
        ids = [c["id"] for c in page["comments"]]
        assert (held["comment"]["id"] in ids) is sees, who


# --------------------------------------------------------------------------- Isso API


async def isso_post(client: httpx.AsyncClient, text: str) -> tuple[int, dict[str, str]]:
    r = await client.post(
        "/isso/news/new",
        params={"uri": "/authz/isso"},
        json={"text": text, "author": "Isa"},
        headers={"Origin": ORIGIN},
    )
    assert r.status_code == 201, r.text
    cookies = {c.name: c.value for c in r.cookies.jar}
    return int(r.json()["id"]), cookies


async def test_only_the_author_changes_a_comment_on_the_isso_api(
    settings: Settings, services: Services, people: People
) -> None:
    async with app_client(settings, services) as author, app_client(settings, services) as other:
        cid, mine = await isso_post(author, "Isso, mine.")
        oid, theirs = await isso_post(other, "Isso, theirs.")
        signer = URLSafeTimedSerializer(settings.secret_bytes(), salt="townhall.isso.edit-cookie")
        edit_token = signer.loads(mine[str(cid)])[1]

        stale = aged_serializer(settings.secret_bytes(), "townhall.isso.edit-cookie", 7 * 86400)
        forged = URLSafeTimedSerializer(b"not the server secret", salt="townhall.isso.edit-cookie")
        jars = {
            "anonymous": {},
            "another comment's cookie": {str(cid): theirs[str(oid)]},
            "tampered cookie": {str(cid): tampered(mine[str(cid)])},
            "cookie signed with another secret": {str(cid): forged.dumps([cid, edit_token])},
            "expired cookie": {str(cid): stale.dumps([cid, edit_token])},
        }
        headers = {"Origin": ORIGIN}
        async with app_client(settings, services) as stranger:
            for who, jar in jars.items():
                stranger.cookies.clear()
                for name, value in jar.items():
                    stranger.cookies.set(name, value)
                r = await stranger.put(
                    f"/isso/news/id/{cid}", json={"text": "hijacked!"}, headers=headers
                )
                assert r.status_code in (401, 403), (who, r.status_code, r.text)
                r = await stranger.delete(f"/isso/news/id/{cid}", headers=headers)
                assert r.status_code in (401, 403), (who, r.status_code, r.text)
                r = await stranger.get(f"/isso/news/id/{cid}", params={"plain": "1"})
                assert r.status_code in (401, 403), (who, r.status_code, r.text)
        for staff in (people.moderator, people.admin):
            r = await staff.client.put(
                f"/isso/news/id/{cid}", json={"text": "hijacked!"}, headers=headers
            )
            assert r.status_code in (401, 403), r.text
        r = await author.put(f"/isso/news/id/{cid}", json={"text": "still mine"}, headers=headers)
        assert r.status_code == 200, r.text
        # Isso's CSRF rule: a write that is not declared JSON comes from a form elsewhere
        r = await author.delete(
            f"/isso/news/id/{cid}", headers={**headers, "Content-Type": "text/plain"}
        )
        assert r.status_code == 403, r.text


# --------------------------------------------------------------------------- forged requests


async def test_writes_from_another_sites_page_are_refused(
    anon: httpx.AsyncClient, people: People
) -> None:
    mine = await post(anon, "A comment to aim at.")
    cid = mine["comment"]["id"]
    evil = {"Origin": "https://evil.example"}
    other_site = {"Origin": "https://other.example"}  # allowed for "other", not for "news"
    for origin in (evil, other_site):
        base = {"site": "news", "thread": "/authz/reader", "text": "forged"}
        attempts = [
            await anon.post("/api/v1/comments", json=base, headers=origin),
            await anon.post(f"/api/v1/comments/{cid}/vote", json={"value": 1}, headers=origin),
            await anon.post(
                f"/api/v1/comments/{cid}/flag", json={"reason": "spam"}, headers=origin
            ),
            await anon.patch(
                f"/api/v1/comments/{cid}",
                json={"text": "forged"},
                headers={**origin, "X-Townhall-Edit-Token": mine["edit_token"]},
            ),
            await anon.delete(
                f"/api/v1/comments/{cid}",
                headers={**origin, "X-Townhall-Edit-Token": mine["edit_token"]},
            ),
            await anon.post(
                "/isso/news/new", params={"uri": "/authz/isso"}, json={"text": "x"}, headers=origin
            ),
            await anon.post(f"/isso/news/id/{cid}/like", json={}, headers=origin),
        ]
        for r in attempts:
            assert r.status_code == 403, (origin, r.request.method, r.request.url, r.text)
            if origin is evil:  # an origin no site allows learns nothing, not even the error
                assert "access-control-allow-origin" not in r.headers
    # a browser asks first (preflight) and is told nothing for an unknown origin
    r = await anon.options(
        "/api/v1/comments/1",
        headers={**evil, "Access-Control-Request-Method": "DELETE"},
    )
    assert "access-control-allow-origin" not in r.headers
    # and a plain HTML form (the cross-site request a browser sends without asking) is refused
    r = await anon.post("/api/v1/comments", data={"site": "news", "thread": "/x", "text": "f"})
    assert r.status_code == 415
    assert (
        await anon.get("/api/v1/comments", params={"site": "news", "thread": "/authz/reader"})
    ).json()["thread"]["count"] == 1  # nothing of the above landed


async def test_the_unsubscribe_link_needs_the_servers_signature(anon: httpx.AsyncClient) -> None:
    forged = URLSafeTimedSerializer(b"guessed", salt="townhall-unsubscribe").dumps({"c": 1})
    for token in ("", "x", forged, "eyJjIjoxfQ.forged"):
        r = await anon.get("/api/v1/unsubscribe", params={"token": token})
        assert r.status_code == 400, token


# --------------------------------------------------------------------------- staff routes


def succeeded(r: httpx.Response, case: Case) -> bool:
    if case.api:
        return 200 <= r.status_code < 300
    location = r.headers.get("location", "")
    redirected = r.status_code == 303 and not location.startswith("/admin/login")
    return redirected or r.status_code == 200  # errors are pages with a 4xx status


def complete(case: Case, services: Services) -> Case:
    """The case with a body a real user would send (the refusal table sends a minimal one)."""
    if (case.method, case.path) == ("POST", "/admin/sites/{key}"):
        form = policy_form(services, "news")
        form.update(premoderation="1", name="News", origins=ORIGIN, edit_window="15")
        return replace(case, body=form)
    return case


ROUTE_KINDS_ALLOWED = {
    # identity -> the kinds of staff route it may use
    "moderator": {SELF, LISTING, SCOPED, PUBLIC},
    "admin": {SELF, LISTING, SCOPED, ADMIN, PUBLIC},
}
# These end the session they are sent from (or need one's own password): run with their own.
SESSION_ENDING = {("POST", "/admin/logout"), ("POST", "/admin/password")}


async def test_staff_routes_for_every_identity(
    settings: Settings, services: Services, people: People, anon: httpx.AsyncClient
) -> None:
    reader_headers = {
        "X-Townhall-Reader": "some-reader-token-0123456789",
        "X-Townhall-Edit-Token": (await post(anon, "a reader's own"))["edit_token"],
    }
    refused_world = new_world(services, people, spare_user=True)
    outcomes: list[str] = []
    for case in CASES:
        where = f"{case.method} {case.path}"
        if case.kind == PUBLIC:
            continue
        # anonymous, and a reader with an edit token: never signed in
        for who, headers in (("anonymous", {}), ("reader", reader_headers)):
            anon.headers.update(headers)
            r = await send_case(anon, case, refused_world, csrf=None)
            anon.headers.clear()
            expected = 401 if case.api or case.unsafe else 303
            assert r.status_code == expected, (who, where, r.status_code)
        if (case.method, case.path) in SESSION_ENDING:
            continue  # at the end
        # a moderator of another site: only their own account and listings of their site
        r = await send_case(people.outsider, case, refused_world, csrf=people.outsider.csrf)
        if case.kind in (SCOPED, ADMIN):
            assert r.status_code == 403, ("outsider", where, r.status_code)
        else:
            assert r.status_code < 400 and HOLD_WORD not in r.text, ("outsider", where)
        # the moderator and the admin: allowed kinds succeed, each on fresh data
        for who, signed in (("moderator", people.moderator), ("admin", people.admin)):
            world = new_world(services, people, spare_user="/users/" in case.path)
            r = await send_case(signed, complete(case, services), world, csrf=signed.csrf)
            if case.kind in ROUTE_KINDS_ALLOWED[who]:
                assert succeeded(r, case), (who, where, r.status_code, r.text[:300])
                outcomes.append(f"{who} ok {where}")
            else:
                assert r.status_code == 403, (who, where, r.status_code)
    # last, as they end the sessions they use: a new password, then signing out
    password = next(c for c in CASES if (c.method, c.path) == ("POST", "/admin/password"))
    logout = next(c for c in CASES if (c.method, c.path) == ("POST", "/admin/logout"))
    for signed in (people.outsider, people.moderator, people.admin):
        r = await send_case(signed, password, refused_world, csrf=signed.csrf)
        assert succeeded(r, password), (signed.user.email, r.status_code, r.text[:300])
        home = await signed.client.get("/admin/")  # still signed in, with a new session
        assert home.status_code == 200, home.status_code
        csrf = CSRF_META.search(home.text).group(1)  # type: ignore[union-attr]
        r = await send_case(signed, logout, refused_world, csrf=csrf)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
        assert (await signed.client.get("/api/v1/moderation/me")).status_code == 401
    assert len(outcomes) > 60


# --------------------------------------------------------------------------- tokens and CSRF


def session_cookie(settings: Settings, data: dict[str, Any], age: float = 0) -> str:
    return aged_serializer(settings.secret_bytes(), "townhall.admin.session", age).dumps(data)


async def test_forged_and_expired_sessions_and_tokens_fail(
    settings: Settings, services: Services, people: People, anon: httpx.AsyncClient
) -> None:
    good = people.moderator.client.cookies[sessions.COOKIE]
    csrf = people.moderator.csrf
    uid = people.moderator_user.id
    now = int(time.time())
    cookies = {
        "tampered": tampered(good),
        "signed with another secret": URLSafeTimedSerializer(
            b"guess", salt="townhall.admin.session"
        ).dumps({"c": csrf, "u": uid, "v": 1, "t": now}),
        "idle too long": session_cookie(
            settings, {"c": csrf, "u": uid, "v": 1, "t": now}, sessions.IDLE_SECONDS + 60
        ),
        "signed in over a week ago": session_cookie(
            settings, {"c": csrf, "u": uid, "v": 1, "t": now - sessions.ABSOLUTE_SECONDS - 60}
        ),
        "an older session version": session_cookie(
            settings, {"c": csrf, "u": uid, "v": 0, "t": now}
        ),
        "another user's id": session_cookie(settings, {"c": csrf, "u": 999, "v": 1, "t": now}),
        "anonymous session": session_cookie(settings, {"c": csrf}),
    }
    for what, value in cookies.items():
        anon.cookies.set(sessions.COOKIE, value)
        page = await anon.get("/admin/queue/pending")
        assert page.status_code == 303 and "/admin/login" in page.headers["location"], what
        r = await anon.get("/api/v1/moderation/queue")
        assert r.status_code == 401, what
        r = await anon.post(
            "/api/v1/moderation/bans",
            json={"kind": "email", "value": "x@example.org", "site": "news", "reason": "r"},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 401, what
    anon.cookies.clear()
    # the genuine cookie works, until the user's sessions are ended
    assert (await people.moderator.client.get("/api/v1/moderation/me")).status_code == 200
    accounts.end_sessions(services.db, people.moderator_user)
    assert (await people.moderator.client.get("/api/v1/moderation/me")).status_code == 401
    # API tokens: a revoked one and a moderator's on another site
    view, token = accounts.create_token(
        services.db, people.admin_user, people.moderator_user.id, "t"
    )
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await anon.get("/api/v1/moderation/me", headers=bearer)).status_code == 200
    outsider_token = accounts.create_token(
        services.db, people.admin_user, people.outsider.user.id, "o"
    )[1]
    world = new_world(services, people, spare_user=False)
    r = await anon.post(
        f"/api/v1/moderation/comments/{world.comment}/approve",
        json={"reason": "r"},
        headers={"Authorization": f"Bearer {outsider_token}"},
    )
    assert r.status_code == 403, r.text
    accounts.revoke_token(services.db, people.admin_user, view.id)
    assert (await anon.get("/api/v1/moderation/me", headers=bearer)).status_code == 401
    assert (
        await anon.get(
            "/api/v1/moderation/me", headers={"Authorization": f"Bearer {tampered(token)}"}
        )
    ).status_code == 401


async def test_every_change_needs_the_csrf_token(services: Services, people: People) -> None:
    world = new_world(services, people, spare_user=True)
    for token in (None, "", "wrong", people.moderator.csrf):  # the last: another session's
        for case in CASES:
            if not case.unsafe or case.kind == PUBLIC:
                continue
            r = await send_case(people.admin, case, world, csrf=token)
            assert r.status_code == 403, (token, case.method, case.path, r.status_code)
    # the sign-in form checks its own token too
    async with contextlib.AsyncExitStack():
        login = await people.admin.client.post(
            "/admin/login",
            data={"email": "admin@example.org", "password": "x" * 12, "csrf_token": "wrong"},
        )
        assert login.status_code in (400, 403), login.status_code
    item = moderation.reader_history(services, world.comment).comments[0]
    assert item.status == "pending"  # nothing happened
