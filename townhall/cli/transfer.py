"""`townhall import FORMAT FILE --site KEY` and `townhall export --site KEY FILE`."""

from __future__ import annotations

import json
import signal
import sys
import zoneinfo
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy.exc import SQLAlchemyError

from townhall.cli.options import database_options, make_settings, open_database
from townhall.domain.identity import Hasher
from townhall.importers import FORMATS, ImportOptions, import_file
from townhall.importers.export import ExportError, export_site
from townhall.importers.report import summary
from townhall.importers.urls import Remap, RemapError


class _Bar:
    """The rich progress bar behind the importer's Progress protocol (stderr, terminals only)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def phase(self, description: str, total: int | None) -> None:
        if self.progress is None:
            return
        if self.task is not None:
            self.progress.update(self.task, visible=False)
        self.task = self.progress.add_task(description, total=total)

    def update(self, completed: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=completed)


def _progress(console: Console) -> Progress | None:
    if not console.is_terminal:
        return None
    return Progress(
        TextColumn("{task.description:>9}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _remaps(values: tuple[str, ...]) -> tuple[Remap, ...]:
    try:
        return tuple(Remap.parse(v) for v in values)
    except RemapError as exc:
        raise click.BadParameter(str(exc), param_hint="--remap") from None


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"{name!r} is not a time zone name such as UTC or Europe/Berlin",
            param_hint="--timezone",
        ) from None


@click.command("import")
@click.argument(
    "format_name",
    metavar="FORMAT",
    type=click.Choice([*FORMATS, "auto"], case_sensitive=False),
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", "site_key", help="Key of the site the comments belong to.")
@click.option("--dry-run", is_flag=True, help="Read, check and report; write nothing.")
@click.option(
    "--remap",
    "remaps",
    multiple=True,
    metavar="OLD=NEW",
    help="Rewrite thread URLs before keys are derived: a host (localhost:4000=www.example.com) "
    "or a URL prefix (http://old.example/blog/=https://www.example.com/). Repeatable.",
)
@click.option(
    "--thread-key",
    type=click.Choice(["url", "identifier"]),
    default="url",
    show_default=True,
    help="Key threads by their URL path, or by the source's own article identifier "
    "(Disqus <id>, WordPress post id) where it has one.",
)
@click.option(
    "--timezone",
    "zone_name",
    default="UTC",
    show_default=True,
    help="Zone of times written without one (Isso's generic JSON; WordPress local dates).",
)
@click.option(
    "--base-url",
    default="",
    help="Site URL to put before thread paths for formats that store only paths "
    "(Isso, generic), e.g. https://www.example.com",
)
@click.option(
    "--keep-hidden",
    is_flag=True,
    help="Also import spam and deleted comments that no live reply needs (hidden from "
    "readers, visible to moderators).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Comments per transaction.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the full report (every skipped record) as JSON to this file.",
)
@click.option("--traceback", "show_traceback", is_flag=True, hidden=True)
@database_options
def import_command(
    format_name: str,
    file: Path,
    site_key: str | None,
    dry_run: bool,
    remaps: tuple[str, ...],
    thread_key: str,
    zone_name: str,
    base_url: str,
    keep_hidden: bool,
    batch_size: int,
    report_file: Path | None,
    show_traceback: bool,
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Import comments from FILE: FORMAT is disqus, wordpress, isso (its comments.db),
    commento, remark42, generic (Isso's JSON), townhall (an export of ours, into an empty
    database) or auto.

    Importing the same file again adds nothing. Exits with status 1 only when nothing
    could be read; skipped records are listed with their line and reason.
    """
    fmt = format_name.lower()
    if fmt not in ("townhall", "auto") and not site_key:
        raise click.UsageError("--site is required: the key of the site the comments belong to")
    options = ImportOptions(
        dry_run=dry_run,
        remaps=_remaps(remaps),
        thread_key=thread_key,
        timezone=_zone(zone_name),
        keep_hidden=keep_hidden,
        base_url=base_url,
        batch_size=batch_size,
    )
    settings = make_settings(config_file, data_dir, database_url)
    db = open_database(settings)
    console = Console(stderr=True)
    bar = _progress(console)
    # Stopped with SIGTERM: unwind like Ctrl-C, so the open batch rolls back and the scratch
    # file is removed. Batches already written stay; running the import again continues.
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with bar if bar is not None else _Null():
            report = import_file(
                db,
                Hasher(settings.secret_bytes()),
                file,
                format=fmt,
                site_key=site_key,
                options=options,
                progress=_Bar(bar),
            )
    except (SQLAlchemyError, OSError) as exc:
        if show_traceback:
            raise
        raise click.ClickException(
            f"the import stopped: {exc.__class__.__name__}: {exc}. Comments written in earlier "
            "batches stay; running the same import again continues where it stopped."
        ) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        db.dispose()
    for line in summary(report):
        click.echo(line, err=report.fatal is not None)
    if report_file is not None:
        report_file.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    if report.fatal is not None:
        sys.exit(1)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


@click.command("export")
@click.option("--site", "site_key", required=True, help="Key of the site to export.")
@click.argument("file")
@database_options
def export_command(
    site_key: str,
    file: str,
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Write everything of one site to FILE ("-": standard output) as JSON lines: the site,
    threads, comments in every state (with emails and hashes), votes, flags, bans, the
    moderation log and reader notes. `townhall import townhall FILE` restores it into an
    empty database. Keep the file as private as the database.
    """
    settings = make_settings(config_file, data_dir, database_url)
    db = open_database(settings)
    try:
        result = export_site(db, site_key, file)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    counts = ", ".join(f"{n} {kind}(s)" for kind, n in result.counts.items() if n)
    click.echo(f"exported site {site_key!r} to {file}: {counts}", err=True)
