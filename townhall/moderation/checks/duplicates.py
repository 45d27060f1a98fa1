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

from townhall.moderation.checks.authors import Post, author_posts
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


# Recent comments are compared with every new one in their thread or by their author, so their
# folded forms and 4-gram sets are remembered; bounded by bytes (about: a 4-gram costs ~70 in
# a set), not entries, so long comments cannot fill the memory (issue 7: RSS under load).
_key = WeightedMemo(_fold_key, lambda text, key: 2 * (len(text) + len(key[0])) + 120, 4 << 20)
_shingles = WeightedMemo(_shingle_set, lambda stream, grams: 70 * len(grams) + 250, 16 << 20)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of two texts' folded 4-gram sets (1.0: the same words); 0.0 when
    their lengths alone rule out a near duplicate."""
    return _first_match(_key(a)[0], [b], NEAR_DUPLICATE)


def _jaccard(ka: str, kb: str, floor: float) -> float:
    short, long = sorted((len(ka), len(kb)))
    if not long or short / long < floor:
        return 0.0  # the sizes alone rule it out (|A∩B|/|A∪B| <= |A|/|B|)
    sa, sb = _shingles(ka), _shingles(kb)
    common = len(sa & sb)
    return common / (len(sa) + len(sb) - common)


def _first_match(stream: str, others: list[str], floor: float) -> float:
    """The similarity to the first of ``others`` that reaches ``floor``, else the best below
    it (one match is enough to decide; comparing on would only cost time)."""
    best = 0.0
    for other in others:
        ko = _key(other)[0]
        score = 1.0 if ko == stream else _jaccard(stream, ko, floor)
        if score >= floor:
            return score
        best = max(best, score)
    return best


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
    # A near copy is about as long as ours; the database skips the much shorter comments
    # (with a margin: folding can lengthen a text a little, "ß" becomes "ss").
    rows = ctx.history.thread_posts(
        sub.thread_id, since, FLOOD_ROWS, min_length=int(len(stream) * FLOOD_SIMILARITY * 0.9)
    )
    others = [
        p.text
        for p in map(Post._make, rows)
        if not (sub.reader_id and p.reader_id == sub.reader_id)
        and not (sub.ip_hash and p.ip_hash == sub.ip_hash)
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
