"""`townhall serve`, `init`, `migrate` and `config-reference`."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from townhall.cli.options import database_options, make_settings, open_database
from townhall.settings import render_config_file, render_reference


@click.command("serve")
@database_options
@click.option("--host", help="Address to listen on (default 127.0.0.1). Env: TOWNHALL_HOST.")
@click.option("--port", type=int, help="Port to listen on (default 8080). Env: TOWNHALL_PORT.")
@click.option("--workers", type=int, help="Worker processes (PostgreSQL only for more than 1).")
@click.option(
    "--demo",
    is_flag=True,
    help="Create a demo site and serve a demo news article with the widget at /.",
)
def serve_command(
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    demo: bool,
) -> None:
    """Serve the comment API, the widget and the moderator pages."""
    from townhall.app import create_app
    from townhall.web import serving
    from townhall.web.memory import limit_arenas

    limit_arenas()  # before any worker thread starts (townhall/web/memory.py)

    settings = make_settings(
        config_file, data_dir, database_url, host=host, port=port, workers=workers, demo=demo
    )
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if settings.workers > 1 and settings.is_sqlite:
        raise click.UsageError("more than one worker needs PostgreSQL (--database-url)")
    db = open_database(settings)
    if settings.demo:
        from townhall.demo.seed import seed_demo

        url = f"http://{settings.host}:{settings.port}"
        created = seed_demo(settings, db, origins=[url, f"http://localhost:{settings.port}"])
        click.echo(f"demo site ready ({created} comments seeded): open {url}/")
    db.dispose()
    app = create_app(settings)
    serving.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=settings.trust_forwarded_for,
    )


@click.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="townhall.toml")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_command(path: Path, force: bool) -> None:
    """Write a fully commented config file (default ./townhall.toml)."""
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    path.write_text(render_config_file(), encoding="utf-8")
    click.echo(f"wrote {path}; start with: townhall serve --config {path}")


@click.command("migrate")
@database_options
def migrate_command(
    config_file: Path | None, data_dir: Path | None, database_url: str | None
) -> None:
    """Create or upgrade the database schema to the newest version."""
    from townhall.store.migrate import current_revision

    settings = make_settings(config_file, data_dir, database_url)
    db = open_database(settings)
    click.echo(f"database at revision {current_revision(db.engine)}")


@click.command("config-reference")
def config_reference() -> None:
    """Print the configuration reference (Markdown) for docs/config.md."""
    click.echo(render_reference(), nl=False)
