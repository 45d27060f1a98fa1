"""The shipped toxicity model: a logistic regression over hashed n-grams and lexicon features.

File format (``.npz``, no pickle, read with ``allow_pickle=False``): ``meta`` (UTF-8 JSON as
uint8), ``idf`` (float16, one per hashed bucket), ``weights`` (float16, one per feature) and
``bias`` (float64). The archive is written with fixed timestamps and no compression so that the
same weights always give the same bytes (CI compares the shipped file with a fresh training run).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import pathlib
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from townhall.moderation.toxicity.features import (
    LEXICON_FEATURES,
    FeatureConfig,
    FloatArray,
    RawFeatures,
    char_buckets,
    extract,
    lexicon_features,
    tfidf_block,
    tfidf_values,
    word_features,
)
from townhall.moderation.toxicity.normalize import tokenize

FORMAT = "townhall-toxicity/2"
DEFAULT_PATH = pathlib.Path(__file__).resolve().parent.parent / "data" / "toxicity.npz"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Contribution:
    """One term's share of a score, for the moderator's highlight."""

    term: str  # the word/phrase as it appears in the text
    weight: float  # contribution to the logit (positive = more toxic)
    start: int  # character span in the ORIGINAL text (for highlighting), -1 if none
    end: int


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class ToxicityModel:
    """Scores comments locally; immutable once loaded, so one instance serves every thread."""

    version: str

    def __init__(
        self,
        config: FeatureConfig,
        idf: FloatArray,
        weights: FloatArray,
        bias: float,
        meta: dict[str, Any],
        version: str,
    ) -> None:
        if idf.shape != (config.word_size + config.char_size,):
            raise ValueError(f"idf has shape {idf.shape}, the config wants {config}")
        if weights.shape != (config.n_features,):
            raise ValueError(f"weights have shape {weights.shape}, the config wants {config}")
        self.config = config
        self.meta = meta
        self.version = version
        self.bias = float(bias)
        w = config.word_size
        self._idf_word = idf[:w]
        self._idf_char = idf[w:]
        self._w_word = weights[:w]
        self._w_char = weights[w : w + config.char_size]
        self._w_lex = weights[w + config.char_size :]
        for array in (self._idf_word, self._idf_char, self._w_word, self._w_char, self._w_lex):
            array.flags.writeable = False

    # -- file -------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: pathlib.Path | None = None) -> ToxicityModel:
        """Read a model file (default: the one shipped in the package)."""
        path = DEFAULT_PATH if path is None else pathlib.Path(path)
        blob = path.read_bytes()
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT:
                raise ValueError(f"{path}: not a {FORMAT} model file")
            config = FeatureConfig(**meta["features"])
            idf = arrays["idf"].astype(np.float64)
            weights = arrays["weights"].astype(np.float64)
            bias = float(arrays["bias"][0])
        version = hashlib.sha256(blob).hexdigest()[:12]
        return cls(config, idf, weights, bias, meta, version)

    @staticmethod
    def write(
        path: pathlib.Path,
        config: FeatureConfig,
        idf: FloatArray,
        weights: FloatArray,
        bias: float,
        meta: dict[str, Any],
    ) -> bytes:
        """Write a model file byte for byte reproducibly; returns the bytes written."""
        meta = {"format": FORMAT, "features": _config_dict(config), **meta}
        arrays: dict[str, np.ndarray[Any, Any]] = {
            "meta": np.frombuffer(
                json.dumps(meta, sort_keys=True, indent=1).encode("utf-8"), dtype=np.uint8
            ),
            "idf": idf.astype(np.float16),
            "weights": weights.astype(np.float16),
            "bias": np.array([bias], dtype=np.float64),
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, array in arrays.items():
                member = io.BytesIO()
                np.lib.format.write_array(member, array, allow_pickle=False)
                info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_EPOCH)
                info.external_attr = 0o644 << 16
                archive.writestr(info, member.getvalue())
        blob = buffer.getvalue()
        pathlib.Path(path).write_bytes(blob)
        return blob

    # -- scoring ----------------------------------------------------------------------------

    def _parts(self, raw: RawFeatures) -> tuple[float, Any, Any, Any]:
        word_ids, word_values, word_inverse = tfidf_block(raw.word, self._idf_word)
        char_ids, char_values, char_inverse = tfidf_block(raw.char, self._idf_char)
        evidence = self.config.evidence(len(raw.tokens))
        word_contrib = self._w_word[word_ids] * (word_values * evidence)
        char_contrib = self._w_char[char_ids] * (char_values * evidence)
        lex_contrib = self._w_lex * raw.lexicon
        logit = (
            self.bias
            + float(word_contrib.sum())
            + float(char_contrib.sum())
            + float(lex_contrib.sum())
        )
        return (
            logit,
            (word_contrib, word_inverse),
            (char_contrib, char_inverse),
            lex_contrib,
        )

    def logit(self, text: str) -> float:
        """The log-odds of toxicity."""
        tokens = tokenize(text)
        words, _, _ = word_features(tokens, self.config.word_size - 1)
        word_ids, word_values = tfidf_values(np.asarray(words, dtype=np.int64), self._idf_word)
        char_ids, char_values = tfidf_values(char_buckets(tokens, self.config), self._idf_char)
        lexicon, _ = lexicon_features(tokens)
        evidence = self.config.evidence(len(tokens))
        return (
            self.bias
            + float(np.dot(self._w_word[word_ids], word_values * evidence))
            + float(np.dot(self._w_char[char_ids], char_values * evidence))
            + float(np.dot(self._w_lex, lexicon))
        )

    def score(self, text: str) -> float:
        """Probability (0..1) that the comment breaks the policy."""
        return sigmoid(self.logit(text))

    def explain(self, text: str, top: int = 5) -> list[Contribution]:
        """The terms that drove the score, most toxic first.

        Each word gets the weight of its unigram, its character n-grams and half of each bigram
        it is in; a matched lexicon pattern ("you are a idiot", "they are vermin") is its own
        phrase. Sorted by weight, largest (most toxic) first; negative weights (terms that made
        the comment look civil) come last and only when there are fewer than ``top`` toxic ones.
        """
        raw = extract(text, self.config)
        _, (word_contrib, word_inverse), (char_contrib, char_inverse), lex = self._parts(raw)
        n = len(raw.tokens)
        per_token = np.zeros(n + 1, dtype=np.float64)  # last slot: nowhere
        if len(raw.word):
            occ = word_contrib[word_inverse] / np.bincount(word_inverse)[word_inverse]
            second = raw.word_owner2 >= 0
            occ_half = np.where(second, occ / 2.0, occ)
            np.add.at(per_token, raw.word_owner, occ_half)
            np.add.at(per_token, raw.word_owner2[second], occ_half[second])
        if len(raw.char):
            occ = char_contrib[char_inverse] / np.bincount(char_inverse)[char_inverse]
            np.add.at(per_token, np.minimum(raw.char_owner, n), occ)
        spans: dict[tuple[int, int], float] = {}
        for i, token in enumerate(raw.tokens):
            key = (token.start, token.end)
            spans[key] = spans.get(key, 0.0) + float(per_token[i])
        hits_per_feature = np.bincount(
            [h.feature for h in raw.hits], minlength=len(LEXICON_FEATURES)
        )
        for hit in raw.hits:
            share = float(lex[hit.feature]) / int(hits_per_feature[hit.feature])
            first, last = raw.tokens[hit.first], raw.tokens[hit.last]
            # a one-word pattern adds to that word; a phrase is its own term
            key = (first.start, first.end) if hit.first == hit.last else (first.start, last.end)
            spans[key] = spans.get(key, 0.0) + share
        ranked = sorted(spans.items(), key=lambda kv: (-kv[1], kv[0]))
        return [
            Contribution(term=text[start:end], weight=weight, start=start, end=end)
            for (start, end), weight in ranked[: max(top, 0)]
            if weight != 0.0
        ]


def _config_dict(config: FeatureConfig) -> dict[str, float]:
    return {
        "word_bits": config.word_bits,
        "char_bits": config.char_bits,
        "char_min": config.char_min,
        "char_max": config.char_max,
        "evidence_k": config.evidence_k,
    }
