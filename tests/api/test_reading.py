"""Reading threads: pagination cursors, sorting, caching headers, counts."""

from __future__ import annotations

import datetime as dt
import gzip

import httpx
from sqlalchemy import insert

from tests.api.test_posting import THREAD, listing, post
from townhall.domain.services import Services
from townhall.store import threads as thread_store
from townhall.store.schema import comments


def seed_thread(services: Services, top_level: int, replies_each: int) -> list[int]:
    """Insert a big thread directly (fast), oldest first; returns top-level ids."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    tops: list[int] = []
    with services.db.write() as conn:
        thread = thread_store.get_or_create_thread(
            conn, site_id=1, key=THREAD["thread"], title="Big", url="", now=now
        )
        n = 0
        for i in range(top_level):
            n += 1
            row = dict(
                thread_id=thread["id"],
                parent_id=None,
                root_id=None,
                depth=0,
                status="published",
                shadow=False,
                author_name=f"A{i}",
                text=f"t{i}",
                html=f"<p>t{i}</p>",
                created_at=now + dt.timedelta(seconds=n),
                likes=i % 7,
                dislikes=0,
                flag_count=0,
            )
            top = conn.execute(insert(comments).values(**row)).inserted_primary_key[0]
            tops.append(top)
            parent = top
            for j in range(replies_each):
                n += 1
                row.update(
                    parent_id=parent,
                    root_id=top,
                    depth=j + 1,
                    author_name=f"R{i}.{j}",
                    created_at=now + dt.timedelta(seconds=n),
                    html=f"<p>r{i}.{j}</p>",
                )
                parent = conn.execute(insert(comments).values(**row)).inserted_primary_key[0]
        thread_store.bump(conn, thread["id"], count_delta=n)
    return tops


async def test_cursor_pagination_over_a_500_comment_thread(
    client: httpx.AsyncClient, services: Services
) -> None:
    tops = seed_thread(services, top_level=250, replies_each=1)  # 500 comments
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 30} | ({"cursor": cursor} if cursor else {})
        page = await listing(client, **params)
        pages += 1
        seen.extend(c["id"] for c in page["comments"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 9
    assert len(seen) == 500 and len(set(seen)) == 500
    top_seen = [int(i) for i in seen[::2]]
    assert top_seen == tops
    assert page["thread"]["count"] == 500


async def test_sorts(client: httpx.AsyncClient, services: Services) -> None:
    tops = seed_thread(services, top_level=10, replies_each=0)
    newest = await listing(client, sort="newest")
    assert [int(c["id"]) for c in newest["comments"]] == tops[::-1]
    top = await listing(client, sort="top")
    likes = [c["likes"] for c in top["comments"]]
    assert likes == sorted(likes, reverse=True)
    bad = await client.get("/api/v1/comments", params={**THREAD, "sort": "random"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "sort"


async def test_reply_subtrees_are_capped_and_continued(
    client: httpx.AsyncClient, services: Services
) -> None:
    seed_thread(services, top_level=2, replies_each=120)  # chains of 120 replies
    page = await listing(client)
    first = page["comments"][0]
    assert first["more_replies"] == 70 and first["more_replies_cursor"]
    shown = [c for c in page["comments"] if c["depth"] > 0]
    assert len(shown) == 100  # 50 under each top-level comment
    rest: list[str] = []
    cursor = first["more_replies_cursor"]
    while cursor:
        more = await listing(client, cursor=cursor)
        rest.extend(c["id"] for c in more["comments"])
        cursor = more["next_cursor"]
    assert len(rest) == 70
    assert int(rest[0]) == int(page["comments"][50]["id"]) + 1


async def test_bad_cursor_is_a_clear_422(client: httpx.AsyncClient) -> None:
    for cursor in ("garbage", "eyJrIjoiZm9vIn0", "!!"):
        r = await client.get("/api/v1/comments", params={**THREAD, "cursor": cursor})
        assert r.status_code == 422, cursor
        assert r.json()["error"]["field"] == "cursor"


async def test_etag_and_304_until_the_thread_changes(client: httpx.AsyncClient) -> None:
    await post(client, "one")
    r = await client.get("/api/v1/comments", params=THREAD)
    etag = r.headers["etag"]
    again = await client.get("/api/v1/comments", params=THREAD, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    await post(client, "two")
    changed = await client.get("/api/v1/comments", params=THREAD, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["thread"]["count"] == 2


async def test_large_responses_are_gzipped(client: httpx.AsyncClient, services: Services) -> None:
    seed_thread(services, top_level=40, replies_each=2)
    r = await client.get("/api/v1/comments", params=THREAD, headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert len(r.json()["comments"]) == 60
    raw = await client.get(
        "/api/v1/comments", params=THREAD, headers={"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content)


async def test_counts_get_and_post(client: httpx.AsyncClient) -> None:
    await post(client, "a")
    await post(client, "b")
    r = await client.get(
        "/api/v1/counts",
        params=[("site", "news"), ("thread", THREAD["thread"]), ("thread", "/none")],
    )
    assert r.json() == {"counts": {THREAD["thread"]: 2, "/none": 0}}
    r = await client.post("/api/v1/counts", json={"site": "news", "threads": [THREAD["thread"]]})
    assert r.json() == {"counts": {THREAD["thread"]: 2}}
    too_many = await client.post(
        "/api/v1/counts", json={"site": "news", "threads": [f"/t{i}" for i in range(101)]}
    )
    assert too_many.status_code == 422
    assert "100" in too_many.json()["error"]["message"]
    unknown = await client.post("/api/v1/counts", json={"site": "nope", "threads": ["/x"]})
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "site"


async def test_author_sees_own_held_comment_nobody_else_does(
    client: httpx.AsyncClient, services: Services
) -> None:
    from townhall.domain.sites import update_site

    update_site(services.db, "news", policy_changes={"premoderation": True})
    services.sites.forget()
    r = await client.post(
        "/api/v1/comments",
        json={
            "site": "news",
            "thread": THREAD["thread"],
            "text": "held one",
            "author": {"name": "Hal"},
        },
    )
    assert r.status_code == 202
    body = r.json()
    assert body["status"] == "pending" and "moderation" in body["message"]
    public = await listing(client)
    assert public["comments"] == [] and public["thread"]["count"] == 0
    mine = await client.get(
        "/api/v1/comments", params=THREAD, headers={"X-Townhall-Reader": body["reader_token"]}
    )
    assert [c["status"] for c in mine.json()["comments"]] == ["pending"]
    assert mine.headers["cache-control"].startswith("private")
