"""Rate limits per reader and per address (burst and sustained), and a per-thread flood guard.

Counts come from stored comments, so every node sees the same numbers and a restart forgets
nothing. The web layer has its own request-level limiter in front of this. The author's comments
are fetched once per submission and shared with the duplicate check (``checks.authors``)."""

from __future__ import annotations

import datetime as dt

from townhall.moderation.checks.authors import author_posts
from townhall.moderation.pipeline import CheckContext, CheckResult, Submission, registry
from townhall.types import Verdict


@registry.register("rate_limit")
def rate_limit(sub: Submission, ctx: CheckContext) -> CheckResult | None:
    if sub.is_edit:
        return None
    policy = ctx.policy
    if policy.rate_burst > 0 or policy.rate_sustained > 0:
        recent = author_posts(sub, ctx)
        for window, limit, label in (
            (dt.timedelta(minutes=1), policy.rate_burst, "a minute"),
            (dt.timedelta(hours=1), policy.rate_sustained, "an hour"),
        ):
            if limit <= 0:
                continue
            since = sub.now - window
            count = recent.count_since(since)
            if not recent.complete and count < limit:
                count = ctx.history.recent_count(
                    reader_id=sub.reader_id, ip_hash=sub.ip_hash, since=since
                )
            if count >= limit:
                return CheckResult(
                    "rate_limit",
                    Verdict.REJECT,
                    f"More than {limit} comments in {label} from this reader.",
                    details={"count": count},
                    spam=True,
                    refusal="rate_limited",
                    retry_after=int(window.total_seconds()),
                )
    if sub.thread_id is not None and policy.thread_rate > 0:
        since = sub.now - dt.timedelta(minutes=1)
        count = ctx.history.thread_recent_count(sub.thread_id, since)  # index-only COUNT
        if count >= policy.thread_rate:
            return CheckResult(
                "thread_flood",
                Verdict.HOLD,
                f"The thread received more than {policy.thread_rate} comments in a minute.",
                details={"count": count},
            )
    return None
