"""What several checks ask about a submission's author, asked once per submission.

The rate limits and the duplicate check both look at the author's recent comments; the links
and first-time checks both ask how many of the author's comments were approved. One query
each serves them all: answers are kept in the submission's context (``CheckContext.memo``),
which lives as long as the submission is checked, so nothing outlives it.

Importing this module registers no check (the order of ``checks/__init__`` stays the order
checks run in)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, cast

from townhall.moderation.pipeline import CheckContext, Submission

FETCH_CAP = 500  # rows a look-back fetches at most; counts beyond it are asked for exactly
_MIN_AUTHOR_ROWS = 50  # enough for the duplicate check when the rate limits are generous


class Post(NamedTuple):
    thread_id: int
    reader_id: str | None
    ip_hash: str | None
    created_at: dt.datetime
    text: str


class Recent(NamedTuple):
    posts: tuple[Post, ...]  # newest first
    complete: bool  # False: the fetch hit its cap, older rows in the window are missing

    def count_since(self, since: dt.datetime) -> int:
        return sum(1 for p in self.posts if p.created_at >= since)


def approved_count(sub: Submission, ctx: CheckContext) -> int:
    """How many of the author's comments on the site were approved (published)."""
    key = ("approved", sub)
    found = ctx.memo.get(key)
    if found is None:
        found = ctx.history.approved_count(sub.site_id, sub.reader_id, sub.email_hash)
        ctx.memo[key] = found
    return int(found)


def author_posts(sub: Submission, ctx: CheckContext) -> Recent:
    """The author's (reader's or address's) comments in any thread, as far back as the rate
    limits and the duplicate window look."""
    policy = ctx.policy
    minutes = max(
        60 if policy.rate_sustained > 0 else 0,
        1 if policy.rate_burst > 0 else 0,
        policy.duplicate_window_minutes,
    )
    limit = min(max(policy.rate_burst, policy.rate_sustained, _MIN_AUTHOR_ROWS) + 1, FETCH_CAP)
    key = ("author_posts", sub, minutes, limit)
    found = ctx.memo.get(key)
    if found is None:
        rows = ctx.history.recent_posts(
            reader_id=sub.reader_id,
            ip_hash=sub.ip_hash,
            since=sub.now - dt.timedelta(minutes=minutes),
            limit=limit,
        )
        found = ctx.memo[key] = Recent(tuple(Post._make(r) for r in rows), len(rows) < limit)
    return cast(Recent, found)
