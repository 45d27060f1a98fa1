"""Featurizer: normalised tokens → hashed sparse features plus a few lexicon features.

Three families, each a block of one weight vector:

* ``word``: hashed word unigrams, bigrams and *addressed* words (a word up to three tokens after
  ``you``/``your``: "you're not very bright" gives ``@not @very @bright``), so the model can learn
  that a word aimed at the reader weighs differently from the same word about a policy.
* ``char``: hashed character 2–5-grams inside each normalised word (with a space on either side),
  which carry unseen spellings and compounds (``trumptard``) to known ones.
* ``lexicon``: counts of listed word kinds and of patterns the site policy names (an insult aimed
  at the reader, contempt for a group, a mocking nickname); see :mod:`.lexicon`; and four
  indicators of a very short text (1, 2, 3, or 4–5 words), so the model learns from data what a
  comment of a word or two is worth on its own.

**Little text, little evidence.** An L2-normalised TF-IDF vector has length 1 whatever the
comment's length, so a one-word comment ("A", "Child") pushes its single word's weight into the
score at full strength, as if it were a whole comment of evidence. The word and char blocks are
therefore scaled by ``n / (n + evidence_k)`` for a comment of ``n`` words, in training and in
scoring alike: a long comment keeps (almost) all of its weight, a one-word comment a third, and
what is missing falls back to the bias and the length indicators, i.e. to what the training data
say about comments that short. ``evidence_k`` was chosen on validation rows and the development
split (see ``docs/model-card.md``).

Word and char blocks are sublinear TF-IDF, L2-normalised per block (the usual TF-IDF + logistic
regression recipe), hashed with a fixed function so training and scoring agree on every platform.
Every feature remembers which tokens it came from, so a score can be explained span by span.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from townhall.moderation.toxicity import lexicon as lx
from townhall.moderation.toxicity.normalize import Token, tokenize

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Lexicon feature names, in weight-vector order.
LEXICON_FEATURES: tuple[str, ...] = (
    "profanity",
    "insult",
    "insult_at_reader",
    "insult_at_holders",
    "group_insult",
    "group_dehumanising",
    "group_violence",
    "mocking_nickname",
    "addresses_reader",
    "length_1",
    "length_2",
    "length_3",
    "length_4_5",
)
_LENGTH_BASE = LEXICON_FEATURES.index("length_1")
PATTERN_FEATURES = _LENGTH_BASE  # the features before the length indicators match phrases
_ADDRESS_WINDOW = 3  # words after "you" that count as aimed at the reader
_TARGET_WINDOW = 4  # how far an insult may follow "you" / a group word and still hit it
_GROUP_WINDOW = 6
_LINKS = lx.words("are is r were was be been being like become becoming arent nothing just")
_DETERMINERS = lx.words("those these them all such")
_FNV_PRIME = np.uint64(0x100000001B3)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SPACE = ord(" ")


@dataclass(frozen=True)
class FeatureConfig:
    """Sizes that the model file records; training and scoring must agree on them."""

    word_bits: int = 18
    char_bits: int = 18
    char_min: int = 2
    char_max: int = 5
    evidence_k: float = 2.0  # word/char blocks scaled by n / (n + evidence_k) for n words

    def evidence(self, n_tokens: int) -> float:
        """How much of the hashed blocks' weight a comment of ``n_tokens`` words carries."""
        total = n_tokens + self.evidence_k
        return n_tokens / total if total > 0 else 1.0

    @property
    def word_size(self) -> int:
        return 1 << self.word_bits

    @property
    def char_size(self) -> int:
        return 1 << self.char_bits

    @property
    def n_features(self) -> int:
        return self.word_size + self.char_size + len(LEXICON_FEATURES)


@dataclass(frozen=True)
class LexiconHit:
    feature: int  # index into LEXICON_FEATURES
    first: int  # first and last token of the phrase (inclusive)
    last: int


@dataclass(frozen=True)
class RawFeatures:
    """A document's hashed features before weighting: bucket ids and the tokens behind each.

    ``*_owner`` holds for every occurrence the token it belongs to; a bigram also credits
    ``word_owner2`` (-1 for features of one token).
    """

    tokens: list[Token]
    word: IntArray
    word_owner: IntArray
    word_owner2: IntArray
    char: IntArray
    char_owner: IntArray
    lexicon: FloatArray
    hits: list[LexiconHit]


def _crc_bucket(text: str, mask: int) -> int:
    # crc32 is fixed by the zlib format, so the bucket of a word is the same everywhere.
    return zlib.crc32(text.encode("utf-8")) & mask


