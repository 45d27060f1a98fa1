"""`townhall site add|list|update`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from townhall.cli.options import database_options, make_settings, open_database
from townhall.domain import sites
from townhall.domain.errors import DomainError


def _show(site: sites.Site) -> str:
    origins = ", ".join(site.origins) or "(none: browsers cannot post)"
    return (
        f"{site.key}\t{site.name}\n  origins: {origins}\n"
        f"  edit window: {site.edit_window_seconds // 60} minutes\n"
        f"  policy: {json.dumps(site.policy, sort_keys=True)}"
    )


def _policy_changes(settings: tuple[str, ...]) -> dict[str, object]:
    changes: dict[str, object] = {}
    for item in settings:
        name, sep, raw = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: use NAME=VALUE", param_hint="--policy")
        try:
            changes[name.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            changes[name.strip()] = raw
    return changes


@click.group("site")
def site_group() -> None:
    """Add, list and change sites (a publisher's website)."""


@site_group.command("add")
@click.argument("key")
@click.option("--name", required=True, help="Display name of the site.")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    help="Allowed origin of the pages embedding the widget, e.g. https://news.example "
    "(repeatable).",
)
@click.option(
    "--edit-window", type=int, default=15, show_default=True, help="Minutes authors may edit."
)
@click.option("--policy", "policy", multiple=True, help="Moderation policy NAME=VALUE (JSON).")
@database_options
def site_add(
    key: str,
    name: str,
    origins: tuple[str, ...],
    edit_window: int,
    policy: tuple[str, ...],
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Create site KEY (lowercase letters, digits, '-' and '_')."""
    db = open_database(make_settings(config_file, data_dir, database_url))
    try:
        site = sites.create_site(
            db,
            key=key,
            name=name,
            origins=list(origins),
            edit_window_seconds=edit_window * 60,
            policy=_policy_changes(policy),
        )
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(_show(site))


@site_group.command("list")
@database_options
def site_list(config_file: Path | None, data_dir: Path | None, database_url: str | None) -> None:
    """List every site with its origins and policy."""
    db = open_database(make_settings(config_file, data_dir, database_url))
    found = sites.list_sites(db)
    if not found:
        click.echo("no sites yet: add one with `townhall site add KEY --name ... --origin ...`")
    for site in found:
        click.echo(_show(site))


@site_group.command("update")
@click.argument("key")
@click.option("--name", help="New display name.")
@click.option(
    "--origin", "origins", multiple=True, help="Replace the allowed origins (repeatable)."
)
@click.option("--add-origin", "add_origins", multiple=True, help="Add an allowed origin.")
@click.option("--edit-window", type=int, help="Minutes authors may edit.")
@click.option("--policy", "policy", multiple=True, help="Moderation policy NAME=VALUE (JSON).")
@database_options
def site_update(
    key: str,
    name: str | None,
    origins: tuple[str, ...],
    add_origins: tuple[str, ...],
    edit_window: int | None,
    policy: tuple[str, ...],
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Change site KEY."""
    db = open_database(make_settings(config_file, data_dir, database_url))
    try:
        new_origins: list[str] | None = list(origins) if origins else None
        if add_origins:
            current = list(sites.get_site(db, key).origins)
            new_origins = (new_origins or current) + list(add_origins)
        site = sites.update_site(
            db,
            key,
            name=name,
            origins=new_origins,
            edit_window_seconds=None if edit_window is None else edit_window * 60,
            policy_changes=_policy_changes(policy),
        )
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(_show(site))
