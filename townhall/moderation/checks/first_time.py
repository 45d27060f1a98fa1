"""First-time commenters wait for a moderator until enough of their comments were approved."""

from __future__ import annotations

from townhall.moderation.checks.authors import approved_count
from townhall.moderation.pipeline import CheckContext, CheckResult, Submission, registry
from townhall.types import Verdict


@registry.register("first_time")
def first_time(sub: Submission, ctx: CheckContext) -> CheckResult | None:
    needed = ctx.policy.first_time_hold
    if needed <= 0 or sub.is_edit:
        return None  # an edit cannot make its author newer than they were
    approved = approved_count(sub, ctx)
    if approved >= needed:
        return None
    return CheckResult(
        "first_time",
        Verdict.HOLD,
        f"New commenter: {approved} of {needed} comments approved so far; held until {needed} are.",
        details={"approved": approved, "needed": needed},
    )
