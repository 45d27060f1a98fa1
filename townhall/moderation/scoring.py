"""Scoring texts offline against a policy (``townhall moderation score``): what the pipeline
would say about each text on its own, without a reader or a thread behind it.

Only the checks that read nothing but the text and the policy run: word lists, links and the
toxicity model. Those that ask about the past (bans, rate limits, duplicates, first-time
commenters) or about the thread (closed, pre-moderation) are left out, and the links check
treats every author as one with approved comments. Plugins are left out too: nothing says
whether a third-party check needs history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from townhall.moderation.pipeline import (
    CheckContext,
    PostRow,
    Submission,
    ThreadSignature,
    ThreadText,
    moderate,
)
from townhall.moderation.policy import Policy

# The built-in checks that depend on the text and the policy alone.
TEXT_ONLY_CHECKS = ("banned_words", "suspect_words", "links", "toxicity")


class _NoHistory:
    """A past in which the author is established and nothing else happened."""

    def approved_count(self, site_id: int, reader_id: str | None, email_hash: str | None) -> int:
        return 1_000_000

    def recent_count(
        self, *, reader_id: str | None, ip_hash: str | None, since: dt.datetime
    ) -> int:
        return 0

    def thread_recent_count(self, thread_id: int, since: dt.datetime) -> int:
        return 0

    def recent_texts(
        self, *, thread_id: int, reader_id: str | None, ip_hash: str | None, since: dt.datetime
    ) -> list[str]:
        return []

    def recent_posts(
        self, *, reader_id: str | None, ip_hash: str | None, since: dt.datetime, limit: int
    ) -> list[PostRow]:
        return []

    def thread_signatures(
        self, thread_id: int, since: dt.datetime, limit: int
    ) -> list[ThreadSignature]:
        return []

    def thread_texts(self, ids: list[int]) -> list[ThreadText]:
        return []

    def active_ban(
        self,
        site_id: int,
        *,
        reader_id: str | None,
        email_hash: str | None,
        ip_hash: str | None,
        now: dt.datetime,
    ) -> dict[str, Any] | None:
        return None


def score_texts(policy: Policy, texts: list[str]) -> list[dict[str, Any]]:
    """For each text: ``{"text", "score", "decision", "reasons"}``. ``score`` is the toxicity
    model's (None without the model or with toxicity switched off), ``decision`` the verdict
    (pass, nudge, hold, reject) and ``reasons`` why, one per check that acted."""
    wanted = policy.checks if policy.checks is not None else TEXT_ONLY_CHECKS
    names = [n for n in TEXT_ONLY_CHECKS if n in wanted]
    ctx = CheckContext(policy=msgspec.structs.replace(policy, checks=names), history=_NoHistory())
    now = dt.datetime.now(dt.UTC)
    out = []
    for text in texts:
        sub = Submission(
            site_id=0,
            thread_id=None,
            thread_closed=False,
            text=text,
            author_name="",
            author_website=None,
            email_hash=None,
            reader_id=None,
            ip_hash=None,
            now=now,
        )
        decision = moderate(sub, ctx)
        out.append(
            {
                "text": text,
                "score": decision.toxicity,
                "decision": decision.verdict.value,
                "reasons": decision.reasons,
            }
        )
    return out
