"""Obfuscation-tolerant text normalisation and word-list matching for the moderation checks.

Readers who want a word past a filter write it so that a plain search misses it: masked
(``b*llsh!t``), spaced out (``i d i o t``), in leetspeak (``1d10t``), stretched (``stuuupid``),
with zero-width characters inside, or with look-alike letters from other scripts (Cyrillic
``а``/``е``/``о``). Two steps undo that (issue 4):

1. :func:`fold` maps every character to the lowercase Latin letter it looks like and drops
   invisible characters and accents, remembering where each folded character came from in
   the original text (moderators see the span highlighted).
2. :class:`WordMatcher` compiles a word list (``*`` wildcards, multi-word phrases) into one
   regular expression over the folded text. Each letter of a listed word also accepts its
   leet stand-ins, a run of mask characters, and any number of repeats; but a match must be
   a whole word, so "Scunthorpe", "class" and "assess" stay clean. Words spelled letter by
   letter are glued back together first.

Both steps are cached: folding per text (the checks of one submission share the result) and
compiled matchers per word list (a policy's lists compile once per process).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from townhall.moderation.memo import WeightedMemo

# Letters from other scripts (and a few Latin extras) that readers use as look-alikes.
# Keys are lowercase: folding casefolds before it looks a character up here.
HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ь": "b", "і": "i", "ї": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ү": "y", "ѵ": "v", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "μ": "u",
    # Latin letters without a decomposition
    "ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "ƅ": "b", "ɑ": "a",
}  # fmt: skip

# What a leetspeak character may stand for, by the letter it replaces.
LEET: dict[str, str] = {
    "a": "4@", "b": "8", "e": "3", "g": "9", "i": "1!|", "l": "1|", "o": "0", "s": "5$",
    "t": "7+", "z": "2",
}  # fmt: skip

MASK = "*"  # folding turns every mask character ("*", "#", "%") into this one
_MASKS = {"*", "#", "%"}

# A token: word characters and leet symbols, with masks or leet punctuation only *inside*
# ("b*llsh!t" is one token; the "!" of "idiot!" and the "*" of "*idiot*" are not part of it).
_TOKEN = re.compile(r"[\w@$]+(?:[!|+*]+[\w@$]+)*")
_MAX_SPACED_GAP = 3  # "i d i o t", "i.d.i.o.t", "i - d - i - o - t"
_MIN_SPACED_RUN = 3


def _fold_char(ch: str) -> str:
    """What one character looks like, as lowercase Latin; "" for an invisible one."""
    if ch in _MASKS:
        return MASK
    if ch == "_":
        return " "  # Markdown emphasis and a word separator, not a mask
    category = unicodedata.category(ch)
    if category in ("Cf", "Mn", "Me", "Cc") and ch not in "\n\t":
        return ""  # zero-width spaces and joiners, soft hyphens, combining marks, controls
    if ch.isspace():
        return " "
    out = []
    for part in unicodedata.normalize("NFKD", ch):
        if unicodedata.combining(part):
            continue
        for low in part.casefold():
            out.append(HOMOGLYPHS.get(low, low))
    return "".join(out)


class _FoldTable(dict[int, str]):
    """``str.translate`` table computed lazily, one entry per code point met."""

    _LIMIT = 65536  # bound the memory an adversary can make us spend on rare characters

    def __missing__(self, codepoint: int) -> str:
        value = _fold_char(chr(codepoint))
        if len(self) < self._LIMIT:
            self[codepoint] = value
        return value


_TABLE = _FoldTable()
for _cp in range(128):
    _TABLE[_cp] = _fold_char(chr(_cp))


def fold_text(text: str) -> str:
    """The text as lowercase look-alike Latin, without invisible characters or accents."""
    return text.translate(_TABLE)


def _offsets(text: str) -> list[int]:
    """For each character of ``fold_text(text)``, the index of the character it came from."""
    out: list[int] = []
    for i, ch in enumerate(text):
        out.extend([i] * len(_TABLE[ord(ch)]))
    return out


@dataclass(frozen=True)
class Folded:
    """A text folded for matching and comparing. Positions are in ``folded``; what only a
    match or a comparison needs is computed on demand, once."""

    text: str
    folded: str

    @functools.cached_property
    def tokens(self) -> tuple[str, ...]:
        return tuple(_TOKEN.findall(self.folded))

    @functools.cached_property
    def stream(self) -> str:
        """The tokens joined by single spaces (what duplicates are compared on)."""
        return " ".join(self.tokens)

    @functools.cached_property
    def joined(self) -> tuple[tuple[str, int, int], ...]:
        """Words written letter by letter ("i d i o t", "f*u*c*k"), glued back together:
        (word, start, end)."""
        found = [
            ("".join(_LETTER.findall(m.group())), m.start(), m.end())
            for m in _SPACED.finditer(self.folded)
        ]
        if MASK in self.folded:
            found.extend(
                (m.group().replace(MASK, ""), m.start(), m.end())
                for m in _MASKED.finditer(self.folded)
            )
        return tuple(found)

    @functools.cached_property
    def _offsets(self) -> list[int]:
        return _offsets(self.text)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Where ``folded[start:end]`` came from in the original text."""
        return self._offsets[start], self._offsets[end - 1] + 1


