"""The labelled corpora: where they live, how much each counts, and the validation split.

Layout of the data directory (``data/toxicity/`` in the repository)::

    train/<source>.csv   text,label   what the shipped model is trained on (licence-clean)
    train/<source>.csv   text,label,target   the same, labelled by a teacher model: ``target`` is
                         its probability (what the row is fitted toward), ``label`` its 0.5 cut
    test/<split>.csv     text,label   held-out splits for ``evaluate`` (never trained on)

Evaluation-only corpora whose licence forbids redistribution (the Impermium news-comment insults,
Kaggle terms) are not copied into the repository; ``evaluate`` also reads ``*.csv`` from the
directories named in ``TOWNHALL_TOXICITY_EVAL_DIRS`` (``os.pathsep``-separated).
"""

from __future__ import annotations

import csv
import os
import re
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
    # unlabelled Civil Comments posts, targets from the fine-tuned teacher
    # (scripts/finetune_teacher.py); chosen on the development set, see docs/model-card.md
    "civil_posts_teacher": 0.5,
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
    """Texts with labels; a teacher-labelled corpus also carries the teacher's probabilities
    (``targets``), which training fits instead of the labels and never validates on."""

    name: str
    texts: list[str]
    labels: npt.NDArray[np.int64]
    targets: npt.NDArray[np.float64] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def teacher_labelled(self) -> bool:
        return self.targets is not None

    def subset(self, mask: npt.NDArray[np.bool_]) -> Corpus:
        idx = np.flatnonzero(mask)
        targets = None if self.targets is None else self.targets[idx]
        return Corpus(self.name, [self.texts[i] for i in idx], self.labels[idx], targets)


def read_csv(path: Path) -> Corpus:
    """A ``text,label`` CSV (label 0/1), with a ``target`` column (0..1) if teacher-labelled."""
    texts: list[str] = []
    labels: list[int] = []
    targets: list[float] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        soft = "target" in (reader.fieldnames or ())
        for row in reader:
            texts.append(row["text"])
            labels.append(int(row["label"]))
            if soft:
                targets.append(float(row["target"]))
    return Corpus(
        path.stem,
        texts,
        np.asarray(labels, dtype=np.int64),
        np.asarray(targets, dtype=np.float64) if soft else None,
    )


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


def _words(text: str) -> list[str]:
    """Letters-only lowercase words, so that a post and the split's normalised sentences (case
    folded, punctuation spaced out, numbers as DIGIT, masks removed) compare."""
    folded = re.sub(r"[-*'\u2019]", "", text.lower())
    return [w for w in re.findall(r"[a-z]+", folded) if w != "digit"]


def posts_containing(posts: list[str], sentences: list[str], min_words: int = 5) -> set[int]:
    """Indexes of the ``posts`` that contain one of the ``sentences`` (of at least ``min_words``
    words): whole Civil Comments posts may be where a held-out test sentence was cut from, and
    such a post must not be trained on."""
    starts: dict[tuple[str, ...], list[str]] = {}
    for sentence in sentences:
        words = _words(sentence)
        if len(words) >= min_words:
            starts.setdefault(tuple(words[:min_words]), []).append(" ".join(words))
    found = set()
    for i, post in enumerate(posts):
        words = _words(post)
        padded = f" {' '.join(words)} "
        for k in range(len(words) - min_words + 1):
            if any(f" {s} " in padded for s in starts.get(tuple(words[k : k + min_words]), ())):
                found.add(i)
                break
    return found
