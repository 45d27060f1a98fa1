"""Duplicate and near-duplicate text: the same reader repeating themselves is spam (reject);
different readers posting the same text into one thread is a flood (hold).

Texts are compared after folding (case, punctuation, accents, look-alike letters and spacing
do not matter) and without Markdown quotes (a reply quoting the comment it answers is not a
copy). "Near" is a Jaccard similarity of character 4-gram sets of at least
:data:`NEAR_DUPLICATE`: a changed word or two in a paragraph still counts, a different
sentence does not. Very short texts ("Thanks!", "+1") are compared only for equality, and only
with the same reader's earlier comments in the same thread (a double submit).
"""

from __future__ import annotations

import datetime as dt
import re
from itertools import islice

from townhall.moderation import minhash
from townhall.moderation.checks.authors import author_posts
from townhall.moderation.memo import WeightedMemo
from townhall.moderation.normalise import fold
from townhall.moderation.pipeline import CheckContext, CheckResult, Submission, registry
from townhall.types import Verdict

NEAR_DUPLICATE = 0.85  # the same reader: one changed word in a sentence or two
# Different readers need a closer match: short opposite opinions ("should resign", "should not
# resign") differ by one word and are no copy-and-paste campaign.
FLOOD_SIMILARITY = 0.9
MIN_WORDS = 6  # shorter texts are compared for equality only, within one thread
SHINGLE = 4
FLOOD_ROWS = 200  # the thread's latest comments a flood is looked for in
_QUOTE = re.compile(r"^[ \t]{0,3}>.*$", re.MULTILINE)


def _fold_key(text: str) -> tuple[str, int]:
    """The folded words of the author's own text (quotes removed) and how many there are."""
    f = fold(_QUOTE.sub("", text))
    return f.stream, len(f.tokens)


def _shingle_set(stream: str) -> frozenset[str]:
    if len(stream) <= SHINGLE:
        return frozenset({stream})
    return frozenset([stream[i : i + SHINGLE] for i in range(len(stream) - SHINGLE + 1)])


# An author's recent comments are compared with each new one of theirs, so their folded forms
# and 4-gram sets are remembered; bounded by bytes (about: a 4-gram costs ~70 in a set), not
# entries, so long comments cannot fill the memory (issue 7: RSS under load). The flood check
# compares only the few comments whose signature shares a band (moderation/minhash.py), so the
# thread's other comments need no place here: 1 and 4 MB, where 4 and 16 were sized for them.
_key = WeightedMemo(_fold_key, lambda text, key: 2 * (len(text) + len(key[0])) + 120, 1 << 20)
_shingles = WeightedMemo(_shingle_set, lambda stream, grams: 70 * len(grams) + 250, 4 << 20)


def signature(text: str) -> bytes:
    """The MinHash band signature stored with a comment of this text (moderation/minhash.py);
    remembered, as the flood check and the write that follows it both ask."""
    return _signature(_key(text)[0])


_signature = WeightedMemo(minhash.signature, lambda stream, _sig: len(stream) + 200, 1 << 20)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of two texts' folded 4-gram sets (1.0: the same words); 0.0 when
    a cheap bound (their lengths, a sample of 4-grams) already rules out a near duplicate."""
    return _first_match(_key(a)[0], [b], NEAR_DUPLICATE)


# A sample of the new text's 4-grams is looked up in each other text before the whole sets are
# intersected: a near copy may miss at most (1 - floor)·|A| of them, so a sample of that many
# plus PROBE_MARGIN rules most pairs out exactly, at a fraction of the cost (issue 7).
PROBE_MARGIN = 16


def _first_match(stream: str, others: list[str], floor: float) -> float:
    """The similarity to the first of ``others`` that reaches ``floor``, else the best below
    it (one match is enough to decide; comparing on would only cost time)."""
    if not others:
        return 0.0
    mine = _shingles(stream)
    size = int(len(mine) * (1.0 - floor)) + PROBE_MARGIN
    probe = frozenset(islice(mine, size)) if size < len(mine) // 2 else None
    best = 0.0
    for other in others:
        ko = _key(other)[0]
        if ko == stream:
            return 1.0
        short, long = sorted((len(stream), len(ko)))
        if not long or short / long < floor:
            continue  # the sizes alone rule it out (|A∩B|/|A∪B| <= |A|/|B|)
        theirs = _shingles(ko)
        if probe is not None and _cannot_reach(
            floor, len(mine), len(theirs), size - len(probe & theirs)
        ):
            continue
        common = len(mine & theirs)
        score = common / (len(mine) + len(theirs) - common)
        if score >= floor:
            return score
        best = max(best, score)
    return best


def _cannot_reach(floor: float, mine: int, theirs: int, missing: int) -> bool:
    """True if A, with ``missing`` of its 4-grams known to be absent from B, cannot reach a
    Jaccard similarity of ``floor`` with B. J >= floor needs |A∩B| >= floor·|A∪B| >=
    floor·max(|A|, |B|), so at most |A| - floor·max(|A|, |B|) of A's 4-grams miss B."""
    return missing > mine - floor * max(mine, theirs)


