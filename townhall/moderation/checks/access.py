"""Who may post at all: closed threads, pre-moderation and bans."""

from __future__ import annotations

from townhall.moderation.pipeline import CheckContext, CheckResult, Submission, registry
from townhall.types import Verdict


@registry.register("closed")
def closed_thread(sub: Submission, ctx: CheckContext) -> CheckResult | None:
    if sub.thread_closed:
        return CheckResult(
            "closed", Verdict.REJECT, "The thread is closed for comments.", refusal="closed"
        )
    return None


@registry.register("ban")
def banned_reader(sub: Submission, ctx: CheckContext) -> CheckResult | None:
    ban = ctx.history.active_ban(
        sub.site_id,
        reader_id=sub.reader_id,
        email_hash=sub.email_hash,
        ip_hash=sub.ip_hash,
        now=sub.now,
    )
    if ban is None:
        return None
    until = ban.get("until")
    when = f" until {until:%Y-%m-%d %H:%M} UTC" if until else ""
    if ban.get("shadow"):
        return CheckResult(
            "ban",
            Verdict.PASS,
            f"Shadow-banned{when}: shown to the author only.",
            details={"ban_id": ban["id"]},
            shadow=True,
        )
    return CheckResult(
        "ban",
        Verdict.REJECT,
        f"The author is banned{when}.",
        details={"ban_id": ban["id"], "reason": ban.get("reason") or ""},
        refusal="banned",
    )


@registry.register("premoderation")
def premoderation(sub: Submission, ctx: CheckContext) -> CheckResult | None:
    if ctx.policy.premoderation:
        return CheckResult("premoderation", Verdict.HOLD, "Pre-moderation: every comment is held.")
    return None
