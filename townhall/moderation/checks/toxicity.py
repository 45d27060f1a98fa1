"""The toxicity model's score: nudge the author, hold for a moderator, or (if a site wants)
reject. The result carries the score and, when it acts, the words that drove it, so a
moderator sees why (issue 4).

The model lives in :mod:`townhall.moderation.toxicity` and is loaded once per process on
first use. If it is not installed, or its file does not match the word vectors beside it, the
check says nothing (and logs why, once) rather than failing every comment.
"""

from __future__ import annotations

import functools
import importlib
import logging
from typing import Any, Protocol

from townhall.moderation.pipeline import CheckContext, CheckResult, Submission, registry
from townhall.moderation.policy import Policy
from townhall.types import Verdict

log = logging.getLogger(__name__)

EXPLAIN_TERMS = 5


class ToxicityModel(Protocol):
    def score(self, text: str) -> float: ...

    def explain(self, text: str, top: int = 5) -> list[Any]: ...


@functools.cache
def load_model() -> ToxicityModel | None:
    """The packaged model, or None (logged once) when it is not available."""
    try:
        module = importlib.import_module("townhall.moderation.toxicity")
        model: ToxicityModel = module.default_model()
    except (ImportError, AttributeError, OSError, ValueError) as exc:
        log.warning("toxicity model unavailable (%s): the toxicity check is skipped", exc)
        return None
    return model


def verdict_for(policy: Policy, score: float) -> tuple[Verdict, str]:
    """What a score means under a policy, and the reason to show a moderator."""
    for threshold, verdict, what in (
        (policy.toxicity_reject, Verdict.REJECT, "a comment is rejected"),
        (policy.toxicity_hold, Verdict.HOLD, "a comment is held for review"),
        (policy.toxicity_nudge, Verdict.NUDGE, "its author is asked to reconsider"),
    ):
        if threshold is not None and score >= threshold:
            return verdict, f"Toxicity {score:.2f}: from {threshold:.2f} {what}."
    return Verdict.PASS, f"Toxicity {score:.2f}: below the site's thresholds."


def explanation(model: ToxicityModel, text: str) -> list[dict[str, Any]]:
    """The terms that raised the score most, with their spans in the text."""
    return [
        {
            "term": c.term,
            "weight": round(float(c.weight), 4),
            "start": int(c.start),
            "end": int(c.end),
        }
        for c in model.explain(text, top=EXPLAIN_TERMS)
    ]


@registry.register("toxicity")
def toxicity(sub: Submission, ctx: CheckContext) -> CheckResult | None:
    policy = ctx.policy
    if (
        policy.toxicity_nudge is None
        and policy.toxicity_hold is None
        and (policy.toxicity_reject is None)
    ):
        return None
    model = load_model()
    if model is None:
        return None
    score = float(model.score(sub.text))
    verdict, reason = verdict_for(policy, score)
    details = None
    if verdict is not Verdict.PASS:
        details = {"explanation": explanation(model, sub.text)}
    return CheckResult("toxicity", verdict, reason, score=score, details=details)
