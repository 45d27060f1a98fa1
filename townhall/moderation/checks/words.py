"""Banned words reject a comment, suspect words hold it; both see through obfuscation.

The matching itself (wildcards, leetspeak, masks, spacing, look-alike letters, word
boundaries) lives in :mod:`townhall.moderation.normalise`; a policy's lists compile once per
process and are reused for every comment.
"""

from __future__ import annotations

from townhall.moderation.normalise import WordMatch, compile_words
from townhall.moderation.pipeline import CheckContext, CheckResult, Submission, registry
from townhall.types import Verdict


def _quoted(matches: list[WordMatch]) -> str:
    names = sorted({m.pattern for m in matches})
    return ", ".join(f'"{n}"' for n in names)


def _details(matches: list[WordMatch]) -> dict[str, object]:
    return {"matches": [m.as_json() for m in matches]}


@registry.register("banned_words")
def banned_words(sub: Submission, ctx: CheckContext) -> CheckResult | None:
    matcher = compile_words(ctx.policy.banned_words)
    if not matcher:
        return None
    found = matcher.find(sub.text)
    if not found:
        return None
    return CheckResult(
        "banned_words",
        Verdict.REJECT,
        f"Contains a banned word: {_quoted(found)}.",
        details=_details(found),
    )


@registry.register("suspect_words")
def suspect_words(sub: Submission, ctx: CheckContext) -> CheckResult | None:
    matcher = compile_words(ctx.policy.suspect_words)
    if not matcher:
        return None
    found = matcher.find(sub.text)
    if not found:
        return None
    return CheckResult(
        "suspect_words",
        Verdict.HOLD,
        f"Contains a word on the review list: {_quoted(found)}.",
        details=_details(found),
    )
