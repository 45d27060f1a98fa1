"""`townhall moderation score|train|evaluate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from townhall.cli.options import database_options, make_settings, open_database


@click.group("moderation")
def moderation_group() -> None:
    """Score texts with the moderation pipeline; train and evaluate the toxicity model."""


@moderation_group.command("train")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
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
    from townhall.moderation.toxicity.__main__ import main

    args = ["train", f"--data={data_dir}"] + ([f"--model={out}"] if out else [])
    status = main(args)
    if status:
        raise SystemExit(status)


@moderation_group.command("evaluate")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("data/toxicity"),
    show_default=True,
    help="Data folder with the held-out splits.",
)
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def evaluate_command(data_dir: Path, model_path: Path | None, as_json: bool) -> None:
    """Print ROC-AUC, precision and recall on the held-out splits."""
    from townhall.moderation.toxicity import ToxicityModel, training

    report = training.evaluate(ToxicityModel.load(model_path), data_dir)
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else report.format())


DECISION_WORDS = {"pass": "publish", "nudge": "nudge", "hold": "hold", "reject": "reject"}


@moderation_group.command("score")
@click.argument("texts", nargs=-1, required=True)
@click.option("--site", "site_key", help="Use this site's policy (default: the default policy).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@database_options
def score_command(
    texts: tuple[str, ...],
    site_key: str | None,
    as_json: bool,
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Score TEXTS (or `-`: one text per line from stdin) with the site's content policy.

    Prints the toxicity score, the decision (publish, hold, reject or nudge) and the reasons.
    Checks that need a reader's history (bans, rate limits, duplicates, first-time
    commenters) are left out.
    """
    from townhall.domain.errors import DomainError
    from townhall.domain.sites import get_site
    from townhall.moderation.policy import Policy, parse_policy
    from townhall.moderation.scoring import score_texts

    policy: Policy = parse_policy({})
    if site_key:
        db = open_database(make_settings(config_file, data_dir, database_url))
        try:
            policy = parse_policy(get_site(db, site_key).policy)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
    items = list(texts)
    if items == ["-"]:
        items = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for result in score_texts(policy, items):
        result["decision"] = DECISION_WORDS[result["decision"]]
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
            continue
        score = "-" if result["score"] is None else f"{result['score']:.3f}"
        click.echo(f"{score}\t{result['decision']}\t{result['text']}")
        for reason in result["reasons"]:
            click.echo(f"\t\t- {reason}")
