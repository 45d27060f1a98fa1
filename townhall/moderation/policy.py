"""A site's content policy: what the checks hold, reject or nudge. Stored as JSON per site, with
per-thread overrides; validated by msgspec so a bad update is a clear 4xx, never a broken site."""

from __future__ import annotations

import functools
from typing import Any

import msgspec

from townhall.moderation.normalise import literal_length
from townhall.moderation.toxicity import DEFAULT_HOLD_THRESHOLD, DEFAULT_NUDGE_THRESHOLD


class Policy(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    premoderation: bool = False
    """Hold every comment for review."""
    banned_words: list[str] = msgspec.field(default_factory=list)
    """Words or patterns (``*`` wildcard) that reject a comment."""
    suspect_words: list[str] = msgspec.field(default_factory=list)
    """Words or patterns that hold a comment for review."""
    max_links: int = 2
    """More links than this holds a comment."""
    link_allowlist: list[str] = msgspec.field(default_factory=list)
    """Domains whose links never count against a comment."""
    link_blocklist: list[str] = msgspec.field(default_factory=list)
    """Domains whose links reject a comment."""
    hold_new_author_links: bool = True
    """Hold links from readers with no approved comment yet."""
    first_time_hold: int = 0
    """Hold a reader's comments until this many were approved (0: off)."""
    rate_burst: int = 5
    """Comments one reader (or address) may post per minute."""
    rate_sustained: int = 30
    """Comments one reader (or address) may post per hour."""
    thread_rate: int = 120
    """Comments one thread accepts per minute from everybody (flood guard)."""
    duplicate_window_minutes: int = 60
    """Near-duplicate text from the same reader within this window is rejected as spam."""
    flood_window_minutes: int = 10
    """Near-duplicate text from different readers in one thread within this window is held
    (a copy-and-paste campaign; 0: off)."""
    # The defaults are the model's recommended thresholds (toxicity.DEFAULT_NUDGE_THRESHOLD and
    # DEFAULT_HOLD_THRESHOLD); tests/moderation/test_checks.py keeps them in step.
    toxicity_nudge: float | None = DEFAULT_NUDGE_THRESHOLD
    """Model score from which the reader is asked to reconsider (None: off)."""
    toxicity_hold: float | None = DEFAULT_HOLD_THRESHOLD
    """Model score from which a comment is held (None: off)."""
    toxicity_reject: float | None = None
    """Model score from which a comment is rejected (None: off, the default)."""
    flags_to_hold: int = 3
    """Distinct reader flags that put a published comment back in the queue."""
    checks: list[str] | None = None
    """Names of the checks to run (None: all registered checks)."""

    def to_json(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)  # type: ignore[no-any-return]


class PolicyError(ValueError):
    pass


def _validate(policy: Policy) -> Policy:
    for name in ("toxicity_nudge", "toxicity_hold", "toxicity_reject"):
        value = getattr(policy, name)
        if value is not None and not 0.0 <= value <= 1.0:
            raise PolicyError(f"{name} must be between 0 and 1, or null to switch it off")
    for name in (
        "max_links",
        "first_time_hold",
        "rate_burst",
        "rate_sustained",
        "thread_rate",
        "duplicate_window_minutes",
        "flood_window_minutes",
        "flags_to_hold",
    ):
        if getattr(policy, name) < 0:
            raise PolicyError(f"{name} must not be negative")
    for name in ("banned_words", "suspect_words"):
        for pattern in getattr(policy, name):
            # A pattern like "*" or "a*" would match nearly every comment.
            if literal_length(pattern) < 2:
                raise PolicyError(
                    f"{name}: {pattern!r} needs at least two letters or digits besides '*'"
                )
    return policy


def parse_policy(data: dict[str, Any] | None) -> Policy:
    try:
        return _validate(msgspec.convert(data or {}, Policy))
    except msgspec.ValidationError as exc:
        raise PolicyError(str(exc)) from None


_ENCODE = msgspec.json.Encoder(order="deterministic")


@functools.lru_cache(maxsize=512)
def _parsed(encoded: bytes) -> Policy:
    return parse_policy(msgspec.json.decode(encoded))


def merge_policy(site_policy: dict[str, Any], thread_policy: dict[str, Any] | None) -> Policy:
    """The policy in force for a thread: the site's, with the thread's overrides on top.

    Every submission asks for it; the parsed and validated policy is remembered per distinct
    stored JSON (validating word lists costs more than the rest of the checks together).
    Policies are never changed in place, so the same object can be shared."""
    merged = dict(site_policy or {})
    merged.update(thread_policy or {})
    try:
        encoded = _ENCODE.encode(merged)
    except (TypeError, msgspec.EncodeError):
        return parse_policy(merged)
    return _parsed(encoded)


def update_policy(current: dict[str, Any], changes: dict[str, Any]) -> Policy:
    merged = dict(current or {})
    merged.update(changes)
    return parse_policy(merged)
