"""Seed the demo site with the discussion in ``discussion.json`` (once; later starts keep it).

Each comment goes through the real moderation pipeline, so the rude ones land in the
moderation queue exactly as they would on a live site."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from townhall.domain.errors import NotFound
from townhall.domain.identity import Hasher, token_hash
from townhall.domain.rendering import render_markdown
from townhall.domain.sites import create_site, get_site, update_site
from townhall.moderation.pipeline import CheckContext, Submission, moderate
from townhall.moderation.policy import merge_policy
from townhall.settings import Settings
from townhall.store import comments as comment_store
from townhall.store import threads as thread_store
from townhall.store.database import Database
from townhall.store.history import SqlHistory
from townhall.types import CommentStatus

DISCUSSION = Path(__file__).with_name("discussion.json")
DEMO_SITE = "demo"


def seed_demo(settings: Settings, db: Database, *, origins: list[str]) -> int:
    """Create the demo site (allowing ``origins``) and its discussion; returns comments added."""
    try:
        site = get_site(db, DEMO_SITE)
        wanted = sorted(set(site.origins) | set(origins))
        if wanted != sorted(site.origins):
            site = update_site(db, DEMO_SITE, origins=wanted)
    except NotFound:
        site = create_site(db, key=DEMO_SITE, name="The Riverside Courier (demo)", origins=origins)
    data: dict[str, Any] = json.loads(DISCUSSION.read_text(encoding="utf-8"))
    meta = data["thread"]
    now = dt.datetime.now(dt.UTC)
    with db.read() as conn:
        if thread_store.thread_by_key(conn, site.id, meta["key"]) is not None:
            return 0
    hasher = Hasher(settings.secret_bytes())
    history = SqlHistory(db)
    policy = merge_policy(site.policy, None)
    ids: dict[str, tuple[int, int, int | None]] = {}  # ref -> (id, depth, root)
    added = 0
    with db.write() as conn:
        thread = thread_store.get_or_create_thread(
            conn, site_id=site.id, key=meta["key"], title=meta["title"], url=meta["url"], now=now
        )
    for item in data["comments"]:
        created = now - dt.timedelta(minutes=int(item.get("minutes_ago", 60)))
        reader_id = token_hash("demo-reader-" + item["name"])
        sub = Submission(
            site_id=site.id,
            thread_id=thread["id"],
            thread_closed=False,
            text=item["text"],
            author_name=item["name"],
            author_website=item.get("website"),
            email_hash=None,
            reader_id=reader_id,
            ip_hash=hasher.ip("192.0.2." + str(len(item["name"]))),
            now=created,
            confirmed=True,
            is_edit=True,  # is_edit: rate limits do not apply
        )
        decision = moderate(sub, CheckContext(policy=policy, history=history))
        status = decision.status
        parent = ids.get(item.get("parent") or "")
        with db.write() as conn:
            comment_id = comment_store.insert_comment(
                conn,
                thread_id=thread["id"],
                parent_id=parent[0] if parent else None,
                root_id=(parent[2] or parent[0]) if parent else None,
                depth=parent[1] + 1 if parent else 0,
                status=status,
                shadow=False,
                author_name=item["name"],
                author_website=item.get("website"),
                reader_id=reader_id,
                text=item["text"],
                html=render_markdown(item["text"]),
                created_at=created,
                likes=int(item.get("likes", 0)),
                dislikes=int(item.get("dislikes", 0)),
                flag_count=0,
                toxicity=decision.toxicity,
                moderation=decision.as_json(),
            )
            thread_store.bump(
                conn,
                thread["id"],
                count_delta=int(status is CommentStatus.PUBLISHED),
                last_comment_at=created,
            )
            if status is not CommentStatus.PUBLISHED:
                comment_store.log_action(
                    conn,
                    site_id=site.id,
                    thread_id=thread["id"],
                    comment_id=comment_id,
                    actor="system",
                    action=f"auto_{status.value}",
                    now=created,
                    reason="; ".join(decision.reasons),
                    details=decision.as_json(),
                )
        root = (parent[2] or parent[0]) if parent else None
        ids[item["ref"]] = (comment_id, parent[1] + 1 if parent else 0, root)
        added += 1
    return added
