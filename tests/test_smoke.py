from __future__ import annotations

import httpx

from tests.conftest import comment_body


async def test_post_and_read(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/comments", json=comment_body())
    assert r.status_code == 201, r.text
    r = await client.get("/api/v1/comments", params={"site": "news", "thread": "/2026/11/story"})
    assert r.json()["thread"]["count"] == 1
