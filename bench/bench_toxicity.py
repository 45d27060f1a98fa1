"""Benchmark of the shipped toxicity model: load time and per-comment scoring latency.

Run: ``python bench/bench_toxicity.py [--n 3000]``. Scores real comments from the held-out splits
in ``data/toxicity/test`` one at a time (as the moderation pipeline does) on one core, and measures
a peer in the same run for scale: a scikit-learn TF-IDF word+char logistic regression when
scikit-learn is installed (the usual baseline), else a pure-python regex lexicon scorer. Ratios
are ours / peer (below 1 means we are faster).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from townhall.moderation.toxicity import ToxicityModel  # noqa: E402
from townhall.moderation.toxicity.lexicon import INSULT, PROFANITY  # noqa: E402
from townhall.moderation.toxicity.model import DEFAULT_PATH  # noqa: E402
from townhall.moderation.toxicity.word_vectors import DEFAULT_PATH as VECTORS_PATH  # noqa: E402

DATA = ROOT / "data" / "toxicity"


def comments(n: int) -> list[str]:
    texts: list[str] = []
    for path in sorted((DATA / "test").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            texts += [row["text"] for row in csv.DictReader(handle)]
    texts.sort(key=lambda t: (len(t) * 7919) % 104729)  # a fixed mix of sources and lengths
    return texts[:n]


def timings(score: Callable[[str], Any], texts: list[str]) -> list[float]:
    """Per-comment CPU time of this process (wall time is at the mercy of other jobs)."""
    for text in texts[:200]:  # warm caches
        score(text)
    out = []
    for text in texts:
        began = time.process_time()
        score(text)
        out.append(time.process_time() - began)
    return out


def summary(name: str, times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    median = statistics.median(ordered) * 1e3
    p99 = ordered[int(0.99 * (len(ordered) - 1))] * 1e3
    print(f"{name:<34} median {median:7.3f} ms   p99 {p99:7.3f} ms   n={len(times)} (CPU time)")
    return median, p99


def sklearn_peer() -> tuple[str, Callable[[str], float], float] | None:
    try:
        from scipy.sparse import hstack  # type: ignore[import-untyped]
        from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    except ImportError:
        return None
    with (DATA / "train" / "civil_train.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["text"] for r in rows]
    labels = [int(r["label"]) for r in rows]
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True)
    x = hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    clf = LogisticRegression(C=4.0, max_iter=1000).fit(x, labels)
    began = time.perf_counter()
    import pickle

    blob = pickle.dumps((words, chars, clf))
    words, chars, clf = pickle.loads(blob)
    load = time.perf_counter() - began

    def score(text: str) -> float:
        row = hstack([words.transform([text]), chars.transform([text])]).tocsr()
        return float(clf.predict_proba(row)[0, 1])

    return "peer: sklearn TF-IDF+LR (pickled)", score, load


def regex_peer() -> tuple[str, Callable[[str], float], float]:
    began = time.perf_counter()
    stems = sorted({w.rstrip("*") for w in PROFANITY | INSULT}, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, stems)) + r")", re.IGNORECASE)
    load = time.perf_counter() - began

    def score(text: str) -> float:
        return min(1.0, 0.5 * len(pattern.findall(text)))

    return "peer: regex lexicon scorer", score, load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as in production

    began = time.perf_counter()
    model = ToxicityModel.load()
    load = time.perf_counter() - began
    texts = comments(args.n)
    size = DEFAULT_PATH.stat().st_size + VECTORS_PATH.stat().st_size
    print(
        f"model {model.version} with word vectors {model.meta['word_vectors']}: "
        f"{size / 1e6:.2f} MB together, load {load * 1e3:.0f} ms"
    )
    print(f"comments: {len(texts)}, mean length {statistics.mean(map(len, texts)):.0f} chars")
    ours = summary("townhall toxicity score()", timings(model.score, texts))
    summary("townhall toxicity explain()", timings(model.explain, texts[:1000]))

    peer = sklearn_peer() or regex_peer()
    name, score, peer_load = peer
    theirs = summary(name, timings(score, texts))
    print(f"{name} load {peer_load * 1e3:.0f} ms")
    print(
        f"ratio ours/peer: median {ours[0] / theirs[0]:.2f}x, p99 {ours[1] / theirs[1]:.2f}x, "
        f"load {load / max(peer_load, 1e-9):.2f}x"
    )


if __name__ == "__main__":
    main()
