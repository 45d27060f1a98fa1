"""``townhall export --site KEY FILE``: everything of one site, streamed as JSON lines."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Select, or_, select

from townhall import __version__
from townhall.domain.moderation.bans import BAN_ACTIONS
from townhall.importers.native import TABLES, encode_row, header
from townhall.store.database import Database
from townhall.store.schema import (
    bans,
    comments,
    flags,
    moderation_log,
    reader_notes,
    sites,
    threads,
    votes,
)


class ExportError(Exception):
    """The export cannot be made (unknown site, unwritable file); the message says why."""


@dataclass
class ExportResult:
    site: str
    file: str
    counts: dict[str, int] = field(default_factory=dict)


def _queries(site_id: int) -> Iterator[tuple[str, Select[Any]]]:
    in_site = select(threads.c.id).where(threads.c.site_id == site_id)
    site_comments = select(comments.c.id).where(comments.c.thread_id.in_(in_site))
    yield "site", select(sites).where(sites.c.id == site_id)
    yield "thread", select(threads).where(threads.c.site_id == site_id).order_by(threads.c.id)
    yield (
        "comment",
        select(comments).where(comments.c.thread_id.in_(in_site)).order_by(comments.c.id),
    )
    yield (
        "vote",
        select(votes)
        .where(votes.c.comment_id.in_(site_comments))
        .order_by(votes.c.comment_id, votes.c.voter),
    )
    yield (
        "flag",
        select(flags).where(flags.c.comment_id.in_(site_comments)).order_by(flags.c.id),
    )
    # Bans of every site (site_id NULL) apply to this one too: a restore must keep them.
    yield (
        "ban",
        select(bans)
        .where(or_(bans.c.site_id == site_id, bans.c.site_id.is_(None)))
        .order_by(bans.c.id),
    )
    # The log of those every-site bans comes along; account changes (also logged without a
    # site) are not site data and stay out.
    yield (
        "moderation_log",
        select(moderation_log)
        .where(
            or_(
                moderation_log.c.site_id == site_id,
                moderation_log.c.site_id.is_(None) & moderation_log.c.action.in_(BAN_ACTIONS),
            )
        )
        .order_by(moderation_log.c.id),
    )
    yield (
        "reader_note",
        select(reader_notes).where(reader_notes.c.site_id == site_id).order_by(reader_notes.c.id),
    )


def write_export(conn: Connection, site_key: str, out: IO[str]) -> dict[str, int]:
    site = conn.execute(select(sites.c.id).where(sites.c.key == site_key)).first()
    if site is None:
        raise ExportError(f"unknown site {site_key!r} (townhall site list shows the sites)")
    revision = MigrationContext.configure(conn).get_current_revision()
    out.write(header(site_key, revision, __version__) + "\n")
    counts: dict[str, int] = {}
    for kind, query in _queries(int(site[0])):
        table = TABLES[kind]
        n = 0
        result = conn.execution_options(yield_per=1000).execute(query).mappings()
        for row in result:
            out.write(encode_row(kind, table, row) + "\n")
            n += 1
        counts[kind] = n
    out.write(json.dumps({"type": "end", "counts": counts}, separators=(",", ":")) + "\n")
    return counts


@contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    """One consistent view of the database for the whole export."""
    with db.read() as conn:
        if not db.is_sqlite:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


@contextmanager
def _output(fd: int, *, gzipped: bool) -> Iterator[IO[str]]:
    raw = os.fdopen(fd, "wb")
    with raw:
        if gzipped:
            with (
                gzip.GzipFile(fileobj=raw, mode="wb") as packed,
                io.TextIOWrapper(packed, encoding="utf-8", newline="\n") as out,
            ):
                yield out
        else:
            with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as out:
                yield out


def export_site(db: Database, site_key: str, path: str) -> ExportResult:
    """Write the export to ``path`` ("-" for standard output; a name ending in ``.gz`` is
    compressed). The file appears whole or not at all: it is written beside the target and
    renamed at the end. It is readable by its owner only (mode 0600): it holds emails and
    hashes."""
    result = ExportResult(site=site_key, file=path)
    if path == "-":
        with _snapshot(db) as conn:
            result.counts = write_export(conn, site_key, sys.stdout)
        return result
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with _output(fd, gzipped=target.suffix == ".gz") as out, _snapshot(db) as conn:
            result.counts = write_export(conn, site_key, out)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return result
