"""The moderation API through real HTTP, with a session cookie or a Bearer token: the queue
and its filters, every decision, bans of every kind, threads, policy, notes, the audit log and
the error envelope."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx

from tests.admin.conftest import HOLD_WORD, Signed, SignIn, post, reader_view
from tests.conftest import ORIGIN, comment_body
from townhall.domain import accounts
from townhall.domain.services import Services
from townhall.domain.sites import Site

M = "/api/v1/moderation"


def error(r: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = r.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]


async def test_the_queue_shows_what_a_decision_needs(
    as_moderator: Signed, held: dict[str, Any], client: httpx.AsyncClient
) -> None:
    r = await as_moderator.client.get(f"{M}/queue")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    page = r.json()
    [item] = page["items"]
    assert item["id"] == held["comment"]["id"] and item["status"] == "pending"
    assert item["author"]["name"] == "Ann" and item["author"]["email"] == "ann@example.org"
    assert re.fullmatch(r"[0-9a-f]{8}", item["author"]["ip_hash_prefix"])
    assert item["thread"]["title"] == "A story"
    assert item["thread"]["url"] == ORIGIN + "/2026/11/story"
    assert item["history"]["pending"] == 1
    [check] = [c for c in item["checks"] if c["check"] == "suspect_words"]
    assert check["verdict"] == "hold" and HOLD_WORD in check["reason"]
    assert "127.0.0.1" not in r.text  # never a raw address
    assert page["next_cursor"] is None


async def test_queue_filters(
    as_moderator: Signed, held: dict[str, Any], client: httpx.AsyncClient
) -> None:
    other = await post(client, "Nothing to see here, just a published comment.")
    assert other["status"] == "published"
    flagged = other["comment"]["id"]
    r = await client.post(
        f"/api/v1/comments/{flagged}/flag",
        json={"reason": "abuse", "note": "<b>rude</b>"},
        headers={"Origin": ORIGIN},
    )
    assert r.status_code == 202

    async def ids(**params: Any) -> list[str]:
        r = await as_moderator.client.get(f"{M}/queue", params=params)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    pending = held["comment"]["id"]
    assert await ids() == [pending]
    assert await ids(status="flagged") == [flagged]
    assert await ids(status="recent") == [flagged, pending]
    assert await ids(status="recent", flagged="true") == [flagged]
    assert await ids(status="recent", check="suspect_words") == [pending]
    assert await ids(status="recent", reason=HOLD_WORD) == [pending]
    assert await ids(status="recent", q="published comment") == [flagged]
    assert await ids(status="recent", q="ANN@example") == [flagged, pending]
    assert await ids(status="recent", site="news") == [flagged, pending]
    assert await ids(status="rejected") == []
    first = await as_moderator.client.get(f"{M}/queue", params={"status": "recent", "limit": 1})
    cursor = first.json()["next_cursor"]
    assert first.json()["items"][0]["id"] == flagged and cursor
    assert await ids(status="recent", limit=1, cursor=cursor) == [pending]
    item = (await as_moderator.client.get(f"{M}/queue", params={"status": "flagged"})).json()
    assert item["items"][0]["flags"][0]["note"] == "<b>rude</b>"  # JSON: data, not markup
    thread = item["items"][0]["thread"]["id"]
    assert await ids(status="recent", thread=thread) == [flagged, pending]

    for params, field in (
        ({"status": "nope"}, "status"),
        ({"min_score": "high"}, "min_score"),
        ({"max_score": "2"}, "max_score"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"flagged": "maybe"}, "flagged"),
    ):
        r = await as_moderator.client.get(f"{M}/queue", params=params)
        assert r.status_code == 422, (params, r.text)
        assert error(r)["field"] == field
    r = await as_moderator.client.get(f"{M}/queue", params={"site": "nowhere"})
    assert r.status_code == 404 and error(r)["field"] == "site"
    r = await as_moderator.client.get(f"{M}/queue", params={"thread": "999999"})
    assert r.status_code == 404


async def test_decisions_with_reasons_are_logged(
    as_moderator: Signed, held: dict[str, Any], client: httpx.AsyncClient
) -> None:
    cid = held["comment"]["id"]
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/approve", {"reason": "fine after all"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "published" and r.json()["previous_status"] == "pending"
    assert [c["id"] for c in (await reader_view(client))["comments"]] == [cid]
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/approve")
    assert r.status_code == 409 and error(r)["code"] == "conflict"
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/reject", {"reason": "x"})
    assert r.status_code == 409 and "remove it instead" in error(r)["message"]
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/remove", {"reason": "off topic"})
    assert r.status_code == 200 and r.json()["status"] == "removed"
    assert (await reader_view(client))["comments"] == []
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/restore")
    assert r.status_code == 200 and r.json()["status"] == "published"
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/spam", {"reason": "link farm"})
    assert r.status_code == 200 and r.json()["status"] == "spam"
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/explode")
    assert r.status_code == 422
    r = await as_moderator.api("POST", f"{M}/comments/999999/approve")
    assert r.status_code == 404
    log = (await as_moderator.client.get(f"{M}/log", params={"comment": cid})).json()
    entries = [(e["actor"], e["action"], e["reason"]) for e in log["entries"]]
    assert entries[:5] == [
        ("mod@example.org", "mark_spam", "link farm"),
        ("mod@example.org", "restore", ""),
        ("mod@example.org", "remove", "off topic"),
        ("mod@example.org", "approve", "fine after all"),
        ("system", "auto_pending", entries[4][2]),
    ]
    assert HOLD_WORD in entries[4][2]
    assert all(e["created_at"].endswith("Z") for e in log["entries"])
    r = await as_moderator.client.get(f"{M}/log", params={"actor": "mod@example.org", "limit": 2})
    assert len(r.json()["entries"]) == 2 and r.json()["next_cursor"]


async def test_reject_and_remove_leave_a_tombstone_for_replies(
    as_moderator: Signed, client: httpx.AsyncClient, site: Site
) -> None:
    parent = await post(client, "The parent comment.")
    reply = await post(client, "A reply.", parent_id=parent["comment"]["id"])
    assert reply["status"] == "published"
    cid = parent["comment"]["id"]
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/remove", {"reason": "abusive"})
    assert r.status_code == 200
    comments = (await reader_view(client))["comments"]
    assert [(c["id"], c["status"], c["html"]) for c in comments] == [
        (cid, "removed", ""),
        (reply["comment"]["id"], "published", "<p>A reply.</p>"),
    ]


async def test_bulk(
    as_moderator: Signed, client: httpx.AsyncClient, holding_site: Site, services: Services
) -> None:
    ids = [(await post(client, f"{HOLD_WORD} number {i}"))["comment"]["id"] for i in range(3)]
    r = await as_moderator.api("POST", f"{M}/bulk", {"action": "approve", "ids": [*ids, ids[0]]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(x["comment_id"], x["ok"]) for x in results] == [
        (ids[0], True), (ids[1], True), (ids[2], True), (ids[0], False)
    ]  # fmt: skip
    assert "published already" in results[3]["error"]
    assert len((await reader_view(client))["comments"]) == 3
    for bad, field in (({"action": "nuke", "ids": ids}, "action"), ({"action": "spam", "ids": []},
                       "ids"), ({"action": "spam"}, "ids")):  # fmt: skip
        r = await as_moderator.api("POST", f"{M}/bulk", bad)
        assert r.status_code == 422 and error(r)["field"] == field


async def test_edit(as_moderator: Signed, held: dict[str, Any], client: httpx.AsyncClient) -> None:
    cid = held["comment"]["id"]
    r = await as_moderator.api(
        "PATCH",
        f"{M}/comments/{cid}",
        {"text": "Call me on **[number removed]**", "reason": "phone"},
    )
    assert r.status_code == 200 and r.json()["status"] == "pending"
    await as_moderator.api("POST", f"{M}/comments/{cid}/approve")
    [shown] = (await reader_view(client))["comments"]
    assert shown["html"] == "<p>Call me on <strong>[number removed]</strong></p>"
    log = (await as_moderator.client.get(f"{M}/log", params={"action": "edit"})).json()
    assert log["entries"][0]["reason"] == "phone"
    assert HOLD_WORD in log["entries"][0]["details"]["before"]
    r = await as_moderator.api("PATCH", f"{M}/comments/{cid}", {"text": "   "})
    assert r.status_code == 422 and error(r)["field"] == "text"
    r = await as_moderator.api("PATCH", f"{M}/comments/{cid}", {"txt": "x"})
    assert r.status_code == 422


async def test_bans_timed_and_shadow(
    as_moderator: Signed,
    client: httpx.AsyncClient,
    site: Site,
    settings: Any,
    services: Services,
) -> None:
    troll = await post(client, "First comment of the troll.")
    troll_reader = troll["reader_token"]
    cid = troll["comment"]["id"]
    r = await as_moderator.api(
        "POST",
        f"{M}/bans",
        {"kind": "reader", "comment_id": cid, "reason": "trolling", "hours": 24},
    )
    assert r.status_code == 201, r.text
    ban = r.json()
    assert ban["kind"] == "reader" and ban["site"] == "news" and not ban["shadow"]
    until = dt.datetime.fromisoformat(ban["until"].replace("Z", "+00:00"))
    assert dt.timedelta(hours=23) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=24)
    r = await client.post(
        "/api/v1/comments",
        json=comment_body("Let me back in."),
        headers={"Origin": ORIGIN, "X-Townhall-Reader": troll_reader},
    )
    assert r.status_code == 403 and error(r)["code"] == "banned"
    r = await as_moderator.api(
        "POST", f"{M}/bans", {"kind": "reader", "comment_id": cid, "reason": "again"}
    )
    assert r.status_code == 409
    listed = (await as_moderator.client.get(f"{M}/bans")).json()["bans"]
    assert [b["id"] for b in listed] == [ban["id"]]
    r = await as_moderator.api("POST", f"{M}/bans/{ban['id']}/lift", {"reason": "apologised"})
    assert r.status_code == 200 and r.json()["lifted_at"]
    assert (await as_moderator.client.get(f"{M}/bans")).json()["bans"] == []
    assert len((await as_moderator.client.get(f"{M}/bans?all=1")).json()["bans"]) == 1

    # Shadow ban: the troll still sees what they post; nobody else does.
    r = await as_moderator.api(
        "POST",
        f"{M}/bans",
        {"kind": "reader", "comment_id": cid, "reason": "quietly", "shadow": True},
    )
    assert r.status_code == 201 and r.json()["shadow"] and r.json()["until"] is None
    hidden = await post(client, "Can anybody hear me?", reader=troll_reader)
    assert hidden["status"] == "published"  # as far as the troll can tell
    mine = [c["id"] for c in (await reader_view(client, troll_reader))["comments"]]
    theirs = [c["id"] for c in (await reader_view(client))["comments"]]
    assert hidden["comment"]["id"] in mine and hidden["comment"]["id"] not in theirs

    # By value: an email address is hashed before it is stored.
    r = await as_moderator.api(
        "POST",
        f"{M}/bans",
        {"kind": "email", "value": "Spammer@Example.org", "site": "news", "reason": "spam"},
    )
    assert r.status_code == 201 and "spammer" not in r.text.lower()
    for bad, field in (
        ({"kind": "dna", "comment_id": cid, "reason": "x"}, "kind"),
        ({"kind": "reader", "comment_id": cid, "reason": ""}, "reason"),
        ({"kind": "reader", "comment_id": cid, "reason": "x", "hours": -1}, "hours"),
        ({"kind": "email", "value": "not an address", "site": "news", "reason": "x"}, "value"),
    ):
        r = await as_moderator.api("POST", f"{M}/bans", bad)
        assert r.status_code == 422, (bad, r.text)
        assert error(r)["field"] == field


async def test_threads_close_reopen_premoderation(
    as_moderator: Signed, client: httpx.AsyncClient, site: Site
) -> None:
    first = await post(client, "Before closing.")
    queue = (await as_moderator.client.get(f"{M}/queue", params={"status": "recent"})).json()
    thread = queue["items"][0]["thread"]["id"]
    assert first["comment"]["id"] == queue["items"][0]["id"]
    r = await as_moderator.api("POST", f"{M}/threads/{thread}/close", {"reason": "heated"})
    assert r.status_code == 200 and r.json()["closed"] is True
    r = await client.post(
        "/api/v1/comments", json=comment_body("After closing."), headers={"Origin": ORIGIN}
    )
    assert r.status_code == 403 and error(r)["code"] == "closed"
    assert (await reader_view(client))["thread"]["closed"] is True
    r = await as_moderator.api("POST", f"{M}/threads/{thread}/close")
    assert r.status_code == 409
    r = await as_moderator.api("POST", f"{M}/threads/{thread}/reopen")
    assert r.status_code == 200 and r.json()["closed"] is False
    r = await as_moderator.api("PUT", f"{M}/threads/{thread}/premoderation", {"enabled": True})
    assert r.status_code == 200 and r.json()["premoderation"] is True
    assert (await post(client, "Held now."))["status"] == "pending"
    r = await as_moderator.api("PUT", f"{M}/threads/{thread}/premoderation", {"enabled": None})
    assert r.status_code == 200 and r.json()["premoderation"] is None
    assert (await post(client, "Free again."))["status"] == "published"
    r = await as_moderator.api("PUT", f"{M}/threads/{thread}/premoderation", {"enabled": "yes"})
    assert r.status_code == 422


async def test_policy(as_moderator: Signed, client: httpx.AsyncClient, site: Site) -> None:
    r = await as_moderator.client.get(f"{M}/sites/news/policy")
    assert r.status_code == 200 and r.json()["policy"]["premoderation"] is False
    r = await as_moderator.api(
        "PATCH",
        f"{M}/sites/news/policy",
        {"changes": {"premoderation": True, "toxicity_hold": 0.6}, "reason": "election night"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["policy"]["toxicity_hold"] == 0.6
    assert (await post(client, "Premoderated."))["status"] == "pending"
    for changes in ({"toxicity_hold": 1.5}, {"no_such_field": 1}, {"max_links": -1}):
        r = await as_moderator.api("PATCH", f"{M}/sites/news/policy", {"changes": changes})
        assert r.status_code == 422, changes
        assert error(r)["field"] == "policy"
    r = await as_moderator.client.get(f"{M}/sites/nowhere/policy")
    assert r.status_code == 404
    log = (await as_moderator.client.get(f"{M}/log", params={"action": "update_policy"})).json()
    assert log["entries"][0]["reason"] == "election night"


async def test_author_history_and_notes(
    as_moderator: Signed, held: dict[str, Any], client: httpx.AsyncClient
) -> None:
    cid = held["comment"]["id"]
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/author/notes", {"note": "Warned once."})
    assert r.status_code == 201 and r.json()["created_by"] == "mod@example.org"
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/author/notes", {"note": " "})
    assert r.status_code == 422
    history = (await as_moderator.client.get(f"{M}/comments/{cid}/author")).json()
    assert history["site"] == "news" and history["counts"]["pending"] == 1
    assert [n["note"] for n in history["notes"]] == ["Warned once."]
    assert history["comments"][0]["id"] == cid


async def test_counts_me_and_bearer_tokens(
    signed_in: SignIn,
    admin_user: accounts.User,
    moderator: accounts.User,
    held: dict[str, Any],
    client: httpx.AsyncClient,
    services: Services,
) -> None:
    admin = await signed_in(admin_user)
    page = await admin.form(f"/admin/users/{moderator.id}/tokens", {"name": "spam bot"})
    assert page.status_code == 200
    token = re.search(r'id="new-token">(th_[A-Za-z0-9_-]+)<', page.text)
    assert token is not None
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    # A token needs no cookie and no CSRF header (it is not sent by browsers on their own).
    me = await client.get(f"{M}/me", headers=bearer)
    assert me.json() == {"email": "mod@example.org", "role": "moderator", "sites": ["news"]}
    assert (await client.get(f"{M}/counts", headers=bearer)).json() == {
        "pending": 1,
        "flagged": 0,
    }
    cid = held["comment"]["id"]
    r = await client.post(f"{M}/comments/{cid}/approve", headers=bearer)
    assert r.status_code == 200
    log = (await client.get(f"{M}/log", headers=bearer, params={"comment": cid})).json()
    assert log["entries"][0]["actor"] == "mod@example.org"
    tokens = accounts.list_tokens(services.db, admin_user)
    page = await admin.form(f"/admin/tokens/{tokens[0].id}/revoke")
    assert page.status_code == 303
    r = await client.get(f"{M}/me", headers=bearer)
    assert r.status_code == 401 and error(r)["code"] == "invalid_token"


async def test_bodies_are_checked(as_moderator: Signed, held: dict[str, Any]) -> None:
    cid = held["comment"]["id"]
    r = await as_moderator.client.post(
        f"{M}/comments/{cid}/reject",
        content=b"{not json",
        headers={"X-CSRF-Token": as_moderator.csrf, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and error(r)["code"] == "bad_request"
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/reject", {"reason": 5})
    assert r.status_code == 422 and error(r)["field"] == "reason"
    r = await as_moderator.api("POST", f"{M}/comments/{cid}/reject", {"reason": "x" * 1001})
    assert r.status_code == 422 and error(r)["field"] == "reason"
    r = await as_moderator.client.post(
        f"{M}/comments/{cid}/reject",
        content=b'{"reason": "' + b"x" * 70000 + b'"}',
        headers={"X-CSRF-Token": as_moderator.csrf, "Content-Type": "application/json"},
    )
    assert r.status_code == 413
