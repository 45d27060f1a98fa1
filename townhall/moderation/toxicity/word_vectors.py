"""Static word vectors: what a word means, for words the n-gram weights never saw (issue 4).

The n-gram model knows a word only if the training data used it often enough; a put-down made of
words it has not seen ("you absolute walnut") scores like a civil comment. The vectors, distilled
from a sentence transformer by ``scripts/distill_word_vectors.py`` (64 dimensions, int8, one scale
per dimension), put a word near the words it means something like, so a small network over the
comment's mean vector carries what the hand-written policy rows teach to words they do not
contain. The table is package data, read with numpy alone; no transformer runs at scoring time.
"""

from __future__ import annotations

import hashlib
import pathlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from townhall.moderation.toxicity.npz import write_npz

DIMENSIONS = 64
DEFAULT_PATH = pathlib.Path(__file__).resolve().parent.parent / "data" / "word-vectors.npz"

FloatArray = npt.NDArray[np.float64]


class WordVectors:
    """Word → vector lookup over the distilled table. The vectors stay int8 in memory (2.4 MB
    rather than 19 MB as floats) and are scaled only for the few rows a comment needs."""

    __slots__ = ("codes", "index", "scale", "version")

    def __init__(
        self, words: Sequence[str], codes: npt.NDArray[np.int8], scale: FloatArray, version: str
    ) -> None:
        self.index = {w: i for i, w in enumerate(words)}
        self.codes = codes
        self.scale = scale
        self.version = version
        self.codes.flags.writeable = False

    @classmethod
    def load(cls, path: pathlib.Path | None = None) -> WordVectors:
        path = path or DEFAULT_PATH
        with np.load(path, allow_pickle=False) as data:
            words = bytes(data["words"]).decode("utf-8").split("\n")
            codes = data["vectors"]
            scale = data["scale"].astype(np.float64)
            version = bytes(data["version"]).decode("ascii")
        return cls(words, codes, scale, version)

    @property
    def dimensions(self) -> int:
        return int(self.codes.shape[1])

    def rows(self, words: Sequence[str]) -> list[int]:
        """Table rows of the words that have a vector (others have none)."""
        index = self.index
        return [index[w] for w in words if w in index]

    def vectors(self, rows: Sequence[int] | npt.NDArray[np.int64]) -> FloatArray:
        """The vectors of table rows, one per row."""
        out: FloatArray = self.codes[np.asarray(rows, dtype=np.int64)] * self.scale
        return out

    def mean(self, words: Sequence[str]) -> FloatArray:
        """Mean vector of the words that have one; zeros if none does."""
        rows = self.rows(words)
        if not rows:
            return np.zeros(self.dimensions)
        mean: FloatArray = (self.codes[rows] * self.scale).mean(axis=0)
        return mean


def write_table(path: pathlib.Path, words: Sequence[str], vectors: FloatArray) -> int:
    """Write ``vectors`` (one row per word) as int8 with a scale per dimension; returns bytes.

    The table's version is a hash of its content, which a model file records (the network's
    weights only make sense with the vectors they were fitted on)."""
    scale = (np.abs(vectors).max(axis=0) / 127.0).astype(np.float32)
    scale[scale == 0] = 1.0
    quantised = np.clip(np.rint(vectors / scale), -127, 127).astype(np.int8)
    blob = "\n".join(words).encode("utf-8")
    version = hashlib.sha256(blob + quantised.tobytes() + scale.tobytes()).hexdigest()[:12]
    arrays = {
        "words": np.frombuffer(blob, dtype=np.uint8),
        "vectors": quantised,
        "scale": scale,
        "version": np.frombuffer(version.encode("ascii"), dtype=np.uint8),
    }
    return len(write_npz(path, arrays, compress=True))
