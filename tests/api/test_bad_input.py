"""Every bad input gets a 4xx with the error envelope and a message naming what to fix;
nothing is half-written."""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_posting import listing, post
from tests.conftest import comment_body


def assert_error(r: httpx.Response, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) <= {"code", "message", "field"}
    assert err["code"] and err["message"]
    if field is not None:
        assert err.get("field") == field, err
    return err


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"thread": "/x", "text": "hi"}, "site"),
        ({"site": "news", "text": "hi"}, "thread"),
        ({"site": "news", "thread": "/x"}, "text"),
        ({"site": "news", "thread": "/x", "text": 5}, "text"),
        ({"site": "news", "thread": "/x", "text": "   "}, "text"),
        ({"site": "news", "thread": "/x", "text": "x" * 10001}, "text"),
        ({"site": "news", "thread": "", "text": "hi"}, "thread"),
        ({"site": "news", "thread": "/x" * 300, "text": "hi"}, "thread"),
        ({"site": "news", "thread": "/x", "text": "hi", "author": {"name": 3}}, "author.name"),
        (
            {"site": "news", "thread": "/x", "text": "hi", "author": {"name": "n" * 81}},
            "author.name",
        ),
        (
            {"site": "news", "thread": "/x", "text": "hi", "author": {"email": "nope"}},
            "author.email",
        ),
        (
            {"site": "news", "thread": "/x", "text": "hi", "author": {"website": "ftp://x"}},
            "author.website",
        ),
        ({"site": "news", "thread": "/x", "text": "hi", "parent_id": "abc"}, "parent_id"),
        ({"site": "news", "thread": "/x", "text": "hi", "parent_id": "999999"}, "parent_id"),
        (
            {"site": "news", "thread": "/x", "text": "hi", "thread_url": "https://evil.example/x"},
            "thread_url",
        ),
        ({"site": "news", "thread": "/x", "text": "hi", "confirm": "yes"}, "confirm"),
    ],
)
async def test_invalid_fields_name_the_field(
    client: httpx.AsyncClient, body: dict, field: str
) -> None:
    err = assert_error(await client.post("/api/v1/comments", json=body), 422, field)
    assert len(err["message"]) > 10
    assert (await listing(client, thread="/x"))["thread"]["count"] == 0


async def test_unknown_site_is_404(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/comments", json=comment_body(site="nope"))
    assert_error(r, 404, "site")
    r = await client.get("/api/v1/comments", params={"site": "nope", "thread": "/x"})
    assert_error(r, 404, "site")


async def test_unknown_comment_is_404(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/comments/424242/vote", json={"value": 1})
    assert_error(r, 404)
    r = await client.patch(
        "/api/v1/comments/424242", json={"text": "x"}, headers={"X-Townhall-Edit-Token": "t"}
    )
    assert_error(r, 404)
    r = await client.post("/api/v1/comments/not-a-number/vote", json={"value": 1})
    assert r.status_code in (404, 422)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{not json", 400),
        (b'{"site": "news", "thread": "/x", "text": "\xff\xfe"}', 400),
        (b"[1, 2, 3]", 422),
        (b"", 400),
        (b'{"site": ' + b"[" * 30000 + b"]" * 30000 + b"}", 422),
        (b'{"site": "news", "thread": "/x", "text": "hi", "parent_id": 1e400}', 422),
        (b'{"site": "news", "thread": "/x", "text": "nul \\u0000 byte"}', 201),
    ],
    ids=["not-json", "invalid-utf8", "array", "empty", "deep", "huge-number", "nul-byte"],
)
async def test_malformed_bodies(client: httpx.AsyncClient, raw: bytes, status: int) -> None:
    r = await client.post(
        "/api/v1/comments", content=raw, headers={"Content-Type": "application/json"}
    )
    if status == 201:
        assert r.status_code == 201, r.text
        assert "\x00" not in r.json()["comment"]["html"]
    else:
        assert_error(r, status)


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/comments", json=comment_body("x" * 70000))
    assert_error(r, 413)


async def test_wrong_content_type_is_415(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/comments", content=b"site=news", headers={"Content-Type": "application/xml"}
    )
    assert_error(r, 415)


async def test_unknown_routes_and_methods(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/v1/nothing"), 404)
    assert_error(await client.put("/api/v1/comments"), 405)


async def test_bad_query_parameters(client: httpx.AsyncClient) -> None:
    base = {"site": "news", "thread": "/x"}
    assert_error(await client.get("/api/v1/comments", params={"site": "news"}), 422, "thread")
    assert_error(await client.get("/api/v1/comments", params={**base, "limit": "0"}), 422, "limit")
    assert_error(
        await client.get("/api/v1/comments", params={**base, "limit": "101"}), 422, "limit"
    )
    assert_error(await client.get("/api/v1/comments", params={**base, "limit": "x"}), 422, "limit")
    assert_error(await client.get("/api/v1/counts", params={"site": "news"}), 422, "thread")


async def test_closed_thread_refuses_comments(client: httpx.AsyncClient, services) -> None:
    await post(client, "before closing")
    from sqlalchemy import update

    from townhall.store.schema import threads

    with services.db.write() as conn:
        conn.execute(update(threads).values(closed=True))
    r = await client.post("/api/v1/comments", json=comment_body("after"))
    assert_error(r, 403)
    assert (await listing(client))["thread"]["closed"] is True


async def test_rate_limit_answers_429_with_retry_after(client: httpx.AsyncClient, services) -> None:
    from townhall.domain.sites import update_site

    update_site(services.db, "news", policy_changes={"rate_burst": 3})
    services.sites.forget()
    codes = [
        (await client.post("/api/v1/comments", json=comment_body(f"message {i}"))).status_code
        for i in range(5)
    ]
    assert codes == [201, 201, 201, 429, 429]
    r = await client.post("/api/v1/comments", json=comment_body("again"))
    assert int(r.headers["retry-after"]) > 0
    assert "too fast" in r.json()["error"]["message"]
    assert (await listing(client))["thread"]["count"] == 3
