"""Which toxic rows count as swearing only, and what training does with them (severity.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from townhall.moderation.toxicity import ToxicityModel
from townhall.moderation.toxicity.datasets import validation_mask
from townhall.moderation.toxicity.features import FeatureConfig, extract
from townhall.moderation.toxicity.severity import MILD_TARGET, swearing_only, training_target
from townhall.moderation.toxicity.training import Hyper, train

from .test_toxicity_training import _write


def _swearing_only(text: str) -> bool:
    raw = extract(text, FeatureConfig(word_bits=10, char_bits=10))
    return swearing_only(raw.tokens, raw.lexicon)


@pytest.mark.parametrize(
    "text",
    [
        "This is bullshit.",
        "what the fuck is the council doing",
        "Holy sh!t, what a goal",
        "that's a load of crap",
        "this is complete b.u.l.l.s.h.i.t",
        "fuck this weather",
        "kick ass performance",
        "my ass hurts after that ride",
    ],
)
def test_swearing_at_nobody_is_mild(text: str) -> None:
    assert _swearing_only(text)


@pytest.mark.parametrize(
    "text",
    [
        "You are full of shit.",  # addressed to the reader
        "the mayor is an asshole",  # a profane word for a person
        "shut up bitch",
        "fucking idiot",  # an insult
        "those fucking animals should be deported",  # group contempt
        "fucking retards everywhere",  # a slur
        "Crooked Hillary is full of shit",  # a mocking nickname
        "the council meets on tuesday",  # no swearing at all
        "",
        # swearing aimed at someone without a listed word for them
        "fuck off",
        "piss off mate",
        "shut the fuck up",
        "stfu",
        "gtfo",
        "fuck the police",
        "fuck immigrants",
        "fuck trump",
        "the mayor is an ass",
        "what a fuckwit",
    ],
)
def test_swearing_with_a_target_or_no_swearing_is_not_mild(text: str) -> None:
    assert not _swearing_only(text)


def test_targets_keep_labels_and_grade_only_toxic_swearing() -> None:
    assert training_target(0, mild=True) == 0.0
    assert training_target(0, mild=False) == 0.0
    assert training_target(1, mild=False) == 1.0
    assert training_target(1, mild=True) == MILD_TARGET
    assert training_target(1, mild=True, mild_target=0.5) == 0.5
    assert 0.5 <= MILD_TARGET < 1.0


def test_training_fits_swearing_between_civil_and_insults(tmp_path: Path) -> None:
    swearing = ["this is bullshit", "what the fuck", "holy shit", "damn that is crap"]
    insults = ["you are an idiot", "what a stupid moron", "shut up loser", "you pathetic clown"]
    civil = ["the council meets on tuesday", "thanks for the article", "rain this weekend"]
    rows = [(f"{t} {i}", 1) for i in range(8) for t in swearing + insults]
    rows += [(f"{t} {i}", 0) for i in range(8) for t in civil * 3]
    data = tmp_path / "data"
    _write(data / "train" / "civil_train.csv", rows)
    _write(data / "test" / "tiny_test.csv", [("holy shit", 1), ("thanks", 0)])
    small = FeatureConfig(word_bits=12, char_bits=12)
    graded = train(data, tmp_path / "graded.npz", hyper=Hyper(features=small, max_iter=200))
    train(data, tmp_path / "flat.npz", hyper=Hyper(features=small, max_iter=200, mild_target=1.0))
    swearing_rows = [t for t, _ in rows if t.rsplit(" ", 1)[0] in swearing]
    fitted = ~validation_mask(swearing_rows, seed=42)  # train() holds 10 % out for thresholds
    assert graded.mild_rows == int(fitted.sum()) > 0
    assert "only swear" in graded.format()
    model = ToxicityModel.load(tmp_path / "graded.npz")
    assert model.meta["hyper"]["mild_target"] == MILD_TARGET
    flat_model = ToxicityModel.load(tmp_path / "flat.npz")
    swear = np.mean([model.score(t) for t in swearing])
    insult = np.mean([model.score(t) for t in insults])
    civil_score = np.mean([model.score(t) for t in civil])
    assert civil_score < swear < insult
    assert swear < np.mean([flat_model.score(t) for t in swearing])
