"""``python -m townhall.moderation.toxicity train|evaluate`` (``townhall moderation train``).

``train`` rebuilds the shipped model from ``data/toxicity`` and records its evaluation next to it;
on an x86-64 CPU it runs in a child process with the numeric kernels pinned (``kernels.py``), so
that it writes the shipped file's bytes. ``evaluate`` prints the held-out metrics of a model file;
``kernels`` prints the kernels ``train`` would run on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from townhall.moderation.toxicity import kernels
from townhall.moderation.toxicity.model import DEFAULT_PATH, ToxicityModel
from townhall.moderation.toxicity.training import evaluate, train, write_metrics

METRICS_NAME = "toxicity-metrics.json"


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m townhall.moderation.toxicity")
    parser.add_argument("command", choices=["train", "evaluate", "kernels"])
    parser.add_argument("--data", type=Path, default=Path("data/toxicity"))
    parser.add_argument("--model", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-metrics", action="store_true", help="do not write the metrics JSON")
    args = parser.parse_args(args_list)
    try:
        return _run(args, args_list)
    except FileNotFoundError as exc:  # no data folder or model file: say which, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, args_list: list[str]) -> int:
    if args.command in {"train", "kernels"} and kernels.can_pin() and not kernels.pinned():
        return kernels.run_pinned(args_list)
    if args.command == "kernels":
        print(kernels.describe())
        return 0
    if args.command == "train":
        report = train(args.data, args.model, seed=args.seed)
        print(kernels.describe())
        print(report.format())
        print()
    model = ToxicityModel.load(args.model)
    evaluation = evaluate(model, args.data)
    print(evaluation.format())
    if args.command == "train":
        if not args.no_metrics:
            write_metrics(evaluation, args.model.with_name(METRICS_NAME))
        print(f"\nmodel written to {args.model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