def word_features(tokens: list[Token], mask: int) -> tuple[list[int], list[int], list[int]]:
    """Hashed unigrams, bigrams and addressed words, with the token(s) each came from."""
    buckets: list[int] = []
    owner: list[int] = []
    owner2: list[int] = []
    texts = [t.text for t in tokens]
    addressed_until = -1
    for i, word in enumerate(texts):
        buckets.append(_crc_bucket("w" + word, mask))
        owner.append(i)
        owner2.append(-1)
        if i:
            buckets.append(_crc_bucket("b" + texts[i - 1] + " " + word, mask))
            owner.append(i - 1)
            owner2.append(i)
        if i <= addressed_until:
            buckets.append(_crc_bucket("@" + word, mask))
            owner.append(i)
            owner2.append(-1)
        if word in lx.SECOND_PERSON:
            addressed_until = i + _ADDRESS_WINDOW
    return buckets, owner, owner2


def char_features(tokens: list[Token], config: FeatureConfig) -> tuple[IntArray, IntArray]:
    """Hashed character n-grams within words (padded by a space), and the token of each."""
    if not tokens:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    text = " " + " ".join(t.text for t in tokens) + " "
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    is_space = codes == _SPACE
    # token index of every character; a space belongs to the word after it
    token_of = (np.cumsum(is_space) - 1).astype(np.int64)
    spaces_before = np.concatenate(([0], np.cumsum(is_space)))
    length = len(codes)
    out_buckets: list[IntArray] = []
    out_owner: list[IntArray] = []
    bits = np.uint64(64 - config.char_bits)
    for n in range(config.char_min, config.char_max + 1):
        m = length - n + 1
        if m <= 0:
            break
        h = np.full(m, _FNV_OFFSET ^ np.uint64(n), dtype=np.uint64)
        for k in range(n):
            h = (h ^ codes[k : k + m]) * _FNV_PRIME
        # keep n-grams without a space inside (a space may only open or close one)
        inner = spaces_before[n - 1 : n - 1 + m] - spaces_before[1 : 1 + m]
        keep = inner == 0
        out_buckets.append(((h[keep] * _MIX) >> bits).astype(np.int64))
        out_owner.append(token_of[:m][keep])
    return np.concatenate(out_buckets), np.concatenate(out_owner).astype(np.int64)


# What each word is to the lexicon patterns, as bits: computed once per distinct word (the
# word lists' stems make each membership test a scan), then every pattern is a bit test.
_PROFANE, _INSULT, _DEHUMANISE, _VIOLENT = 1, 2, 4, 8
_NICKNAME, _NICKNAME_ADJECTIVE, _POLITICIAN, _SECOND_PERSON = 16, 32, 64, 128
_GENERIC_TARGET, _GROUP, _LINK, _DETERMINER = 256, 512, 1024, 2048


@lru_cache(maxsize=8_192)
def _kinds(word: str) -> int:
    bits = 0
    for flag, listed in (
        (_PROFANE, word in lx.PROFANE),
        (_INSULT, word in lx.INSULTING),
        (_DEHUMANISE, word in lx.DEHUMANISE),
        (_VIOLENT, word in lx.VIOLENT),
        # a listed nickname word, or an insult suffix on a longer word ("trumptard")
        (
            _NICKNAME,
            word in lx.NICKNAMES
            or any(word.endswith(s) and len(word) > len(s) + 2 for s in lx.INSULT_SUFFIXES),
        ),
        (_NICKNAME_ADJECTIVE, word in lx.NICKNAME_ADJECTIVES),
        (_POLITICIAN, word in lx.POLITICIAN_NAMES),
        (_SECOND_PERSON, word in lx.SECOND_PERSON),
        (_GENERIC_TARGET, word in lx.GENERIC_TARGET),
        (_GROUP, word in lx.GROUP_WORDS),
        (_LINK, word in _LINKS),
        (_DETERMINER, word in _DETERMINERS),
    ):
        if listed:
            bits |= flag
    return bits


def char_buckets(tokens: list[Token], config: FeatureConfig) -> IntArray:
    """The char block's buckets of ``tokens`` as :func:`char_features` finds them (in another
    order, without owners): n-grams never cross a word, so each distinct word's are computed
    once and remembered (scoring; training and explanations use char_features)."""
    if not tokens:
        return np.zeros(0, dtype=np.int64)
    key = (config.char_bits, config.char_min, config.char_max)
    return np.concatenate([_word_char_buckets(t.text, key) for t in tokens])


@lru_cache(maxsize=8_192)
def _word_char_buckets(word: str, key: tuple[int, int, int]) -> IntArray:
    bits, low, high = key
    config = FeatureConfig(char_bits=bits, char_min=low, char_max=high)
    buckets, _ = char_features([Token(word, 0, len(word))], config)
    buckets.flags.writeable = False  # shared by every caller
    return buckets


