"""Local toxicity scoring (issue 4): a small model shipped in the package, numpy only at run time.

>>> model = default_model()
>>> model.score("only an idiot would believe this") >= DEFAULT_HOLD_THRESHOLD
True
>>> [c.term for c in model.explain("Only an idiot would believe this", top=1)]
['idiot']

See ``docs/model-card.md`` for the data, the metrics and the known blind spots.
"""

from __future__ import annotations

import functools

from townhall.moderation.toxicity.model import DEFAULT_PATH, Contribution, ToxicityModel

__all__ = [
    "DEFAULT_HOLD_THRESHOLD",
    "DEFAULT_NUDGE_THRESHOLD",
    "DEFAULT_PATH",
    "Contribution",
    "ToxicityModel",
    "default_model",
]

# Recommended thresholds on ``ToxicityModel.score``, chosen by ``training.train`` on validation
# rows held out of the training sources (hold: 2 % of civil comments reach it; nudge: 10 %).
# The shipped model file records the same numbers; a test keeps the two in step.
DEFAULT_HOLD_THRESHOLD = 0.92
DEFAULT_NUDGE_THRESHOLD = 0.42


@functools.cache
def default_model() -> ToxicityModel:
    """The shipped model, loaded once per process; scoring is read-only and thread-safe."""
    return ToxicityModel.load()
