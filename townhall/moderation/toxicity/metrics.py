"""Ranking and threshold metrics in numpy (no scikit-learn at run time)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _average_ranks(values: FloatArray) -> FloatArray:
    """1-based ranks, ties sharing their mean rank."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(len(values), dtype=np.float64)
    boundaries = np.flatnonzero(np.diff(sorted_values)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(values)]))
    mean_rank = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def roc_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Area under the ROC curve (Mann–Whitney U), ties counted half."""
    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(s)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def precision_recall(
    labels: npt.ArrayLike, scores: npt.ArrayLike, threshold: float
) -> tuple[float, float]:
    """Precision and recall of ``score >= threshold``."""
    y = np.asarray(labels, dtype=np.int64) == 1
    flagged = np.asarray(scores, dtype=np.float64) >= threshold
    tp = int(np.sum(flagged & y))
    precision = tp / int(flagged.sum()) if flagged.any() else float("nan")
    recall = tp / int(y.sum()) if y.any() else float("nan")
    return precision, recall


def threshold_at_fpr(labels: npt.ArrayLike, scores: npt.ArrayLike, fpr: float) -> float:
    """The lowest threshold (rounded up to 0.01) whose false-positive rate is at most ``fpr``."""
    y = np.asarray(labels, dtype=np.int64)
    negatives = np.sort(np.asarray(scores, dtype=np.float64)[y == 0])
    if len(negatives) == 0:
        return 0.5
    allowed = int(np.floor(fpr * len(negatives)))
    # a threshold just above the (allowed+1)-th highest negative score
    cut = negatives[len(negatives) - allowed - 1]
    return float(min(0.99, np.ceil(cut * 100.0 + 1e-9) / 100.0))
