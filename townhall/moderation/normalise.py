"""Obfuscation-tolerant text normalisation and word-list matching for the moderation checks.

Readers who want a word past a filter write it so that a plain search misses it: masked
(``b*llsh!t``), spaced out (``i d i o t``), in leetspeak (``1d10t``), stretched (``stuuupid``),
with zero-width characters inside, or with look-alike letters from other scripts (Cyrillic
``а``/``е``/``о``). Two steps undo that (issue 4):

1. :func:`fold` maps every character to the lowercase Latin letter it looks like, drops
   invisible characters and accents, and cuts the result into tokens, remembering where each
   token came from in the original text (moderators see the span highlighted).
2. :class:`WordMatcher` compiles a word list (``*`` wildcards, multi-word phrases) into one
   regular expression over the tokens. Each letter of a listed word also accepts its leet
   stand-ins, a run of mask characters, and any number of repeats; but a match must start and
   end on a token boundary, so "Scunthorpe", "class" and "assess" stay clean.

Both steps are cached: folding per text (the checks of one submission share the result) and
compiled matchers per word list (a policy's lists compile once per process).
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
_MASKED_LETTERS = re.compile(r"(?:[^*]\*)+[^*]")  # "f*u*c*k": masks used as separators
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
    """A text cut into folded tokens, ready for matching and comparing."""

    text: str
    folded: str
    tokens: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # each token's start and end in ``folded``
    stream: str  # the tokens joined by single spaces: what word lists are matched against
    stream_starts: tuple[int, ...]  # where each token starts in ``stream``
    joined: tuple[tuple[str, int, int], ...]  # spaced-out words glued: (word, first, last token)

    def original_span(self, first: int, last: int) -> tuple[int, int]:
        """The span in the original text covered by tokens ``first`` to ``last``."""
        offsets = self._offsets
        start = offsets[self.spans[first][0]]
        end = offsets[self.spans[last][1] - 1] + 1
        return start, end

    @functools.cached_property
    def _offsets(self) -> list[int]:
        return _offsets(self.text)

    def token_at(self, stream_pos: int) -> int:
        return bisect.bisect_right(self.stream_starts, stream_pos) - 1


@functools.lru_cache(maxsize=1024)
def fold(text: str) -> Folded:
    """Fold and tokenise ``text``. Cached: the checks of one submission share the result."""
    folded = fold_text(text)
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in _TOKEN.finditer(folded):
        tokens.append(m.group())
        spans.append(m.span())
    starts: list[int] = []
    pos = 0
    for tok in tokens:
        starts.append(pos)
        pos += len(tok) + 1
    return Folded(
        text=text,
        folded=folded,
        tokens=tuple(tokens),
        spans=tuple(spans),
        stream=" ".join(tokens),
        stream_starts=tuple(starts),
        joined=tuple(_glued(tokens, spans)),
    )


def _glued(
    tokens: Sequence[str], spans: Sequence[tuple[int, int]]
) -> Iterable[tuple[str, int, int]]:
    """Words written letter by letter ("i d i o t", "f*u*c*k"), glued back together."""
    run: list[int] = []
    for i, tok in enumerate(tokens):
        single = len(tok) == 1
        if single and run and spans[i][0] - spans[run[-1]][1] <= _MAX_SPACED_GAP:
            run.append(i)
            continue
        if len(run) >= _MIN_SPACED_RUN:
            yield "".join(tokens[run[0] : run[-1] + 1]), run[0], run[-1]
        run = [i] if single else []
        if len(tok) >= 5 and _MASKED_LETTERS.fullmatch(tok):
            yield tok.replace(MASK, ""), i, i
    if len(run) >= _MIN_SPACED_RUN:
        yield "".join(tokens[run[0] : run[-1] + 1]), run[0], run[-1]


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


def literal_length(pattern: str) -> int:
    """How many letters and digits a pattern has (a pattern needs two to be useful)."""
    return sum(1 for c, _ in _units(pattern) if c not in ("*", " "))


def _unit_regex(unit: _Unit, first: bool) -> str:
    ch, k = unit
    if ch == "*":
        return r"[^ ]*"
    if ch == " ":
        return " "
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
            if sum(1 for c, _ in u if c not in ("*", " ")) >= 2:
                units[p] = u
        self.patterns = tuple(units)
        self._each = {p: re.compile(_trie_regex([u])) for p, u in units.items()}
        body = _trie_regex(units.values()) if units else None
        # In the token stream tokens are separated by single spaces: a boundary is a space or
        # either end. Glued spaced-out words are searched without boundaries.
        self._bounded = re.compile(f"(?<![^ ])(?:{body})(?![^ ])") if body else None
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
        for m in self._bounded.finditer(f.stream):
            if not _plausible(m.group()):
                continue
            first = f.token_at(m.start())
            last = f.token_at(m.end() - 1)
            out.append(self._match(f, m.group(), first, last))
            if len(out) >= limit:
                return out
        for word, first, last in f.joined:
            m2 = self._anywhere.search(word)
            if m2 is None or not _plausible(m2.group()):
                continue
            if last > first:  # letter by letter: one token per letter, narrow to the match
                first, last = first + m2.start(), first + m2.end() - 1
            out.append(self._match(f, m2.group(), first, last))
            if len(out) >= limit:
                break
        return out

    def _match(self, f: Folded, matched: str, first: int, last: int) -> WordMatch:
        start, end = f.original_span(first, last)
        pattern = self._which(matched) or matched
        return WordMatch(pattern=pattern, matched=f.text[start:end], start=start, end=end)


def _plausible(matched: str) -> bool:
    """Reject matches that are mostly masks ("f***") or have no letter at all ("1000")."""
    masks = matched.count(MASK)
    literal = len(matched) - masks - matched.count(" ")
    if literal < 2 or masks > literal:
        return False
    return any(c.isalpha() for c in matched)


@functools.lru_cache(maxsize=256)
def _compile(patterns: tuple[str, ...]) -> WordMatcher:
    return WordMatcher(patterns)


def compile_words(patterns: Iterable[str]) -> WordMatcher:
    """The compiled matcher for a word list; compiled once per distinct list and process."""
    return _compile(tuple(patterns))
