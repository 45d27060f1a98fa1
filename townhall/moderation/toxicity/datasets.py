"""The labelled corpora: where they live, how much each counts, and the validation split.

Layout of the data directory (``data/toxicity/`` in the repository)::

    train/<source>.csv   text,label   what the shipped model is trained on (licence-clean)
    test/<split>.csv     text,label   held-out splits for ``evaluate`` (never trained on)

Evaluation-only corpora whose licence forbids redistribution (the Impermium news-comment insults,
Kaggle terms) are not copied into the repository; ``evaluate`` also reads ``*.csv`` from the
directories named in ``TOWNHALL_TOXICITY_EVAL_DIRS`` (``os.pathsep``-separated).
"""

from __future__ import annotations

import csv
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

EVAL_DIRS_ENV = "TOWNHALL_TOXICITY_EVAL_DIRS"

# How much each training source counts in the loss (issue 4). The policy set is small but is the
# only data that says what *this* site holds, so it counts as much as the 26k civil sentences;
# Wikipedia talk comments help with insults aimed at another person; the tweets (mostly
# profanity, a broader "offensive" class than the policy) count least. Chosen on the development
# set (Impermium train split) and the policy set; see docs/model-card.md.
SOURCE_WEIGHTS: dict[str, float] = {
    "civil_train": 1.0,
    "jigsaw_train": 0.5,
    "davidson_train": 0.2,
    "townhall_policy": 1.0,
}
# How much more a toxic row *addressed to someone* ("you …", "your …") counts than other toxic
# rows of its source. The site's first concern is commenters insulting each other (issue 4);
# public corpora weigh that the same as a tweet's casual profanity. Only the emphasis changes,
# never a label (how toxic a row counts is severity.py's: swearing at nobody is mild). Chosen on
# the development set; see docs/model-card.md.
ADDRESSED_TOXIC_WEIGHT = 3.0
# Eval-only splits named in reports (files in the eval dirs matching these names).
EVAL_ONLY_SPLITS: tuple[str, ...] = ("insults_test",)


@dataclass(frozen=True)
class Corpus:
    name: str
    texts: list[str]
    labels: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, mask: npt.NDArray[np.bool_]) -> Corpus:
        idx = np.flatnonzero(mask)
        return Corpus(self.name, [self.texts[i] for i in idx], self.labels[idx])


def read_csv(path: Path) -> Corpus:
    """A ``text,label`` CSV (label 0/1)."""
    texts: list[str] = []
    labels: list[int] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            texts.append(row["text"])
            labels.append(int(row["label"]))
    return Corpus(path.stem, texts, np.asarray(labels, dtype=np.int64))


def training_sources(data_dir: Path) -> list[Corpus]:
    """The training corpora in a fixed order (sorted by name)."""
    paths = sorted((data_dir / "train").glob("*.csv"))
    if not paths:
        raise FileNotFoundError(f"no training data in {data_dir / 'train'}")
    return [read_csv(p) for p in paths]


def eval_dirs(data_dir: Path) -> list[Path]:
    dirs = [data_dir / "test"]
    extra = os.environ.get(EVAL_DIRS_ENV, "")
    dirs += [Path(p) for p in extra.split(os.pathsep) if p]
    return dirs


def test_splits(data_dir: Path) -> Iterator[Corpus]:
    """Held-out splits: the repository's ``test/`` plus eval-only splits found elsewhere."""
    seen: set[str] = set()
    for directory in eval_dirs(data_dir):
        for path in sorted(directory.glob("*.csv")):
            in_repo = directory == data_dir / "test"
            if path.stem in seen or (not in_repo and path.stem not in EVAL_ONLY_SPLITS):
                continue
            seen.add(path.stem)
            yield read_csv(path)


def validation_mask(texts: list[str], seed: int, fraction: float = 0.1) -> npt.NDArray[np.bool_]:
    """A fixed ~10 % of each corpus held out to choose thresholds (hash of seed and text)."""
    cut = int(fraction * 1000)
    salt = f"{seed}:".encode()
    return np.array(
        [zlib.crc32(salt + t.encode("utf-8")) % 1000 < cut for t in texts], dtype=np.bool_
    )
