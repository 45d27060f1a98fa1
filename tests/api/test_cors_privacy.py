"""CORS per site, and the promise that no reader-facing response carries an email or IP."""

from __future__ import annotations

import httpx

from tests.api.test_posting import THREAD, post
from tests.conftest import ORIGIN, comment_body


async def test_preflight_allows_only_known_origins(client: httpx.AsyncClient) -> None:
    ok = await client.options(
        "/api/v1/comments",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert "X-Townhall-Edit-Token" in ok.headers["access-control-allow-headers"]
    bad = await client.options(
        "/api/v1/comments",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in bad.headers


async def test_writes_from_other_origins_are_refused(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/comments", json=comment_body(), headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "origin_not_allowed"
    ok = await client.post("/api/v1/comments", json=comment_body(), headers={"Origin": ORIGIN})
    assert ok.status_code == 201
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    cid = ok.json()["comment"]["id"]
    vote = await client.post(
        f"/api/v1/comments/{cid}/vote",
        json={"value": 1},
        headers={"Origin": "https://evil.example"},
    )
    assert vote.status_code == 403


async def test_reads_carry_cors_headers_for_allowed_origins_only(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/v1/comments", params=THREAD, headers={"Origin": ORIGIN})
    assert r.headers["access-control-allow-origin"] == ORIGIN
    r = await client.get(
        "/api/v1/comments", params=THREAD, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in r.headers


async def test_no_reader_response_contains_an_email_or_ip(client: httpx.AsyncClient) -> None:
    email = "secret.person@example.org"
    bodies: list[str] = []
    posted = await client.post(
        "/api/v1/comments",
        json=comment_body(
            "mine", author={"name": "S", "email": email, "website": "https://s.example"}
        ),
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    bodies.append(posted.text)
    cid = posted.json()["comment"]["id"]
    reply = await post(client, "reply", parent_id=cid)
    bodies.append(str(reply))
    for params in (THREAD, {**THREAD, "sort": "top"}):
        bodies.append((await client.get("/api/v1/comments", params=params)).text)
    bodies.append((await client.post(f"/api/v1/comments/{cid}/vote", json={"value": 1})).text)
    bodies.append(
        (
            await client.get("/api/v1/counts", params={"site": "news", "thread": THREAD["thread"]})
        ).text
    )
    edited = await client.patch(
        f"/api/v1/comments/{cid}",
        json={"text": "edited"},
        headers={"X-Townhall-Edit-Token": posted.json()["edit_token"]},
    )
    bodies.append(edited.text)
    deleted = await client.delete(
        f"/api/v1/comments/{cid}", headers={"X-Townhall-Edit-Token": posted.json()["edit_token"]}
    )
    bodies.append(deleted.text)
    for text in bodies:
        assert email not in text
        assert "example.org" not in text or "s.example" in text
        assert "127.0.0.1" not in text and "203.0.113.9" not in text
        assert "testclient" not in text


async def test_errors_carry_cors_headers_so_pages_can_show_them(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post("/api/v1/comments", json=comment_body(""), headers={"Origin": ORIGIN})
    assert r.status_code == 422
    assert r.headers["access-control-allow-origin"] == ORIGIN
    missing = await client.get(
        "/api/v1/comments", params={"site": "nope", "thread": "/x"}, headers={"Origin": ORIGIN}
    )
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == ORIGIN
    foreign = await client.post(
        "/api/v1/comments", json=comment_body(""), headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in foreign.headers
