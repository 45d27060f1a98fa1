"""Options every command that touches the database shares, and turning them into Settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from townhall.settings import Settings, SettingsError, ensure_secret, load_settings
from townhall.store.database import Database

F = TypeVar("F", bound=Callable[..., Any])


def database_options(fn: F) -> F:
    fn = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Config file (TOML) written by `townhall init`. Env: TOWNHALL_CONFIG.",
    )(fn)
    fn = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder for the SQLite database and secret key. Env: TOWNHALL_DATA_DIR.",
    )(fn)
    fn = click.option(
        "--database-url",
        help="SQLAlchemy database URL, e.g. postgresql+psycopg://postgres@127.0.0.1/townhall. "
        "Env: TOWNHALL_DATABASE_URL.",
    )(fn)
    return fn


def make_settings(
    config_file: Path | None, data_dir: Path | None, database_url: str | None, **more: Any
) -> Settings:
    try:
        settings = load_settings(
            config_file=config_file,
            overrides={"data_dir": data_dir, "database_url": database_url, **more},
        )
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return ensure_secret(settings)


def open_database(settings: Settings) -> Database:
    db = Database(settings.resolved_database_url)
    try:
        db.migrate()
    except Exception as exc:
        raise click.ClickException(f"could not open or migrate the database: {exc}") from None
    return db