def _is_nickname(tokens: list[Token], kinds: list[int], i: int) -> bool:
    if kinds[i] & _NICKNAME:
        return True
    if kinds[i] & _NICKNAME_ADJECTIVE and i + 1 < len(tokens):
        nxt = kinds[i + 1]
        named = nxt & _POLITICIAN or (tokens[i + 1].title and tokens[i].title)
        return bool(named) and not nxt & _SECOND_PERSON
    return False


def lexicon_features(tokens: list[Token]) -> tuple[FloatArray, list[LexiconHit]]:
    """Counts of the lexicon patterns (log-scaled) and the phrases that matched."""
    hits: list[LexiconHit] = []
    kinds = [_kinds(t.text) for t in tokens]
    n = len(tokens)
    last_you = last_holder = last_group = last_link = -100
    for i, kind in enumerate(kinds):
        insult = kind & _INSULT
        profane = kind & _PROFANE
        if profane:
            hits.append(LexiconHit(0, i, i))
        if insult:
            hits.append(LexiconHit(1, i, i))
        if (insult or profane) and i - last_you <= _TARGET_WINDOW:
            hits.append(LexiconHit(2, last_you, i))
        elif insult and i - last_holder <= _GROUP_WINDOW:
            hits.append(LexiconHit(3, last_holder, i))
        # a group word, then "are"/"like"/... then the word ("they are vermin"), or a
        # determiner right before it ("those animals")
        if i - last_group <= _GROUP_WINDOW and (
            last_link > last_group or (i - last_group == 1 and kinds[i - 1] & _DETERMINER)
        ):
            if insult:
                hits.append(LexiconHit(4, last_group, i))
            if kind & _DEHUMANISE:
                hits.append(LexiconHit(5, last_group, i))
            if kind & _VIOLENT:
                hits.append(LexiconHit(6, last_group, i))
        if kind & _VIOLENT and i + 1 < n and kinds[i + 1] & _GROUP:
            hits.append(LexiconHit(6, i, i + 1))  # "deport them all", "gas them"
        if kind & (_NICKNAME | _NICKNAME_ADJECTIVE) and _is_nickname(tokens, kinds, i):
            hits.append(LexiconHit(7, i, min(i + 1, n - 1)))
        if kind & _SECOND_PERSON:
            hits.append(LexiconHit(8, i, i))
            last_you = i
        if kind & _GENERIC_TARGET:
            last_holder = i
        if kind & _GROUP:
            last_group = i
        elif kind & _LINK:
            last_link = i
    counts = np.zeros(len(LEXICON_FEATURES), dtype=np.float64)
    for hit in hits:
        counts[hit.feature] += 1.0
    values = np.log1p(counts)
    if 1 <= n <= 3:
        values[_LENGTH_BASE + n - 1] = 1.0
    elif 4 <= n <= 5:
        values[_LENGTH_BASE + 3] = 1.0
    return values, hits


def extract(text: str, config: FeatureConfig) -> RawFeatures:
    """All hashed features of ``text`` (before TF-IDF weighting)."""
    tokens = tokenize(text)
    word, owner, owner2 = word_features(tokens, config.word_size - 1)
    char, char_owner = char_features(tokens, config)
    lex, hits = lexicon_features(tokens)
    return RawFeatures(
        tokens=tokens,
        word=np.asarray(word, dtype=np.int64),
        word_owner=np.asarray(owner, dtype=np.int64),
        word_owner2=np.asarray(owner2, dtype=np.int64),
        char=char,
        char_owner=char_owner,
        lexicon=lex,
        hits=hits,
    )


def tfidf_values(buckets: IntArray, idf: FloatArray) -> tuple[IntArray, FloatArray]:
    """:func:`tfidf_block` without the occurrence map (what a score needs)."""
    uniq, counts = np.unique(buckets, return_counts=True)
    values = (1.0 + np.log(counts)) * idf[uniq]
    norm = float(np.sqrt(np.dot(values, values)))
    if norm > 0.0:
        values = values / norm
    return uniq, values


def tfidf_block(buckets: IntArray, idf: FloatArray) -> tuple[IntArray, FloatArray, IntArray]:
    """Unique buckets, their L2-normalised sublinear TF-IDF values, and counts.

    ``inverse`` maps each occurrence in ``buckets`` to its unique bucket (for explanations).
    """
    uniq, inverse, counts = np.unique(buckets, return_inverse=True, return_counts=True)
    values = (1.0 + np.log(counts)) * idf[uniq]
    norm = float(np.sqrt(np.dot(values, values)))
    if norm > 0.0:
        values = values / norm
    return uniq, values, inverse.astype(np.int64)
