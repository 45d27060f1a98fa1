"""`townhall moderation score|train|evaluate`."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("moderation")
def moderation_group() -> None:
    """Score texts with the moderation pipeline; train and evaluate the toxicity model."""


@moderation_group.command("train")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/toxicity"),
    show_default=True,
    help="Training data folder (from the repository).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the model (default: the shipped model file).",
)
def train_command(data_dir: Path, out: Path | None) -> None:
    """Train the toxicity model from the repository's data, reproducing the shipped file."""
    from townhall.moderation.toxicity import training

    target = out or training.SHIPPED_MODEL_PATH
    report = training.train(data_dir, target)
    click.echo(report.format())
    click.echo(f"model written to {target}")


@moderation_group.command("evaluate")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/toxicity"),
    show_default=True,
    help="Data folder with the held-out splits.",
)
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def evaluate_command(data_dir: Path, model_path: Path | None, as_json: bool) -> None:
    """Print ROC-AUC, precision and recall on the held-out splits."""
    from townhall.moderation.toxicity import ToxicityModel, training

    report = training.evaluate(ToxicityModel.load(model_path), data_dir)
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else report.format())