def _fold(text: str) -> Folded:
    return Folded(text=text, folded=fold_text(text))


# Remembered: the checks of one submission share the result, and an author's recent comments
# are folded once. Weighed by the text's length (the folded copy, its tokens and, once asked
# for, a character offset table). 2 MB: the flood check no longer folds a thread's comments.
fold = WeightedMemo(_fold, lambda text, _folded: 48 * len(text) + 400, 2 << 20)


# Single letters with short gaps between them ("i d i o t", "i.d.i.o.t", "i - d - i - o - t"),
# and letters with masks between them ("f*u*c*k"). Written with \b, which the regex engine
# scans far faster than a lookbehind at every position.
_SPACED = re.compile(rf"\b\w\b(?:[^\w*]{{1,{_MAX_SPACED_GAP}}}\b\w\b){{{_MIN_SPACED_RUN - 1},}}")
_MASKED = re.compile(r"(?<![\w@$*])(?:[\w@$]\*){2,}[\w@$](?![\w@$*])")
_LETTER = re.compile(r"[\w@$]")
_WORD_CHARS = r"[\w@$!|+*]"  # what a word may contain: letters, leet symbols, masks


def _letter_span(folded: str, start: int, end: int, first: int, last: int) -> tuple[int, int]:
    """Within a glued run at ``folded[start:end]``, the span of its letters first..last."""
    positions = [m.start() for m in _LETTER.finditer(folded, start, end)]
    return positions[first], positions[last] + 1


def stream_key(text: str) -> str:
    """The text reduced to its folded words: equal for texts that differ only in case,
    punctuation, spacing, accents or look-alike letters (duplicate detection)."""
    return fold(text).stream


# --- word lists -------------------------------------------------------------------------------

_Unit = tuple[str, int]  # (character, minimum repeats); ("*", 0) is a wildcard, (" ", 1) a gap


def _units(pattern: str) -> tuple[_Unit, ...]:
    """A word-list entry as units; folded exactly like text so both sides agree."""
    words: list[str] = []
    for raw in pattern.split():
        folded = fold_text(raw)
        # Inside a pattern "*" is the wildcard, anything else that is not a letter or digit
        # separates words ("self-harm" matches "self harm" and "self-harm").
        parts = re.split(r"[^\w*@$]+|_", folded)
        words.extend(p for p in parts if p)
    units: list[_Unit] = []
    for w_index, word in enumerate(words):
        if w_index:
            units.append((" ", 1))
        for ch in word:
            if ch == MASK:
                if not units or units[-1] != ("*", 0):
                    units.append(("*", 0))
            elif units and units[-1][0] == ch:
                units[-1] = (ch, units[-1][1] + 1)
            else:
                units.append((ch, 1))
    return tuple(units)


def _literal(units: tuple[_Unit, ...]) -> int:
    return sum(1 for c, _ in units if c not in ("*", " "))


def literal_length(pattern: str) -> int:
    """How many letters and digits a pattern has (a pattern needs two to be useful)."""
    return _literal(_units(pattern))


