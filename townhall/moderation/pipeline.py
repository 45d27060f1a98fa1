"""The moderation pipeline: every new or edited comment passes the checks the policy names.

A check is a callable registered under a name; townhall's own checks register themselves the
same way a third-party package does (entry point group ``townhall.checks``). Each returns a
:class:`CheckResult` or ``None`` (nothing to say). The strictest verdict wins.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol

from townhall.moderation.policy import Policy
from townhall.types import CommentStatus, Verdict

log = logging.getLogger(__name__)

_SEVERITY = {Verdict.PASS: 0, Verdict.NUDGE: 1, Verdict.HOLD: 2, Verdict.REJECT: 3}


@dataclass(frozen=True)
class CheckResult:
    check: str
    verdict: Verdict
    reason: str
    score: float | None = None
    details: dict[str, Any] | None = None
    spam: bool = False  # a reject that is spam rather than abuse
    shadow: bool = False  # the author is shadow-banned: publish to them only
    refusal: str | None = None  # refuse outright, store nothing: "closed", "banned", "rate_limited"
    retry_after: int | None = None  # with refusal "rate_limited": seconds until a retry helps

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "verdict": self.verdict.value,
            "reason": self.reason,
        }
        if self.score is not None:
            out["score"] = round(self.score, 4)
        if self.details:
            out["details"] = self.details
        return out


# A stored comment as the checks that look back see it:
# (thread id, reader id, IP hash, created at, text). Plain tuples, so the store needs no import
# from here (imports point down); ``checks.authors.Post`` names the fields.
PostRow = tuple[int, str | None, str | None, dt.datetime, str]
# A comment of a thread as the flood check first sees it: (comment id, MinHash band signature
# or None; see moderation/minhash.py), then, if it may be a near copy: (comment id, reader id,
# IP hash, text).
ThreadSignature = tuple[int, bytes | None]
ThreadText = tuple[int, str | None, str | None, str]


class History(Protocol):
    """What checks may ask about the past; the store answers (SQL lives there, not here)."""

    def approved_count(
        self, site_id: int, reader_id: str | None, email_hash: str | None
    ) -> int: ...

    def recent_count(
        self, *, reader_id: str | None, ip_hash: str | None, since: dt.datetime
    ) -> int: ...

    def thread_recent_count(self, thread_id: int, since: dt.datetime) -> int: ...

    def recent_texts(
        self, *, thread_id: int, reader_id: str | None, ip_hash: str | None, since: dt.datetime
    ) -> list[str]: ...

    def recent_posts(
        self, *, reader_id: str | None, ip_hash: str | None, since: dt.datetime, limit: int
    ) -> list[PostRow]:
        """This reader's (or address's) comments since ``since`` in any thread, newest
        first, at most ``limit``."""
        ...

    def thread_signatures(
        self, thread_id: int, since: dt.datetime, limit: int
    ) -> list[ThreadSignature]:
        """The thread's comments since ``since``, newest first, at most ``limit``."""
        ...

    def thread_texts(self, ids: list[int]) -> list[ThreadText]:
        """These comments' authors and texts (any order)."""
        ...

    def active_ban(
        self,
        site_id: int,
        *,
        reader_id: str | None,
        email_hash: str | None,
        ip_hash: str | None,
        now: dt.datetime,
    ) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class Submission:
    site_id: int
    thread_id: int | None  # None: the comment would create the thread
    thread_closed: bool
    text: str
    author_name: str
    author_website: str | None
    email_hash: str | None
    reader_id: str | None
    ip_hash: str | None
    now: dt.datetime
    is_edit: bool = False
    confirmed: bool = False  # the reader chose "post anyway" after a nudge


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    results: tuple[CheckResult, ...]
    toxicity: float | None = None
    shadow: bool = False
    spam: bool = False

    @property
    def refusal(self) -> CheckResult | None:
        return next((r for r in self.results if r.refusal), None)

    @property
    def status(self) -> CommentStatus:
        if self.shadow:
            return CommentStatus.SPAM
        if self.verdict is Verdict.REJECT:
            return CommentStatus.SPAM if self.spam else CommentStatus.REJECTED
        if self.verdict in (Verdict.HOLD, Verdict.NUDGE):
            return CommentStatus.PENDING
        return CommentStatus.PUBLISHED

    @property
    def reasons(self) -> list[str]:
        return [r.reason for r in self.results if r.verdict is not Verdict.PASS or r.shadow]

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "toxicity": None if self.toxicity is None else round(self.toxicity, 4),
            "shadow": self.shadow,
            "results": [r.as_json() for r in self.results],
        }


@dataclass(frozen=True)
class CheckContext:
    policy: Policy
    history: History
    # Answers several checks share (the author's recent comments, their approved count), keyed
    # by the submission; the posting path makes a context per submission and drops it after.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


Check = Callable[[Submission, CheckContext], CheckResult | None]


@dataclass
class Registry:
    """Named checks, in the order they run. Built-ins and plugins register alike."""

    checks: dict[str, Check] = field(default_factory=dict)

    def register(self, name: str) -> Callable[[Check], Check]:
        def decorator(fn: Check) -> Check:
            self.checks[name] = fn
            return fn

        return decorator

    def selected(self, names: Sequence[str] | None) -> list[tuple[str, Check]]:
        if names is None:
            return list(self.checks.items())
        return [(n, self.checks[n]) for n in names if n in self.checks]


registry = Registry()


@functools.cache
def load_plugins() -> None:
    """Import townhall's built-in checks, then any installed ``townhall.checks`` plugins."""
    import townhall.moderation.checks  # noqa: F401  (registers the built-ins)

    for ep in entry_points(group="townhall.checks"):
        try:
            ep.load()
        except Exception:
            log.exception("moderation plugin %s failed to load; it is skipped", ep.name)


def moderate(submission: Submission, ctx: CheckContext) -> Decision:
    """Run every selected check and combine their results into one decision."""
    load_plugins()
    results: list[CheckResult] = []
    for _name, check in registry.selected(ctx.policy.checks):
        result = check(submission, ctx)
        if result is None:
            continue
        results.append(result)
        if result.verdict is Verdict.REJECT and not result.shadow:
            break  # nothing after a rejection can change the outcome
    return combine(results, confirmed=submission.confirmed)


def combine(results: Sequence[CheckResult], *, confirmed: bool = False) -> Decision:
    verdict = Verdict.PASS
    for r in results:
        if _SEVERITY[r.verdict] > _SEVERITY[verdict]:
            verdict = r.verdict
    if verdict is Verdict.NUDGE and confirmed:
        verdict = Verdict.HOLD  # posted anyway after a nudge: a moderator decides
    toxicity = next((r.score for r in results if r.check == "toxicity"), None)
    return Decision(
        verdict=verdict,
        results=tuple(results),
        toxicity=toxicity,
        shadow=any(r.shadow for r in results),
        spam=any(r.spam and r.verdict is Verdict.REJECT for r in results),
    )