@registry.register("duplicate")
def duplicate(sub: Submission, ctx: CheckContext) -> CheckResult | None:
    if sub.is_edit:
        return None  # the comment's own earlier text is in the history
    stream, words = _key(sub.text)
    if not stream:
        return None  # nothing but a quote: nothing of the author's own to compare
    policy = ctx.policy
    if policy.duplicate_window_minutes > 0:
        result = _same_reader(sub, ctx, stream, words)
        if result is not None:
            return result
    if policy.flood_window_minutes > 0 and sub.thread_id is not None and words >= MIN_WORDS:
        return _flood(sub, ctx, stream)
    return None


def _same_reader(sub: Submission, ctx: CheckContext, stream: str, words: int) -> CheckResult | None:
    since = sub.now - dt.timedelta(minutes=ctx.policy.duplicate_window_minutes)
    posts = [p for p in author_posts(sub, ctx).posts if p.created_at >= since]
    if words < MIN_WORDS:
        # "Thanks!" on two articles is fine; twice under one article is a double submit.
        mine = [
            p.text
            for p in posts
            if p.thread_id == sub.thread_id and sub.reader_id and p.reader_id == sub.reader_id
        ]
        score = 1.0 if any(_key(t)[0] == stream for t in mine) else 0.0
    else:
        score = _first_match(stream, [p.text for p in posts], NEAR_DUPLICATE)
    if score < NEAR_DUPLICATE:
        return None
    same = "the same text" if score == 1.0 else "nearly the same text"
    return CheckResult(
        "duplicate",
        Verdict.REJECT,
        f"The author posted {same} in the last {ctx.policy.duplicate_window_minutes} minutes.",
        score=score,
        spam=True,
    )


def _flood(sub: Submission, ctx: CheckContext, stream: str) -> CheckResult | None:
    assert sub.thread_id is not None
    since = sub.now - dt.timedelta(minutes=ctx.policy.flood_window_minutes)
    # Only the comments whose signature shares a MinHash band with ours can be a near copy
    # (moderation/minhash.py); those are fetched and compared exactly.
    rows = ctx.history.thread_signatures(sub.thread_id, since, FLOOD_ROWS)
    maybe = minhash.candidates(signature(sub.text), [stored for _, stored in rows])
    ids = [comment_id for (comment_id, _), hit in zip(rows, maybe, strict=True) if hit]
    others = [
        text
        for _, reader_id, ip_hash, text in (ctx.history.thread_texts(ids) if ids else [])
        if not (sub.reader_id and reader_id == sub.reader_id)
        and not (sub.ip_hash and ip_hash == sub.ip_hash)
    ]
    score = _first_match(stream, others, FLOOD_SIMILARITY)
    if score < FLOOD_SIMILARITY:
        return None
    return CheckResult(
        "flood",
        Verdict.HOLD,
        "Another reader posted nearly the same text in this thread in the last "
        f"{ctx.policy.flood_window_minutes} minutes.",
        score=score,
    )