def _unit_regex(unit: _Unit, first: bool) -> str:
    ch, k = unit
    if ch == "*":
        return _WORD_CHARS + "*"
    if ch == " ":
        return r"[^\w@$]+"  # between the words of a phrase: any spacing or punctuation
    chars = re.escape(ch) + "".join(re.escape(c) for c in LEET.get(ch, ""))
    cls = f"[{chars}]" if len(chars) > 1 else chars
    reps = "+" if k == 1 else f"{{{k},}}"
    if first:
        return cls + reps
    return f"(?:{cls}{reps}|\\*+)"  # a run of masks may hide this letter


def _trie_regex(sequences: Iterable[tuple[_Unit, ...]]) -> str:
    """One alternation with shared prefixes factored out, so the engine tries each first
    letter once instead of every word in turn."""
    trie: dict[object, dict[object, object]] = {}
    end = object()
    for seq in sequences:
        node = trie
        for unit in seq:
            node = node.setdefault(unit, {})  # type: ignore[assignment]
        node[end] = {}

    def emit(node: dict[object, dict[object, object]], depth: int) -> str:
        alts = [
            _unit_regex(unit, depth == 0) + emit(child, depth + 1)  # type: ignore[arg-type]
            for unit, child in node.items()
            if unit is not end
        ]
        if end in node:
            alts.append("")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    return emit(trie, 0)


@dataclass(frozen=True)
class WordMatch:
    pattern: str  # the list entry that matched
    matched: str  # the text as written
    start: int  # span in the original text
    end: int

    def as_json(self) -> dict[str, object]:
        return {"pattern": self.pattern, "matched": self.matched, "start": self.start,
                "end": self.end}  # fmt: skip


class WordMatcher:
    """A compiled word list. Build with :func:`compile_words` (cached)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        units = {}
        for p in patterns:
            u = _units(p)
            if _literal(u) >= 2:
                units[p] = u
        self.patterns = tuple(units)
        self._each = {p: re.compile(_trie_regex([u])) for p, u in units.items()}
        body = _trie_regex(units.values()) if units else None
        # A listed word must be a whole word of the folded text: no letter, digit or leet
        # symbol right before or after it. Glued spaced-out words are searched without.
        self._bounded = re.compile(f"(?<![\\w@$])(?:{body})(?![\\w@$])") if body else None
        self._anywhere = re.compile(body) if body else None

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def _which(self, matched: str) -> str | None:
        for pattern, rx in self._each.items():
            if rx.fullmatch(matched):
                return pattern
        return None

    def find(self, text: str | Folded, *, limit: int = 10) -> list[WordMatch]:
        """Where listed words occur in ``text``, first first, at most ``limit``."""
        if self._bounded is None or self._anywhere is None:
            return []
        f = text if isinstance(text, Folded) else fold(text)
        out: list[WordMatch] = []
        for m in self._bounded.finditer(f.folded):
            if _plausible(m.group()):
                out.append(self._match(f, m.group(), m.start(), m.end()))
                if len(out) >= limit:
                    return out
        for word, start, end in f.joined:
            m2 = self._anywhere.search(word)
            if m2 is None or not _plausible(m2.group()):
                continue
            span = _letter_span(f.folded, start, end, m2.start(), m2.end() - 1)
            out.append(self._match(f, m2.group(), *span))
            if len(out) >= limit:
                break
        return out

    def _match(self, f: Folded, matched: str, start: int, end: int) -> WordMatch:
        start, end = f.original_span(start, end)
        pattern = self._which(matched) or matched
        return WordMatch(pattern=pattern, matched=f.text[start:end], start=start, end=end)


def _plausible(matched: str) -> bool:
    """Reject matches that are mostly masks ("f***") or have no letter at all ("1000")."""
    masks = matched.count(MASK)
    literal = sum(1 for c in matched if c.isalnum() or c in "@$!|+")
    if literal < 2 or masks > literal:
        return False
    return any(c.isalpha() for c in matched)


@functools.lru_cache(maxsize=256)
def _compile(patterns: tuple[str, ...]) -> WordMatcher:
    return WordMatcher(patterns)


def compile_words(patterns: Iterable[str]) -> WordMatcher:
    """The compiled matcher for a word list; compiled once per distinct list and process."""
    return _compile(tuple(patterns))
