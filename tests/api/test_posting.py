"""Posting, replying, editing and deleting through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import update

from tests.conftest import ORIGIN, comment_body
from townhall.domain.services import Services
from townhall.store.schema import comments

THREAD = {"site": "news", "thread": "/2026/11/story"}


async def post(client: httpx.AsyncClient, text: str = "Hello there", **more: object) -> dict:
    r = await client.post("/api/v1/comments", json=comment_body(text, **more))
    assert r.status_code in (201, 202), r.text
    return r.json()


async def listing(client: httpx.AsyncClient, **params: object) -> dict:
    r = await client.get("/api/v1/comments", params={**THREAD, **params})
    assert r.status_code == 200, r.text
    return r.json()


async def test_first_comment_creates_the_thread_with_title_and_url(
    client: httpx.AsyncClient,
) -> None:
    body = await post(client, "First!")
    assert body["status"] == "published"
    assert body["comment"]["status"] == "published"
    assert body["comment"]["html"] == "<p>First!</p>"
    assert body["comment"]["author"] == {"name": "Ann"}
    assert body["edit_token"] and body["reader_token"]
    page = await listing(client)
    assert page["thread"]["title"] == "A story"
    assert page["thread"]["url"] == ORIGIN + "/2026/11/story"
    assert page["thread"]["count"] == 1
    assert page["thread"]["closed"] is False


async def test_unknown_thread_of_known_site_is_empty(client: httpx.AsyncClient) -> None:
    page = await listing(client, thread="/never/commented")
    assert page["comments"] == []
    assert page["thread"]["count"] == 0
    assert page["next_cursor"] is None


async def test_replies_nest_depth_first_at_any_depth(client: httpx.AsyncClient) -> None:
    a = (await post(client, "The first top-level comment."))["comment"]["id"]
    b = (await post(client, "The second top-level comment."))["comment"]["id"]
    parent = a
    chain = []
    replies = [  # distinct texts: near-duplicates from many readers would be held as a flood
        "Why do you say that?",
        "Because the traffic counts doubled since 2019.",
        "Where were those counts published?",
        "In the council's transport appendix, page twelve.",
        "Thanks, I found the table now.",
        "The figures for Station Road surprised me most.",
        "Lorries make up a third of that traffic.",
        "That explains the noise complaints from residents.",
    ]
    for text in replies:  # deeper than any display cap
        parent = (await post(client, text, parent_id=parent))["comment"]["id"]
        chain.append(parent)
    a2 = (await post(client, "A second reply", parent_id=a))["comment"]["id"]
    page = await listing(client)
    ids = [c["id"] for c in page["comments"]]
    assert ids == [a, *chain, a2, b]
    depths = [c["depth"] for c in page["comments"]]
    assert depths == [0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0]
    by_id = {c["id"]: c for c in page["comments"]}
    assert by_id[chain[0]]["parent_id"] == a
    assert by_id[a]["reply_count"] == 2
    assert page["thread"]["count"] == 11


async def test_markdown_is_rendered_once_and_raw_html_is_text(client: httpx.AsyncClient) -> None:
    body = await post(
        client,
        "**bold** <script>alert(1)</script> [site](https://example.org) "
        "[bad](javascript:alert(1))\n\n> quoted\n\n- one\n- two\n\n`code`",
    )
    html = body["comment"]["html"]
    assert "<strong>bold</strong>" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert '<a href="https://example.org" rel="nofollow ugc noopener">site</a>' in html
    assert "javascript:" not in html.replace("[bad](javascript:alert(1))", "")
    assert "<blockquote>" in html and "<li>one</li>" in html and "<code>code</code>" in html


async def test_edit_within_window_rerenders(client: httpx.AsyncClient) -> None:
    posted = await post(client, "Typo hree")
    cid, token = posted["comment"]["id"], posted["edit_token"]
    r = await client.patch(
        f"/api/v1/comments/{cid}",
        json={"text": "Typo *here*"},
        headers={"X-Townhall-Edit-Token": token},
    )
    assert r.status_code == 200, r.text
    assert r.json()["comment"]["html"] == "<p>Typo <em>here</em></p>"
    assert r.json()["comment"]["edited_at"] is not None
    page = await listing(client)
    assert page["comments"][0]["html"] == "<p>Typo <em>here</em></p>"


async def test_edit_with_wrong_token_is_refused(client: httpx.AsyncClient) -> None:
    cid = (await post(client))["comment"]["id"]
    other = (await post(client, "someone else"))["edit_token"]
    for headers in ({}, {"X-Townhall-Edit-Token": other}, {"X-Townhall-Edit-Token": "x" * 32}):
        r = await client.patch(f"/api/v1/comments/{cid}", json={"text": "hijack"}, headers=headers)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthorized"
    assert (await listing(client))["comments"][0]["html"] == "<p>Hello there</p>"


async def test_edit_after_window_is_refused(client: httpx.AsyncClient, services: Services) -> None:
    posted = await post(client)
    cid = int(posted["comment"]["id"])
    with services.db.write() as conn:
        conn.execute(
            update(comments)
            .where(comments.c.id == cid)
            .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
        )
    r = await client.patch(
        f"/api/v1/comments/{cid}",
        json={"text": "late"},
        headers={"X-Townhall-Edit-Token": posted["edit_token"]},
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "edit_window_closed"
    assert "15 minutes" in r.json()["error"]["message"]


async def test_delete_without_replies_disappears(client: httpx.AsyncClient) -> None:
    posted = await post(client)
    r = await client.delete(
        f"/api/v1/comments/{posted['comment']['id']}",
        headers={"X-Townhall-Edit-Token": posted["edit_token"]},
    )
    assert r.status_code == 200
    assert r.json() == {"comment": None}
    page = await listing(client)
    assert page["comments"] == [] and page["thread"]["count"] == 0


async def test_delete_with_replies_leaves_a_tombstone(client: httpx.AsyncClient) -> None:
    parent = await post(client, "Parent text")
    child = await post(client, "Child", parent_id=parent["comment"]["id"])
    r = await client.delete(
        f"/api/v1/comments/{parent['comment']['id']}",
        headers={"X-Townhall-Edit-Token": parent["edit_token"]},
    )
    tomb = r.json()["comment"]
    assert tomb["status"] == "deleted" and tomb["html"] == "" and tomb["author"]["name"] == ""
    page = await listing(client)
    assert [c["id"] for c in page["comments"]] == [parent["comment"]["id"], child["comment"]["id"]]
    assert page["comments"][0]["status"] == "deleted"
    assert "Parent text" not in r.text and "Parent text" not in str(page)
    assert page["thread"]["count"] == 1
    again = await client.delete(
        f"/api/v1/comments/{parent['comment']['id']}",
        headers={"X-Townhall-Edit-Token": parent["edit_token"]},
    )
    assert again.status_code in (401, 404)


async def test_reply_to_comment_of_another_thread_is_refused(client: httpx.AsyncClient) -> None:
    other = await post(client, "elsewhere", thread="/other", thread_url=ORIGIN + "/other")
    r = await client.post(
        "/api/v1/comments", json=comment_body("x", parent_id=other["comment"]["id"])
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "parent_id"


async def test_votes_one_per_reader(client: httpx.AsyncClient) -> None:
    cid = (await post(client))["comment"]["id"]
    r = await client.post(f"/api/v1/comments/{cid}/vote", json={"value": 1})
    token = r.json()["reader_token"]
    assert r.json()["likes"] == 1
    headers = {"X-Townhall-Reader": token}
    r = await client.post(f"/api/v1/comments/{cid}/vote", json={"value": 1}, headers=headers)
    assert (r.json()["likes"], r.json()["dislikes"]) == (1, 0)
    r = await client.post(f"/api/v1/comments/{cid}/vote", json={"value": -1}, headers=headers)
    assert (r.json()["likes"], r.json()["dislikes"]) == (0, 1)
    r = await client.post(f"/api/v1/comments/{cid}/vote", json={"value": 0}, headers=headers)
    assert (r.json()["likes"], r.json()["dislikes"]) == (0, 0)
    second = await client.post(f"/api/v1/comments/{cid}/vote", json={"value": 1})
    third = await client.post(
        f"/api/v1/comments/{cid}/vote",
        json={"value": 1},
        headers={"X-Townhall-Reader": second.json()["reader_token"]},
    )
    assert third.json()["likes"] == 1
    assert (await listing(client))["comments"][0]["likes"] == 1
    bad = await client.post(f"/api/v1/comments/{cid}/vote", json={"value": 2})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "value"


async def test_flags_are_stored_once_per_reader(
    client: httpx.AsyncClient, services: Services
) -> None:
    cid = (await post(client))["comment"]["id"]
    r = await client.post(f"/api/v1/comments/{cid}/flag", json={"reason": "spam"})
    assert r.status_code == 202
    headers = {"X-Townhall-Reader": r.json()["reader_token"]}
    again = await client.post(
        f"/api/v1/comments/{cid}/flag", json={"reason": "abuse"}, headers=headers
    )
    assert again.status_code == 202
    from sqlalchemy import select

    from townhall.store.schema import flags

    with services.db.read() as conn:
        assert conn.execute(select(flags.c.reason)).scalars().all() == ["spam"]
    bad = await client.post(f"/api/v1/comments/{cid}/flag", json={"reason": "dislike"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "reason"


async def test_preview_renders_without_storing(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/preview", json={"text": "*hi* <b>x</b>"})
    assert r.json() == {"html": "<p><em>hi</em> &lt;b&gt;x&lt;/b&gt;</p>"}
    assert (await listing(client))["thread"]["count"] == 0


async def test_votes_keep_likes_that_came_without_vote_rows(
    client: httpx.AsyncClient, services: Services
) -> None:
    cid = (await post(client))["comment"]["id"]
    with services.db.write() as conn:  # as after an import or the demo seed
        conn.execute(update(comments).where(comments.c.id == int(cid)).values(likes=24))
    r = await client.post(f"/api/v1/comments/{cid}/vote", json={"value": 1})
    assert r.json()["likes"] == 25
    token = r.json()["reader_token"]
    r = await client.post(
        f"/api/v1/comments/{cid}/vote", json={"value": -1}, headers={"X-Townhall-Reader": token}
    )
    assert (r.json()["likes"], r.json()["dislikes"]) == (24, 1)
