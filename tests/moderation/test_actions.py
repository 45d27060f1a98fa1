"""Moderator actions on SQLite and PostgreSQL: every decision changes the status, keeps the
thread's visible count and version right, writes the audit log and announces the change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tests.moderation.conftest import post, reader, set_policy
from townhall.domain import moderation as mod
from townhall.domain.comments import delete_comment, flag
from townhall.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from townhall.domain.events import ThreadChanged
from townhall.domain.listing import build_snapshot
from townhall.domain.services import Services
from townhall.domain.sites import Site
from townhall.store import comments as comment_store
from townhall.store.schema import comments, moderation_log, threads
from townhall.types import CommentStatus, Role

MOD = "mod@news.example"


@pytest.fixture
def svc(services: Services, site: Site) -> Services:
    return services


@pytest.fixture
def events(svc: Services) -> list[ThreadChanged]:
    seen: list[ThreadChanged] = []
    svc.events.subscribe(seen.append)
    return seen


def thread_row(svc: Services) -> Any:
    with svc.db.read() as conn:
        return conn.execute(select(threads)).mappings().one()


def status_of(svc: Services, cid: str) -> CommentStatus:
    with svc.db.read() as conn:
        value = conn.execute(select(comments.c.status).where(comments.c.id == int(cid)))
        return CommentStatus(value.scalar_one())


def log_rows(svc: Services, **where: Any) -> list[Any]:
    query = select(moderation_log).order_by(moderation_log.c.id)
    for name, value in where.items():
        query = query.where(moderation_log.c[name] == value)
    with svc.db.read() as conn:
        return list(conn.execute(query).mappings())


def visible(svc: Services) -> dict[str, str]:
    """What readers see: comment id -> shown status."""
    tid = thread_row(svc)["id"]
    with svc.db.read() as conn:
        snap = build_snapshot(comment_store.listing_rows(conn, tid))
    return {str(cid): str(status) for cid, status in snap.visible_status.items()}


def held(svc: Services, text: str = "A held comment.", n: int = 1, **more: Any) -> str:
    set_policy(svc, premoderation=True)
    posted = post(svc, text, reader(n), **more)
    set_policy(svc, premoderation=False)
    assert posted.status is CommentStatus.PENDING
    return posted.comment.id


def published(svc: Services, text: str = "A fine comment.", n: int = 1, **more: Any) -> str:
    posted = post(svc, text, reader(n), **more)
    assert posted.status is CommentStatus.PUBLISHED, posted.decision.reasons
    return posted.comment.id


# --- decisions ---------------------------------------------------------------------------------


def test_approve_publishes_counts_logs_and_announces(
    svc: Services, events: list[ThreadChanged]
) -> None:
    cid = held(svc)
    before = thread_row(svc)
    assert before["comment_count"] == 0
    done = mod.approve(svc, MOD, cid, "reads fine")
    after = thread_row(svc)
    assert done.status == "published" and done.previous_status == "pending"
    assert after["comment_count"] == 1 == done.thread_count
    assert after["version"] == before["version"] + 1 == done.thread_version
    assert status_of(svc, cid) is CommentStatus.PUBLISHED
    [entry] = log_rows(svc, action="approve")
    assert entry["actor"] == MOD and entry["reason"] == "reads fine"
    assert entry["comment_id"] == int(cid) and entry["thread_id"] == after["id"]
    assert entry["details"] == {"from": "pending", "to": "published", "flags": 0}
    assert events[-1].comment_id == int(cid) and events[-1].count == 1
    assert events[-1].version == after["version"]


def test_actions_check_the_comment_exists_and_the_transition_makes_sense(svc: Services) -> None:
    cid = published(svc)
    with pytest.raises(NotFound):
        mod.approve(svc, MOD, "999999")
    with pytest.raises(InvalidInput):
        mod.approve(svc, MOD, "not-an-id")
    with pytest.raises(InvalidInput):
        mod.approve(svc, "", cid)
    with pytest.raises(Conflict, match="published already"):
        mod.approve(svc, MOD, cid)
    with pytest.raises(Conflict, match="remove it instead"):
        mod.reject(svc, MOD, cid)
    with pytest.raises(Conflict, match="published already"):
        mod.restore(svc, MOD, cid)
    with pytest.raises(Conflict, match="approve it instead"):
        mod.restore(svc, MOD, held(svc, "held", 2))
    assert log_rows(svc, actor=MOD) == []


def test_reject_and_spam_keep_a_held_comment_out_of_the_count(svc: Services) -> None:
    a, b = held(svc, "first held", 1), held(svc, "second held", 2)
    mod.reject(svc, MOD, a, "off topic")
    mod.mark_spam(svc, MOD, b, "advert")
    assert status_of(svc, a) is CommentStatus.REJECTED
    assert status_of(svc, b) is CommentStatus.SPAM
    assert thread_row(svc)["comment_count"] == 0
    # A spam verdict can be softened to a rejection, and a rejection approved after all.
    mod.reject(svc, MOD, b)
    mod.approve(svc, MOD, a)
    assert thread_row(svc)["comment_count"] == 1
    assert [r["action"] for r in log_rows(svc, actor=MOD)] == [
        "reject",
        "mark_spam",
        "reject",
        "approve",
    ]


def test_remove_with_replies_leaves_a_tombstone_and_restore_brings_it_back(
    svc: Services,
) -> None:
    parent = published(svc, "The parent comment.", 1)
    child = published(svc, "A reply to it.", 2, parent_id=parent)
    assert thread_row(svc)["comment_count"] == 2
    mod.remove(svc, MOD, parent, "personal attack")
    assert status_of(svc, parent) is CommentStatus.REMOVED
    assert thread_row(svc)["comment_count"] == 1
    assert visible(svc) == {parent: "removed", child: "published"}
    mod.restore(svc, MOD, parent, "on reflection, fine")
    assert visible(svc) == {parent: "published", child: "published"}
    assert thread_row(svc)["comment_count"] == 2
    with svc.db.read() as conn:
        row = comment_store.comment_by_id(conn, int(parent))
    assert row is not None and row["html"] == "<p>The parent comment.</p>"


def test_remove_without_replies_disappears(svc: Services) -> None:
    keep, gone = published(svc, "Stays.", 1), published(svc, "Goes.", 2)
    mod.remove(svc, MOD, gone)
    assert visible(svc) == {keep: "published"}
    assert thread_row(svc)["comment_count"] == 1
    with pytest.raises(Conflict, match="removed already"):
        mod.remove(svc, MOD, gone)


def test_spam_on_a_published_comment_takes_it_down(svc: Services) -> None:
    cid = published(svc)
    mod.mark_spam(svc, MOD, cid)
    assert thread_row(svc)["comment_count"] == 0
    assert visible(svc) == {}


def test_author_deleted_comments_are_not_moderated(svc: Services) -> None:
    posted = post(svc, "I will delete this.", reader(1))
    delete_comment(svc, posted.comment.id, posted.edit_token)
    with pytest.raises(Conflict, match="author deleted it"):
        mod.remove(svc, MOD, posted.comment.id)


def test_approving_a_flagged_comment_dismisses_the_flags(svc: Services) -> None:
    set_policy(svc, flags_to_hold=2)
    cid = published(svc)
    flag(svc, cid, "abuse", None, reader(2))
    assert mod.queue(svc, mod.QueueFilter(status="flagged")).items[0].id == cid
    done = mod.approve(svc, MOD, cid, "fair comment")
    assert done.status == "published"
    assert mod.queue(svc, mod.QueueFilter(status="flagged")).items == []
    assert log_rows(svc, action="dismiss_flags")[0]["details"]["flags"] == 1
    # Held by flags, then approved: it takes new flags to hold it again.
    flag(svc, cid, "abuse", None, reader(3))
    flag(svc, cid, "spam", None, reader(4))
    assert status_of(svc, cid) is CommentStatus.PENDING
    mod.approve(svc, MOD, cid)
    assert status_of(svc, cid) is CommentStatus.PUBLISHED
    assert thread_row(svc)["comment_count"] == 1


def test_bulk_applies_each_and_reports_failures(svc: Services) -> None:
    a, b = held(svc, "one", 1), held(svc, "two", 2)
    c = published(svc, "three", 3)
    out = mod.bulk(svc, MOD, "approve", [a, b, c, "424242"])
    assert [(o.comment_id, o.ok) for o in out] == [
        (a, True),
        (b, True),
        (c, False),
        ("424242", False),
    ]
    assert "published already" in (out[2].error or "")
    assert thread_row(svc)["comment_count"] == 3
    with pytest.raises(InvalidInput, match="action must be one of"):
        mod.bulk(svc, MOD, "explode", [a])


# --- bans --------------------------------------------------------------------------------------


def test_ban_by_email_hash_never_shows_the_address(svc: Services) -> None:
    no_email = published(svc, "No email given.", 1)
    with pytest.raises(Conflict, match="no email address on record"):
        mod.ban(svc, MOD, kind="email", comment_id=no_email, reason="abuse")
    cid = published(svc, "With email.", 2, email="troll@example.org")
    view = mod.ban(svc, MOD, kind="email", comment_id=cid, reason="abuse")
    assert view.site == "news" and view.kind == "email"
    assert view.value_prefix == svc.hasher.email("troll@example.org")[:8]
    assert "troll" not in repr(view)
    with pytest.raises(Forbidden):
        post(svc, "New browser, same address.", reader(3), email="troll@example.org")
    with pytest.raises(Conflict, match="banned already"):
        mod.ban(svc, MOD, kind="email", value="troll@example.org", site="news", reason="again")
    [entry] = log_rows(svc, action="ban")
    assert entry["details"]["value_prefix"] == view.value_prefix
    assert "troll@" not in str(entry["details"])


def test_ban_by_ip_and_unban(svc: Services) -> None:
    cid = published(svc, "From a shared address.", 1)
    view = mod.ban(svc, MOD, kind="ip", comment_id=cid, reason="spam run")
    with pytest.raises(Forbidden):
        post(svc, "Another token, same address.", reader(2, ip=1))
    lifted = mod.unban(svc, MOD, view.id, "appeal accepted")
    assert lifted.lifted_at is not None
    assert post(svc, "Back again.", reader(2, ip=1)).status is CommentStatus.PUBLISHED
    with pytest.raises(Conflict, match="lifted already"):
        mod.unban(svc, MOD, view.id)
    with pytest.raises(NotFound):
        mod.unban(svc, MOD, 987654)
    assert [r["action"] for r in log_rows(svc, actor=MOD)] == ["ban", "unban"]


def test_ban_checks_its_input(svc: Services) -> None:
    cid = published(svc)
    with pytest.raises(InvalidInput, match="kind must be one of"):
        mod.ban(svc, MOD, kind="shoe", comment_id=cid, reason="x")
    with pytest.raises(InvalidInput, match="reason is empty"):
        mod.ban(svc, MOD, kind="reader", comment_id=cid, reason=" ")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with pytest.raises(InvalidInput, match="until"):
        mod.ban(svc, MOD, kind="reader", comment_id=cid, reason="x", until=past)
    with pytest.raises(InvalidInput, match="hash"):
        mod.ban(svc, MOD, kind="reader", value="somebody", site="news", reason="x")
    with pytest.raises(NotFound):
        mod.ban(svc, MOD, kind="ip", value="192.0.2.1", site="nowhere", reason="x")


def test_temporary_shadow_ban_on_every_site(svc: Services) -> None:
    cid = published(svc, "Before the ban.", 1)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    view = mod.ban(
        svc, MOD, kind="reader", comment_id=cid, reason="trolling", shadow=True,
        all_sites=True, until=until,
    )  # fmt: skip
    assert view.site is None and view.shadow and view.until is not None
    after = post(svc, "Only I can see this.", reader(1))
    assert after.status is CommentStatus.PUBLISHED
    assert status_of(svc, after.comment.id) is CommentStatus.SPAM
    assert after.comment.id not in visible(svc)
    assert [b.id for b in mod.list_bans(svc, sites=["news"])] == [view.id]


# --- threads and policy ------------------------------------------------------------------------


def test_close_and_reopen_a_thread(svc: Services, events: list[ThreadChanged]) -> None:
    published(svc)
    tid = thread_row(svc)["id"]
    version = thread_row(svc)["version"]
    closed = mod.close_thread(svc, MOD, tid, "heated")
    assert closed.closed and closed.version == version + 1
    assert events[-1].kind == "thread"
    with pytest.raises(Forbidden):
        post(svc, "Too late.", reader(2))
    with pytest.raises(Conflict, match="closed already"):
        mod.close_thread(svc, MOD, tid)
    assert not mod.reopen_thread(svc, MOD, tid).closed
    assert post(svc, "Open again.", reader(2)).status is CommentStatus.PUBLISHED
    with pytest.raises(NotFound):
        mod.close_thread(svc, MOD, 424242)
    assert [r["action"] for r in log_rows(svc, thread_id=tid, actor=MOD)] == [
        "close_thread",
        "reopen_thread",
    ]


def test_thread_premoderation_overrides_the_site(svc: Services) -> None:
    published(svc)
    tid = thread_row(svc)["id"]
    assert mod.set_thread_premoderation(svc, MOD, tid, True).premoderation is True
    assert post(svc, "Held on this thread.", reader(2)).status is CommentStatus.PENDING
    assert post(svc, "Not elsewhere.", reader(3), thread="/b").status is CommentStatus.PUBLISHED
    assert mod.set_thread_premoderation(svc, MOD, tid, None).premoderation is None
    assert post(svc, "Free again.", reader(4)).status is CommentStatus.PUBLISHED


def test_policy_updates_are_validated_and_logged(svc: Services) -> None:
    assert mod.get_policy(svc, "news").max_links == 2
    with pytest.raises(InvalidInput, match="toxicity_hold must be between 0 and 1"):
        mod.update_policy(svc, MOD, "news", {"toxicity_hold": 7})
    with pytest.raises(InvalidInput, match="unknown field"):
        mod.update_policy(svc, MOD, "news", {"max_linkz": 3})
    with pytest.raises(InvalidInput, match="two letters"):
        mod.update_policy(svc, MOD, "news", {"banned_words": ["*"]})
    with pytest.raises(NotFound):
        mod.get_policy(svc, "nowhere")
    policy = mod.update_policy(svc, MOD, "news", {"max_links": 0}, "no links here")
    assert policy.max_links == 0 and mod.get_policy(svc, "news").max_links == 0
    [entry] = log_rows(svc, action="update_policy")
    assert entry["details"] == {"changes": {"max_links": 0}}
    # The cached site sees the change at once on this node.
    assert post(svc, "See example.com", reader(1)).status is CommentStatus.PENDING


def test_can_moderate() -> None:
    assert mod.can_moderate(Role.ADMIN, [], 7)
    assert mod.can_moderate("moderator", [3, 7], 7)
    assert not mod.can_moderate("moderator", [3], 7)
    assert not mod.can_moderate("reader", [7], 7)


# --- the queue, history, notes and the log ------------------------------------------------------


def test_queue_rows_carry_what_a_moderator_needs(svc: Services) -> None:
    published(svc, "An earlier fine comment.", 1, email="ann@example.org")
    set_policy(svc, suspect_words=["refund"])
    cid = post(svc, "I want a refund, see example.com/x", reader(1), email="ann@example.org")
    set_policy(svc, suspect_words=[])
    page = mod.queue(svc, mod.QueueFilter())
    [item] = page.items
    assert item.id == cid.comment.id and item.status == "pending"
    assert item.text.startswith("I want a refund") and item.html.startswith("<p>")
    assert item.thread.title == "A story" and item.thread.url.endswith("/story")
    assert item.author.name == "Ann" and item.author.email == "ann@example.org"
    assert item.author.ip_hash_prefix == reader(1).ip_hash[:8]  # type: ignore[index]
    assert item.history.published == 1 and item.history.pending == 1
    checks = {c["check"]: c for c in item.checks}
    assert checks["suspect_words"]["verdict"] == "hold"
    assert "refund" in checks["suspect_words"]["reason"]
    assert item.flags == [] and page.next_cursor is None
    assert mod.comment_item(svc, cid.comment.id) == item
    with pytest.raises(NotFound):
        mod.comment_item(svc, "777777")


def test_queue_filters_and_pages_newest_first(svc: Services) -> None:
    ids = [held(svc, f"held number {i} about buses", i) for i in range(5)]
    other = held(svc, "held on another thread", 9, thread="/other")
    spam = published(svc, "soon spam", 7)
    mod.mark_spam(svc, MOD, spam)
    first = mod.queue(svc, mod.QueueFilter(limit=2))
    assert [i.id for i in first.items] == [other, ids[4]]
    second = mod.queue(svc, mod.QueueFilter(limit=2, cursor=first.next_cursor))
    assert [i.id for i in second.items] == [ids[3], ids[2]]
    third = mod.queue(svc, mod.QueueFilter(limit=2, cursor=second.next_cursor))
    assert [i.id for i in third.items] == [ids[1], ids[0]]
    assert third.next_cursor is None

    def ids_for(**f: Any) -> list[str]:
        return [i.id for i in mod.queue(svc, mod.QueueFilter(**f)).items]

    assert ids_for(status="spam") == [spam]
    assert ids_for(search="NUMBER 3") == [ids[3]]
    assert ids_for(check="premoderation", thread_id=thread_row_for(svc, "/other")) == [other]
    assert ids_for(reason="pre-moderation", limit=1) == [other]
    assert ids_for(check="links") == []
    assert ids_for(sites=["news"], status="recent")[0] == spam
    assert ids_for(min_score=0.5) == []  # no toxicity scores without the model
    with pytest.raises(InvalidInput, match="status must be one of"):
        mod.queue(svc, mod.QueueFilter(status="everything"))
    with pytest.raises(InvalidInput, match="cursor"):
        mod.queue(svc, mod.QueueFilter(cursor="garbage!"))
    with pytest.raises(InvalidInput, match="min_score"):
        mod.queue(svc, mod.QueueFilter(min_score=3))
    with pytest.raises(NotFound):
        mod.queue(svc, mod.QueueFilter(sites=["nowhere"]))


def thread_row_for(svc: Services, key: str) -> int:
    with svc.db.read() as conn:
        return int(conn.execute(select(threads.c.id).where(threads.c.key == key)).scalar_one())


def test_reader_history_and_notes(svc: Services) -> None:
    a = published(svc, "One.", 1)
    b = held(svc, "Two, held.", 1)
    mod.reject(svc, MOD, b, "rude")
    published(svc, "Somebody else.", 2)
    note = mod.add_reader_note(svc, MOD, a, "Argues in good faith.")
    with pytest.raises(InvalidInput, match="note is empty"):
        mod.add_reader_note(svc, MOD, a, "")
    history = mod.reader_history(svc, b)
    assert history.counts.published == 1 and history.counts.rejected == 1
    assert [c.id for c in history.comments] == [b, a]
    assert history.comments[0].reasons == ["Pre-moderation: every comment is held."]
    assert [n.note for n in history.notes] == ["Argues in good faith."] and note.id
    assert history.author.key is not None and history.author.key.startswith("reader:")
    assert history.bans == []


def test_audit_log_filters_and_pages(svc: Services) -> None:
    cids = [held(svc, f"held {i}", i) for i in range(3)]
    for cid in cids:
        mod.approve(svc, MOD, cid)
    mod.remove(svc, "other@news.example", cids[0], "second thoughts")
    page = mod.audit_log(svc, mod.AuditFilter(actor=MOD, limit=2))
    assert [e.comment_id for e in page.entries] == [cids[2], cids[1]]
    rest = mod.audit_log(svc, mod.AuditFilter(actor=MOD, limit=2, cursor=page.next_cursor))
    assert [e.comment_id for e in rest.entries] == [cids[0]] and rest.next_cursor is None
    [removal] = mod.audit_log(svc, mod.AuditFilter(action="remove")).entries
    assert removal.actor == "other@news.example" and removal.reason == "second thoughts"
    by_comment = mod.audit_log(svc, mod.AuditFilter(comment_id=cids[0], sites=["news"]))
    assert [e.action for e in by_comment.entries] == ["remove", "approve", "auto_pending"]
