"""`townhall user create|list|password|unlock|token`: moderator and admin accounts."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from townhall.cli.options import database_options, make_settings, open_database
from townhall.domain import accounts
from townhall.domain.errors import DomainError
from townhall.store.database import Database


def _password(password_stdin: bool, *, confirm: bool = True) -> str:
    if password_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise click.UsageError("--password-stdin: no password on standard input")
        return value
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm))


@contextmanager
def _db(
    config_file: Path | None, data_dir: Path | None, database_url: str | None
) -> Iterator[Database]:
    db = open_database(make_settings(config_file, data_dir, database_url))
    try:
        yield db
    finally:
        db.dispose()  # a command is done with its connections; close them now


def _show(user: accounts.User, site_keys: dict[int, str]) -> str:
    sites = ", ".join(sorted(site_keys.get(s, "?") for s in user.site_ids))
    scope = "every site" if user.is_admin else (sites or "no site")
    return f"{user.email}\t{user.role.value}\t{scope}"


def _site_keys(db: Database) -> dict[int, str]:
    from townhall.domain.sites import list_sites

    return {s.id: s.key for s in list_sites(db)}


@click.group("user")
def user_group() -> None:
    """Create and manage moderator and admin accounts for /admin."""


@user_group.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "moderator"]),
    required=True,
    help="admin: every site, settings and users; moderator: the sites given with --site.",
)
@click.option(
    "--site", "sites", multiple=True, help="Key of a site the account moderates (repeatable)."
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of a prompt.",
)
@database_options
def user_create(
    email: str,
    role: str,
    sites: tuple[str, ...],
    password_stdin: bool,
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Create the account EMAIL; it signs in at /admin/login."""
    with _db(config_file, data_dir, database_url) as db:
        password = _password(password_stdin)
        try:
            user = accounts.create_user(
                db, email=email, password=password, role=role, site_keys=list(sites), actor="cli"
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        click.echo("created " + _show(user, _site_keys(db)))


@user_group.command("list")
@database_options
def user_list(config_file: Path | None, data_dir: Path | None, database_url: str | None) -> None:
    """List every account with its role and sites."""
    with _db(config_file, data_dir, database_url) as db:
        found = accounts.list_users(db)
        if not found:
            click.echo("no accounts yet: `townhall user create EMAIL --role admin`")
        keys = _site_keys(db)
        for user in found:
            click.echo(_show(user, keys))


@user_group.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@database_options
def user_password(
    email: str,
    password_stdin: bool,
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Set a new password for EMAIL (a forgotten one); its sessions end and it is unlocked."""
    with _db(config_file, data_dir, database_url) as db:
        try:
            user = accounts.user_by_email(db, email)
            accounts.set_password(db, "cli", user.id, _password(password_stdin))
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"password changed for {user.email}")


@user_group.command("unlock")
@click.argument("email")
@database_options
def user_unlock(
    email: str, config_file: Path | None, data_dir: Path | None, database_url: str | None
) -> None:
    """Unlock EMAIL after too many wrong passwords."""
    with _db(config_file, data_dir, database_url) as db:
        try:
            user = accounts.unlock(db, "cli", accounts.user_by_email(db, email).id)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"unlocked {user.email}")


@user_group.command("token")
@click.argument("email")
@click.option("--name", required=True, help="What will use the token, e.g. 'spam bot'.")
@database_options
def user_token(
    email: str,
    name: str,
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Create an API token acting as EMAIL for the moderation API; printed once."""
    with _db(config_file, data_dir, database_url) as db:
        try:
            user = accounts.user_by_email(db, email)
            _view, token = accounts.create_token(db, "cli", user.id, name)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(token)
