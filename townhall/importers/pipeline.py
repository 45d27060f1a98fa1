"""One import, start to end: read the file into staging, then plan and write each thread.

    report = import_file(db, hasher, Path("export.xml"), format="disqus", site_key="news")

Readers only parse; the planner decides; the writer writes. Bad input never raises: it ends
up in the report (skipped records with line and reason, warnings, or ``report.fatal`` when
nothing sensible could be read). Database errors do raise: they are not the file's fault.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from townhall.domain.identity import Hasher
from townhall.importers import commento, disqus, generic, isso, remark42, wordpress
from townhall.importers.detect import detect_format
from townhall.importers.files import input_size
from townhall.importers.planner import Planner
from townhall.importers.records import (
    AuthorRecord,
    CommentRecord,
    Problem,
    ReadContext,
    Record,
    SkipReason,
    ThreadRecord,
    UnreadableFile,
)
from townhall.importers.report import ImportReport
from townhall.importers.staging import Staging
from townhall.importers.urls import Remap, Remapper, clean_key, clean_url, key_from_url
from townhall.importers.writer import Writer, log_import
from townhall.store import sites as site_store
from townhall.store.database import Database

Reader = Callable[[Path, ReadContext], Iterator[Record]]
READERS: dict[str, Reader] = {
    "disqus": disqus.read,
    "wordpress": wordpress.read,
    "isso": isso.read,
    "commento": commento.read,
    "remark42": remark42.read,
    "generic": generic.read,
}
FORMATS = (*READERS, "townhall")


class Progress(Protocol):
    """Where an import reports how far it is (the CLI draws a rich progress bar)."""

    def phase(self, description: str, total: int | None) -> None: ...

    def update(self, completed: int) -> None: ...


class _NoProgress:
    def phase(self, description: str, total: int | None) -> None:
        return None

    def update(self, completed: int) -> None:
        return None


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = False
    remaps: tuple[Remap, ...] = ()
    thread_key: str = "url"  # or "identifier": the source system's own article id
    timezone: dt.tzinfo = dt.UTC  # for times written without a zone
    keep_hidden: bool = False  # import spam and deleted comments even without live replies
    base_url: str = ""  # prefix for sources that store only a page's path (Isso, generic)
    batch_size: int = 500


def import_file(
    db: Database,
    hasher: Hasher,
    path: Path,
    *,
    format: str,
    site_key: str | None,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    options = options or ImportOptions()
    progress = progress or _NoProgress()
    report = ImportReport(
        format=format, file=str(path), site=site_key or "", dry_run=options.dry_run
    )
    try:
        if format == "auto":
            format = detect_format(path)
            report.format = format
        if format == "townhall":
            from townhall.importers.restore import restore_site

            restore_site(
                db,
                path,
                site_key=site_key,
                report=report,
                progress=progress,
                dry_run=options.dry_run,
            )
        elif format not in READERS:
            report.fatal = f"unknown format {format!r}: use one of {', '.join(FORMATS)} or auto"
        else:
            _import(db, hasher, path, format, site_key, options, progress, report)
    except UnreadableFile as exc:
        report.fatal = str(exc)
    report.finish()
    return report


def _import(
    db: Database,
    hasher: Hasher,
    path: Path,
    format: str,
    site_key: str | None,
    options: ImportOptions,
    progress: Progress,
    report: ImportReport,
) -> None:
    with db.read() as conn:
        site = site_store.site_by_key(conn, site_key) if site_key else None
    if site is None:
        report.fatal = (
            f"unknown site {site_key!r}: create it first (townhall site add {site_key} "
            "--name ... --origin https://...)"
            if site_key
            else "--site is required: the key of the site the comments belong to"
        )
        return
    size = input_size(path)
    with Staging() as staging:
        progress.phase("reading", size)
        ctx = ReadContext(timezone=options.timezone, progress=progress.update)
        for record in READERS[format](path, ctx):
            if isinstance(record, CommentRecord):
                report.records_read += 1
                staging.add_comment(record)
            elif isinstance(record, ThreadRecord):
                staging.add_thread(record)
            elif isinstance(record, AuthorRecord):
                staging.add_author(record)
            else:
                if record.reason is not None:
                    report.records_read += 1
                report.add(record)
        for note in ctx.notes:
            report.add(note)
        staging.finish()
        progress.update(size)
        _write(db, hasher, staging, site["id"], format, options, progress, report)
    if report.records_read == 0 and report.comments_skipped == 0 and not report.warning_count:
        report.add(Problem("the file holds no comments"))
    if not options.dry_run and report.comments_imported:
        log_import(db, site["id"], report)


def _thread_keys(staging: Staging, options: ImportOptions, report: ImportReport) -> None:
    remapper = Remapper(options.remaps)
    keys: list[tuple[str, str, str]] = []
    for thread in staging.threads():
        url = thread.url.strip()
        if url:
            url = remapper.apply(url)
        if options.thread_key == "identifier":
            key = clean_key(thread.identifier) or key_from_url(url)
        else:
            key = key_from_url(url) or clean_key(thread.identifier)
        keys.append((key, url, thread.source_key))
    staging.set_keys(keys)
    for rule, used in zip(options.remaps, remapper.used, strict=True):
        report.extra.setdefault("remapped", {})[f"{rule.old}={rule.new}"] = used
        if not used:
            report.add(Problem(f"--remap {rule.old}={rule.new} matched no thread URL"))


def _write(
    db: Database,
    hasher: Hasher,
    staging: Staging,
    site_id: int,
    format: str,
    options: ImportOptions,
    progress: Progress,
    report: ImportReport,
) -> None:
    _thread_keys(staging, options, report)
    for c in staging.orphans():
        report.skip(
            Problem(
                f"its thread {c.source_thread} is not in the file",
                c.line,
                c.label,
                SkipReason.ORPHAN,
            )
        )
    for c, thread in staging.keyless():
        report.skip(
            Problem(
                f"its thread {thread.source_key} has neither a URL nor an identifier",
                c.line,
                c.label,
                SkipReason.MALFORMED,
            )
        )
    planner = Planner(
        prefix=format,
        hasher=hasher,
        report=report,
        keep_hidden=options.keep_hidden,
        base_url=clean_url(options.base_url),
    )
    writer = Writer(db, site_id, report, batch_size=options.batch_size, dry_run=options.dry_run)
    dev_hosts: dict[str, int] = {}
    no_url = 0
    progress.phase("writing" if not options.dry_run else "checking", staging.comment_count)
    done = 0
    step = max(1, options.batch_size)
    for key in staging.thread_keys():
        threads = staging.threads_of(key)
        skeletons = staging.skeletons_of([t.source_key for t in threads])
        plan = planner.plan(key, threads, skeletons)
        del skeletons
        if plan is not None:
            if plan.dev_host:
                dev_hosts[plan.dev_host] = dev_hosts.get(plan.dev_host, 0) + 1
            no_url += not plan.url
            # Bodies are read back a batch at a time: a huge thread never sits in memory.
            for start in range(0, len(plan.order), step):
                chunk = plan.order[start : start + step]
                rows = staging.comments_by_seq([seq for seq, _, _ in chunk])
                writer.add(
                    plan, [planner.comment(sid, rows[seq], hang) for seq, sid, hang in chunk]
                )
                done += len(chunk)
                progress.update(done)
        progress.update(done)
    writer.close()
    progress.update(staging.comment_count)
    if planner.missing_authors:
        report.add(
            Problem(
                f"{planner.missing_authors} comment(s) name an author the file does not list: "
                "imported as Anonymous"
            )
        )
    if no_url:
        report.add(
            Problem(
                f"{no_url} thread(s) have no URL (the file gives only page paths, or none): "
                "--base-url https://www.your-site.example would give them one"
            )
        )
    for host, count in sorted(dev_hosts.items()):
        report.add(
            Problem(
                f"{count} thread(s) have only a development URL (host {host}); fix them with "
                f"--remap {host}=www.your-site.example"
            )
        )
