"""The small network beside the n-gram regression: what a comment's words *mean* (issue 4).

Its input is the mean of the comment's word vectors (:mod:`.word_vectors`), scaled by the same
evidence factor as the n-gram blocks and by ``VECTOR_SCALE``, followed by the lexicon features;
one tanh layer, one output, which is *added to the regression's logit*. Both are fitted in one
objective (``optimize.joint_objective``), so the network learns only what the n-grams miss:
put-downs built from words the training data never used, the meaning of a whole phrase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from townhall.moderation.toxicity.word_vectors import WordVectors

FloatArray = npt.NDArray[np.float64]

# The distilled vectors are unit transformer embeddings projected on 64 components, so a
# comment's mean vector has entries of about 0.02; scaled by 10 they reach the range where
# tanh units learn with the same L2 as the rest (chosen on the development split, model card).
VECTOR_SCALE = 10.0


@dataclass(frozen=True)
class Network:
    """``logit = w2 · tanh(w1 @ input + b1)``."""

    w1: FloatArray  # (hidden, inputs)
    b1: FloatArray  # (hidden,)
    w2: FloatArray  # (hidden,)

    @property
    def hidden(self) -> int:
        return int(self.w1.shape[0])

    def logit(self, inputs: FloatArray) -> float:
        return float(np.dot(self.w2, np.tanh(self.w1 @ inputs + self.b1)))

    def logits(self, inputs: FloatArray) -> FloatArray:
        """One logit per row of ``inputs``."""
        out: FloatArray = np.tanh(inputs @ self.w1.T + self.b1) @ self.w2
        return out


def network_inputs(
    words: Sequence[str], lexicon: FloatArray, vectors: WordVectors, evidence: float
) -> FloatArray:
    """The network's input for one comment: scaled mean word vector, then lexicon features."""
    mean = vectors.mean(words) * (VECTOR_SCALE * evidence)
    return np.concatenate((mean, lexicon))
