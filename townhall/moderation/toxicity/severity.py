"""How toxic a comment labelled toxic is, for training: swearing that names nobody is mild.

The public corpora label a comment toxic or not, and they count "this is bullshit" as toxic as
"you are a worthless idiot". The site policy (issue 4) does not: its first concern is people
attacked (other commenters, third parties, whole groups), while profanity as such is what the
site's banned and suspect word lists are for (with the same obfuscation tolerance). So a toxic
row whose only offence is *swearing* (an exclamation or intensifier, with no profane word for a
person, no slur, no insult, no group contempt, no mocking nickname and nobody addressed) is
trained toward :data:`MILD_TARGET` instead of 1: the model learns to score such a comment above
civil ones (its author is nudged, and a comment posted anyway is held) but below attacks, which
reach the hold threshold.

No label is changed and no row is dropped; the target of a comment labelled civil stays 0. The
rule reads the same tokens and lexicon features as the model (``features.extract``), so it is
fixed by the word lists in :mod:`.lexicon`, not by any labelled data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from townhall.moderation.toxicity import lexicon as lx
from townhall.moderation.toxicity.features import LEXICON_FEATURES, FloatArray
from townhall.moderation.toxicity.normalize import Token

# Training target of a toxic comment whose only offence is swearing, chosen so that about nine
# in ten held-out comments that only swear reach the nudge threshold (docs/model-card.md): 0.7
# did that for the regression alone (90 %), 0.75 does it with the network beside it (89 %; 0.7:
# 86 %). A lower target buys development-split AUC (0.8 / 0.7 / 0.6 gave 0.8996 / 0.9024 /
# 0.9043 for the regression) with swearing that passes unremarked.
MILD_TARGET = 0.75

# Lexicon features that mean someone is attacked or addressed: every one but profanity itself and
# the length indicators.
_ATTACK_FEATURES = np.array(
    [
        index
        for index, name in enumerate(LEXICON_FEATURES)
        if name != "profanity" and not name.startswith("length_")
    ]
)


# Swearing aimed at someone without a listed word for them.
_DISMISSALS = lx.words("stfu gtfo")  # "shut the fuck up", "get the fuck out", as one word
_AWAY = lx.words("off")  # "fuck off", "piss off"
_SWEAR_VERBS = lx.words("fuck fck fuk fuq")  # "fuck the police", "fuck immigrants"
_OBJECT_WINDOW = 2  # how far after the verb its object may be
_ARTICLES = lx.words("a an")
_SWEAR_NOUNS = lx.words("ass arse asses cock cocks")  # a person after "a"/"an": "he is an ass"
_SHUT = "shut"  # "shut the fuck up"


def _aimed(words: Sequence[str], i: int) -> bool:
    """Whether the swear word at ``i`` is aimed at someone: a dismissal ("fuck off", "shut the
    fuck up"), a verb with an object ("fuck the police", "fuck trump"), a noun for a person
    ("what an ass")."""
    word = words[i]
    after = words[i + 1 : i + 1 + _OBJECT_WINDOW]
    if after and after[0] in _AWAY:
        return True
    if _SHUT in words[max(0, i - 3) : i]:
        return True
    named = any(w in lx.GROUP_WORDS or w in lx.POLITICIAN_NAMES for w in after)
    if word in _SWEAR_VERBS and after and (after[0] == "the" or named):
        return True
    return word in _SWEAR_NOUNS and i > 0 and words[i - 1] in _ARTICLES


def swearing_only(tokens: Sequence[Token], lexicon: FloatArray) -> bool:
    """True if the text swears and does nothing else the policy names: no profane word for a
    person, no slur, no insult, group contempt, nickname or second-person address, and no swear
    word aimed at someone ("fuck off", "fuck the police", "stfu")."""
    if np.any(lexicon[_ATTACK_FEATURES] > 0):
        return False
    words = [token.text for token in tokens]
    swears = False
    for i, word in enumerate(words):
        if word in lx.PROFANE_PERSON_WORDS or word in _DISMISSALS:
            return False
        if word in lx.SWEAR_WORDS:
            if _aimed(words, i):
                return False
            swears = True
    return swears


def training_target(label: int, mild: bool, mild_target: float = MILD_TARGET) -> float:
    """The value a row is fitted toward: 0 for civil, ``mild_target`` for swearing only, else 1."""
    if not label:
        return 0.0
    return mild_target if mild else 1.0
