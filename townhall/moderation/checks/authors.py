"""What several checks ask about a submission's author, asked once per submission.

Importing this module registers no check (the order of ``checks/__init__`` stays the order
checks run in)."""

from __future__ import annotations

import functools
from collections.abc import Hashable
from typing import cast

from townhall.moderation.pipeline import CheckContext, History, Submission


def approved_count(sub: Submission, ctx: CheckContext) -> int:
    """How many of the author's comments on the site were approved (published). The links and
    first-time checks both ask; one query per submission serves both."""
    return _approved(cast(Hashable, ctx.history), sub)


@functools.lru_cache(maxsize=256)
def _approved(history: Hashable, sub: Submission) -> int:
    # Keyed on the whole submission, its time included: a later submission asks afresh.
    return cast(History, history).approved_count(sub.site_id, sub.reader_id, sub.email_hash)
