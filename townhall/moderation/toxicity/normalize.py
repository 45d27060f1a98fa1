"""Text normaliser: turns a comment into lowercase word tokens that remember where they came from.

Obfuscation is undone here, before any feature is built, so one weight learns ``idiot`` and the
model also sees ``1d10t``, ``id!ot``, ``i d i o t``, ``idiooooot`` and ``ɪdiot`` as that word:

* Unicode: compatibility fold (NFKD), accents and zero-width characters dropped, common
  Cyrillic/Greek look-alikes mapped to Latin letters, lowercase.
* leetspeak and symbols inside a word (``sh!t``, ``@ss``, ``$tupid``); digits are read as letters
  only when that yields a listed word, so ``2nd`` and ``mp3`` stay as they are.
* masks (``f*ck``, ``b*llsh!t``, ``sh#t``) resolved against the word lists when one word fits.
* letter runs (``stuuuupid``) shortened, and squeezed to single letters when that yields a
  listed word.
* spelled-out words (``i d i o t``, ``f.u.c.k``) joined when the letters spell a listed word.
* apostrophes dropped (``you're`` → ``youre``), numbers become ``digit``, links ``url``,
  @-mentions ``@user``: the forms the training corpora use.

Every token keeps the character span of its source in the original text, which is what the
explanation highlights.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from townhall.moderation.toxicity.lexicon import LEET, MASKS, RESOLVABLE, is_abusive_word

# Longest text scored; the rest of a very long comment is ignored (keeps scoring time bounded).
MAX_CHARS = 10_000

_LOOKALIKES = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "ο": "o", "α": "a", "ι": "i", "κ": "k",
        "ν": "v", "τ": "t", "υ": "u", "ɪ": "i", "ʏ": "y", "ᴀ": "a", "ᴇ": "e", "ᴏ": "o",
        "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None,
        "\u00ad": None,
    }
)  # fmt: skip

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# A run of word characters plus the symbols people put inside words to dodge filters.
_RUN = re.compile(r"[\w*#%@$!|+€£'’`\u200b-\u200d\u2060\u00ad]+")
_EDGE_STRIP = "!|+'’`\u200b\u200c\u200d\u2060\u00ad"
_APOSTROPHES = str.maketrans("", "", "'’`")
_LEET_SYMBOLS = frozenset("@$!|+€£")
_TRIPLES = re.compile(r"(.)\1{2,}")
_DOUBLES = re.compile(r"(.)\1+")
_DIGITS = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_RESOLVE_BY_LENGTH: dict[int, tuple[str, ...]] = {}
for _word in sorted(RESOLVABLE):
    _RESOLVE_BY_LENGTH.setdefault(len(_word), ())
    _RESOLVE_BY_LENGTH[len(_word)] += (_word,)


@dataclass(frozen=True, slots=True)
class Token:
    """One normalised word and the span ``[start, end)`` of its source in the original text."""

    text: str
    start: int
    end: int
    title: bool = False  # written with a capital first letter (names, "Crooked Hillary")


def _fold(raw: str) -> str:
    """Unicode fold and lowercase one raw token."""
    text = raw.translate(_LOOKALIKES)
    if not text.isascii():
        text = "".join(
            ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
        )
    return text.lower()


def _match_mask(pattern: str) -> str | None:
    """The one listed word that ``pattern`` spells if each mask stands for one letter."""
    found = None
    for word in _RESOLVE_BY_LENGTH.get(len(pattern), ()):
        if all(p == w or p in MASKS for p, w in zip(pattern, word, strict=True)):
            if found is not None:
                return None  # ambiguous: leave it to the character n-grams
            found = word
    return found


def _squeeze(text: str) -> str:
    """Shorten letter runs: 3+ to 2, and to 1 when that spells a listed word."""
    if not _TRIPLES.search(text):
        return text
    two = _TRIPLES.sub(r"\1\1", text)
    if is_abusive_word(two):
        return two
    one = _DOUBLES.sub(r"\1", text)
    return one if is_abusive_word(one) else two


def normalize_word(raw: str) -> str:
    """The normalised form of one token (already split off its neighbours); '' if none."""
    if raw.isdigit() and raw.isascii():
        # Numbers (years, amounts, phone numbers) are the longest tail of distinct tokens and
        # all come out as "digit": answered here, they never push a word out of the cache.
        return "digit"
    return _normalize_word(raw)


# Every distinct token (a name, a typo) stays until evicted, ~150 bytes each: 65,536 of them
# held ~9.5 MiB and filled for hours under the soak, showing as a memory trend there (found by
# the soak's memory probe; a new number per post then, before numbers skipped the cache). The
# words that repeat are far fewer; 16,384 hold ~2.4 MiB.
@lru_cache(maxsize=16_384)
def _normalize_word(raw: str) -> str:
    text = _fold(raw).translate(_APOSTROPHES)
    if not text:
        return ""
    if text.isalpha():
        return _squeeze(text)
    if _DIGITS.fullmatch(text):
        return "digit"
    has_letter = any(ch.isalpha() for ch in text)
    leet = "".join(LEET.get(ch, ch) for ch in text)
    if any(ch in MASKS for ch in leet):
        if has_letter and (word := _match_mask(leet)):
            return word
        leet = "".join(ch for ch in leet if ch not in MASKS)
        text = "".join(ch for ch in text if ch not in MASKS)
        if not leet:
            return ""
    squeezed = _squeeze(leet)
    if has_letter and is_abusive_word(squeezed):
        return squeezed
    if has_letter and any(ch in _LEET_SYMBOLS for ch in text):
        return squeezed  # symbols inside a word are obfuscation, not punctuation
    cleaned = "".join(ch for ch in text if ch.isalnum())
    if cleaned.isdigit():
        return "digit"
    return _squeeze(cleaned) if cleaned else ""


def _join_spelled(tokens: list[Token]) -> list[Token]:
    """Join runs of single letters ("i d i o t") when together they spell a listed word."""
    out: list[Token] = []
    i = 0
    n = len(tokens)
    while i < n:
        j = i
        while j < n and len(tokens[j].text) == 1:
            j += 1
        if j - i >= 3:
            joined = normalize_word("".join(t.text for t in tokens[i:j]))
            if is_abusive_word(joined):
                out.append(Token(joined, tokens[i].start, tokens[j - 1].end, tokens[i].title))
                i = j
                continue
        if j > i:
            out.extend(tokens[i:j])
            i = j
        else:
            out.append(tokens[i])
            i += 1
    return out


def tokenize(text: str) -> list[Token]:
    """Normalised tokens of ``text`` with their spans in ``text``."""
    text = text[:MAX_CHARS]
    tokens: list[Token] = []
    pos = 0
    for url in _URL.finditer(text):
        _tokenize_plain(text, pos, url.start(), tokens)
        tokens.append(Token("url", url.start(), url.end()))
        pos = url.end()
    _tokenize_plain(text, pos, len(text), tokens)
    return _join_spelled(tokens)


def _tokenize_plain(text: str, begin: int, end: int, out: list[Token]) -> None:
    for match in _RUN.finditer(text, begin, end):
        raw = match.group()
        start = match.start()
        stripped = raw.lstrip(_EDGE_STRIP)
        start += len(raw) - len(stripped)
        stripped = stripped.rstrip(_EDGE_STRIP)
        if not stripped:
            continue
        if stripped[0] == "@" and len(stripped) > 2:
            word = normalize_word(stripped)
            if not is_abusive_word(word):
                out.append(Token("@user", start, start + len(stripped)))
                continue
        word = normalize_word(stripped)
        if word:
            out.append(Token(word, start, start + len(stripped), stripped[0].isupper()))


def normalized_text(text: str) -> str:
    """The normalised tokens joined by single spaces (what the character n-grams read)."""
    return " ".join(t.text for t in tokenize(text))
