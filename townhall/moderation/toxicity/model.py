"""The shipped toxicity model: a logistic regression over hashed n-grams and lexicon features,
plus a small network over the comment's mean word vector whose output is added to the logit.

File format (``.npz``, no pickle, read with ``allow_pickle=False``): ``meta`` (UTF-8 JSON as
uint8), ``idf`` (float16, one per hashed bucket), ``weights`` (float16, one per feature),
``bias`` (float64) and the network's ``net_w1``, ``net_b1``, ``net_w2`` (float32). The word
vectors are a file of their own (``word-vectors.npz``, :mod:`.word_vectors`); ``meta`` names the
table's version and loading refuses another table. The archive is written with fixed timestamps
and no compression so that the same weights always give the same bytes (CI compares the shipped
file with a fresh training run).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import pathlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from townhall.moderation.toxicity.features import (
    LEXICON_FEATURES,
    PATTERN_FEATURES,
    FeatureConfig,
    FloatArray,
    IntArray,
    RawFeatures,
    char_buckets,
    extract,
    lexicon_features,
    tfidf_block,
    tfidf_values,
    word_features,
)
from townhall.moderation.toxicity.network import VECTOR_SCALE, Network, network_inputs
from townhall.moderation.toxicity.normalize import Token, tokenize
from townhall.moderation.toxicity.npz import write_npz
from townhall.moderation.toxicity.word_vectors import DEFAULT_PATH as VECTORS_PATH
from townhall.moderation.toxicity.word_vectors import WordVectors

FORMAT = "townhall-toxicity/3"
DEFAULT_PATH = pathlib.Path(__file__).resolve().parent.parent / "data" / "toxicity.npz"


@functools.cache
def _shared_vectors(path: pathlib.Path) -> WordVectors:
    return WordVectors.load(path)


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
        *,
        network: Network | None = None,
        vectors: WordVectors | None = None,
    ) -> None:
        if (network is None) != (vectors is None):
            raise ValueError("a network needs its word vectors, and vectors need a network")
        if idf.shape != (config.word_size + config.char_size,):
            raise ValueError(f"idf has shape {idf.shape}, the config wants {config}")
        if weights.shape != (config.n_features,):
            raise ValueError(f"weights have shape {weights.shape}, the config wants {config}")
        self.config = config
        self.meta = meta
        self.version = version
        self.bias = float(bias)
        self.network = network
        self.vectors = vectors
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
    def load(
        cls, path: pathlib.Path | None = None, vectors_path: pathlib.Path | None = None
    ) -> ToxicityModel:
        """Read a model file (default: the one shipped in the package) and the word vectors
        its network was fitted on (default: the table shipped in the package)."""
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
            network = Network(
                w1=arrays["net_w1"].astype(np.float64),
                b1=arrays["net_b1"].astype(np.float64),
                w2=arrays["net_w2"].astype(np.float64),
            )
        table_path = pathlib.Path(vectors_path or VECTORS_PATH)
        vectors = _shared_vectors(table_path.resolve())
        if vectors.version != meta.get("word_vectors"):
            raise ValueError(
                f"{path}: fitted on word vectors {meta.get('word_vectors')}, but the table "
                f"{table_path} is {vectors.version}; retrain the model "
                "(townhall moderation train) or restore the table it was fitted on"
            )
        version = hashlib.sha256(blob).hexdigest()[:12]
        return cls(config, idf, weights, bias, meta, version, network=network, vectors=vectors)

    @staticmethod
    def write(
        path: pathlib.Path,
        config: FeatureConfig,
        idf: FloatArray,
        weights: FloatArray,
        bias: float,
        meta: dict[str, Any],
        network: Network,
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
            "net_w1": network.w1.astype(np.float32),
            "net_b1": network.b1.astype(np.float32),
            "net_w2": network.w2.astype(np.float32),
        }
        return write_npz(pathlib.Path(path), arrays)

    # -- scoring ----------------------------------------------------------------------------

    def _network_logit(self, tokens: list[Token], lexicon: FloatArray) -> float:
        if self.network is None or self.vectors is None:
            return 0.0
        words = [t.text for t in tokens]
        evidence = self.config.evidence(len(tokens))
        return self.network.logit(network_inputs(words, lexicon, self.vectors, evidence))

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
            + self._network_logit(raw.tokens, raw.lexicon)
        )
        return (
            logit,
            (word_contrib, word_inverse),
            (char_contrib, char_inverse),
            lex_contrib,
        )

    def logit(self, text: str) -> float:
        """The log-odds of toxicity."""
        regression, network = self.logit_parts(text)
        return regression + network

    def logit_parts(self, text: str) -> tuple[float, float]:
        """The logit split in two: the regression's share (bias, n-grams, lexicon) and the
        network's (what the words mean), which add up to :meth:`logit`."""
        tokens = tokenize(text)
        words, _, _ = word_features(tokens, self.config.word_size - 1)
        word_ids, word_values = tfidf_values(np.asarray(words, dtype=np.int64), self._idf_word)
        char_ids, char_values = tfidf_values(char_buckets(tokens, self.config), self._idf_char)
        lexicon, _ = lexicon_features(tokens)
        evidence = self.config.evidence(len(tokens))
        regression = (
            self.bias
            + float(np.dot(self._w_word[word_ids], word_values * evidence))
            + float(np.dot(self._w_char[char_ids], char_values * evidence))
            + float(np.dot(self._w_lex, lexicon))
        )
        return regression, self._network_logit(tokens, lexicon)

    def score(self, text: str) -> float:
        """Probability (0..1) that the comment breaks the policy."""
        return sigmoid(self.logit(text))

    def _network_shares(self, raw: RawFeatures) -> tuple[FloatArray, FloatArray]:
        """The network's share of the logit per token and per lexicon pattern, by occlusion:
        how much its output falls when that word's vector is left out of the mean (the other
        inputs unchanged), or that pattern's count is set to 0. Unlike the regression's terms the
        shares need not add up to the network's output; they say which words it reacted to."""
        n = len(raw.tokens)
        token_share = np.zeros(n)
        lex_share = np.zeros(len(LEXICON_FEATURES))
        if self.network is None or self.vectors is None or n == 0:
            return token_share, lex_share
        table = self.vectors
        rows = np.array([table.index.get(t.text, -1) for t in raw.tokens], dtype=np.int64)
        has = rows >= 0
        scale = VECTOR_SCALE * self.config.evidence(n)
        vecs = table.vectors(rows[has])
        k = len(vecs)
        total = vecs.sum(axis=0)
        mean = total / k if k else np.zeros(table.dimensions)
        base = np.concatenate((mean * scale, raw.lexicon))
        without = (total - vecs) / (k - 1) if k > 1 else np.zeros((k, table.dimensions))
        word_rows = np.hstack((without * scale, np.tile(raw.lexicon, (k, 1))))
        patterns = np.flatnonzero(raw.lexicon[:PATTERN_FEATURES] != 0)
        lex_rows = _occluded(base, patterns + table.dimensions)
        logits = self.network.logits(np.vstack((base[None, :], word_rows, lex_rows)))
        token_share[has] = logits[0] - logits[1 : 1 + k]
        lex_share[patterns] = logits[0] - logits[1 + k :]
        return token_share, lex_share

    def explain(self, text: str, top: int = 5) -> list[Contribution]:
        """The terms that drove the score, most toxic first.

        Each word gets the weight of its unigram, its character n-grams and half of each bigram
        it is in; a matched lexicon pattern ("you are a idiot", "they are vermin") is its own
        phrase. The network's share is found by occlusion (:meth:`_network_shares`) and added to
        the word or pattern it came from. Sorted by weight, largest (most toxic) first; negative
        weights (terms that made the comment look civil) come last and only when there are fewer
        than ``top`` toxic ones.
        """
        raw = extract(text, self.config)
        _, (word_contrib, word_inverse), (char_contrib, char_inverse), lex = self._parts(raw)
        token_share, lex_share = self._network_shares(raw)
        lex = lex + lex_share
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
        per_token[:n] += token_share
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


def _occluded(base: FloatArray, columns: IntArray) -> FloatArray:
    """Copies of ``base``, one per column, each with that column set to 0."""
    rows = np.tile(base, (len(columns), 1))
    rows[np.arange(len(columns)), columns] = 0.0
    return rows


def _config_dict(config: FeatureConfig) -> dict[str, float]:
    return {
        "word_bits": config.word_bits,
        "char_bits": config.char_bits,
        "char_min": config.char_min,
        "char_max": config.char_max,
        "evidence_k": config.evidence_k,
    }
