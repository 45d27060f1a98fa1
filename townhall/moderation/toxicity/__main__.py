"""``python -m townhall.moderation.toxicity train|evaluate`` (until the CLI wires the same calls).

``train`` rebuilds the shipped model from ``data/toxicity`` and records its evaluation next to it;
``evaluate`` prints the held-out metrics of a model file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from townhall.moderation.toxicity.model import DEFAULT_PATH, ToxicityModel
from townhall.moderation.toxicity.training import evaluate, train, write_metrics

METRICS_NAME = "toxicity-metrics.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m townhall.moderation.toxicity")
    parser.add_argument("command", choices=["train", "evaluate"])
    parser.add_argument("--data", type=Path, default=Path("data/toxicity"))
    parser.add_argument("--model", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-metrics", action="store_true", help="do not write the metrics JSON")
    args = parser.parse_args(argv)
    if args.command == "train":
        report = train(args.data, args.model, seed=args.seed)
        print(report.format())
        print()
    model = ToxicityModel.load(args.model)
    evaluation = evaluate(model, args.data)
    print(evaluation.format())
    if args.command == "train" and not args.no_metrics:
        write_metrics(evaluation, args.model.with_name(METRICS_NAME))
    return 0


if __name__ == "__main__":
    sys.exit(main())
