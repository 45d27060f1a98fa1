"""Training end to end on a small corpus: deterministic bytes, thresholds, evaluation."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.moderation.conftest import OTHER_KERNELS, PINNABLE
from townhall.moderation.toxicity import ToxicityModel, kernels
from townhall.moderation.toxicity.datasets import posts_containing
from townhall.moderation.toxicity.features import FeatureConfig
from townhall.moderation.toxicity.training import Hyper, evaluate, train

TOXIC = [
    "you are an idiot",
    "what a stupid moron",
    "shut up loser",
    "they are vermin",
    "go to hell you clown",
    "this writer is a fool",
    "those people are animals",
    "you pathetic troll",
]
CIVIL = [
    "the council meets on tuesday",
    "thanks for the article",
    "i disagree with the budget",
    "the bridge is closed for repairs",
    "the minister should resign",
    "great photos of the parade",
    "rain expected this weekend",
    "the library opens at nine",
]


def _write(
    path: Path, rows: Sequence[tuple[object, ...]], header: tuple[str, ...] = ("text", "label")
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    rows = [(f"{t} {i}", 1) for i in range(6) for t in TOXIC]
    rows += [(f"{t} {i}", 0) for i in range(6) for t in CIVIL]
    _write(tmp_path / "data" / "train" / "civil_train.csv", rows)
    _write(
        tmp_path / "data" / "test" / "tiny_test.csv",
        [(t, 1) for t in TOXIC] + [(t, 0) for t in CIVIL],
    )
    return tmp_path / "data"


SMALL = Hyper(features=FeatureConfig(word_bits=12, char_bits=12), max_iter=100)


def test_training_is_byte_for_byte_reproducible(data_dir: Path, tmp_path: Path) -> None:
    first = train(data_dir, tmp_path / "a.npz", hyper=SMALL)
    second = train(data_dir, tmp_path / "b.npz", hyper=SMALL)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert first.version == second.version
    assert "civil_train" in first.format()
    assert first.as_dict()["rows"]["civil_train"] == first.rows["civil_train"]


def test_a_different_seed_gives_a_different_model(data_dir: Path, tmp_path: Path) -> None:
    train(data_dir, tmp_path / "a.npz", hyper=SMALL, seed=1)
    train(data_dir, tmp_path / "b.npz", hyper=SMALL, seed=2)
    assert (tmp_path / "a.npz").read_bytes() != (tmp_path / "b.npz").read_bytes()


def test_trained_model_separates_and_evaluates(data_dir: Path, tmp_path: Path) -> None:
    report = train(data_dir, tmp_path / "m.npz", hyper=SMALL)
    model = ToxicityModel.load(tmp_path / "m.npz")
    assert model.score("you idiot") > model.score("the council meets")
    assert 0.0 < report.nudge_threshold <= report.hold_threshold < 1.0
    evaluation = evaluate(model, data_dir)
    (split,) = evaluation.splits
    assert split.split == "tiny_test" and split.rows == 16 and not split.eval_only
    assert split.roc_auc > 0.9
    assert "tiny_test" in evaluation.format()
    assert evaluation.as_dict()["splits"][0]["rows"] == 16


def test_a_teacher_labelled_source_is_fitted_toward_the_teachers_probabilities(
    data_dir: Path, tmp_path: Path
) -> None:
    """The same labels, different teacher probabilities: the fit follows the probabilities.
    Every row of such a source is fitted; none is held out to set thresholds, which come from
    labelled rows only."""
    posts = [f"the parking meters downtown are broken again {i}" for i in range(12)]
    taught = data_dir / "train" / "civil_posts_teacher.csv"
    scores = []
    for probability in (0.95, 0.55):
        rows = [(t, int(probability >= 0.5), probability) for t in posts]
        _write(taught, rows, header=("text", "label", "target"))
        report = train(data_dir, tmp_path / f"{probability}.npz", hyper=SMALL)
        assert report.rows["civil_posts_teacher"] == len(posts)
        assert "civil_posts_teacher" not in report.validation_auc
        assert "civil_train" in report.validation_auc
        row = next(line for line in report.format().splitlines() if "civil_posts" in line)
        assert row.split() == ["civil_posts_teacher", "12", "-"]
        model = ToxicityModel.load(tmp_path / f"{probability}.npz")
        scores.append(model.score("the parking meters downtown are broken again"))
    assert scores[0] > scores[1] + 0.05


def test_a_post_that_holds_a_test_sentence_is_found() -> None:
    sentences = ["stop smoking dope and examine your racism dude .", "you are wrong ."]
    posts = [
        "Honestly? Stop smoking dope, and examine your racism, dude!",
        "You are wrong. But you know that.",  # a test sentence under five words: too common
        "Stop smoking, then examine your budget.",
    ]
    assert posts_containing(posts, sentences) == {0}


def test_loading_rejects_other_files(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.npz"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(Exception):  # noqa: B017 - any read error will do
        ToxicityModel.load(bogus)


@PINNABLE
def test_townhall_moderation_train_trains_on_the_pinned_kernels(
    data_dir: Path, tmp_path: Path
) -> None:
    """``townhall moderation train`` runs the fit in a child process that starts with numpy's and
    OpenBLAS's kernels pinned (numpy reads them only when it loads), even when the environment
    asks for others, and reports what it wrote."""
    out = tmp_path / "cli.npz"
    command = "from townhall.cli import main; main()"
    args = ["moderation", "train", "--data", str(data_dir), "--out", str(out)]
    environ = {**os.environ, **OTHER_KERNELS}
    environ["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", command, *args], env=environ, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"kernels  pinned: {kernels.PINNED_KERNELS}" in done.stdout
    assert "tiny_test" in done.stdout and f"model written to {out}" in done.stdout
    assert (tmp_path / "toxicity-metrics.json").exists()
    assert ToxicityModel.load(out).score("you idiot") > ToxicityModel.load(out).score("rain")


def test_the_train_command_says_what_is_missing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from townhall.moderation.toxicity.__main__ import main

    assert main(["train", "--data", str(tmp_path / "nowhere"), "--model", str(tmp_path / "m")]) == 2
    captured = capfd.readouterr()
    assert f"error: no training data in {tmp_path / 'nowhere' / 'train'}" in captured.err
    assert "Traceback" not in captured.err and not (tmp_path / "m").exists()
