"""``townhall import townhall FILE``: restore a townhall export into an empty database.

Rows keep their ids, so a restore reproduces the exported site exactly (links, moderation
log references and caches keyed by id stay valid); that is only possible in a database that
has no rows yet, and the restore refuses any other. A row that does not fit the schema, or
refers to a row the file does not hold, is skipped with its line, and so is everything that
depends on it; the rest is restored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text

from townhall.domain.sites import SITE_KEY
from townhall.importers.files import input_size, open_input
from townhall.importers.native import FORMAT, TABLES, VERSION, RowError, decode_row
from townhall.importers.records import Problem, ReadContext, SkipReason, UnreadableFile
from townhall.importers.report import ImportReport
from townhall.store.comments import mark_replied
from townhall.store.database import Database
from townhall.store.schema import comments, sites, threads
from townhall.types import CommentStatus

BATCH = 500
_ORDER = list(TABLES)
# Which column of a row must name a row restored before it (table, column, referenced kind).
_REFERENCES: dict[str, list[tuple[str, str]]] = {
    "thread": [("site_id", "site")],
    "comment": [("thread_id", "thread"), ("parent_id", "comment")],
    "vote": [("comment_id", "comment")],
    "flag": [("comment_id", "comment")],
    "ban": [("site_id", "site")],
    "moderation_log": [("site_id", "site")],
    "reader_note": [("site_id", "site")],
}
_ID_TABLES = {"site": sites, "thread": threads, "comment": comments}


def _is_empty(conn: Connection) -> str | None:
    """None when the database holds no rows that a restore could clash with."""
    for kind, table in TABLES.items():
        count = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if count:
            return f"{count} {kind} row(s)"
    return None


class _Restorer:
    def __init__(
        self,
        db: Database,
        report: ImportReport,
        site_key: str | None,
        dry_run: bool,
    ) -> None:
        self.db = db
        self.report = report
        self.site_key = site_key
        self.dry_run = dry_run
        self.kind: str | None = None
        self.batch: list[tuple[int, dict[str, Any]]] = []
        self.counts: dict[str, int] = {k: 0 for k in TABLES}
        self.seen: dict[str, int] = {k: 0 for k in TABLES}
        self.site_id: int | None = None
        self.unknown_columns: set[str] = set()
        self._dry_conn: Connection | None = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        if self._dry_conn is not None:
            yield self._dry_conn
        else:
            with self.db.write() as conn:
                yield conn

    def skip(self, line: int, record: str, message: str) -> None:
        self.report.skip(Problem(message, line, record, SkipReason.MALFORMED))

    def add(self, line: int, kind: str, values: dict[str, Any]) -> None:
        if kind != self.kind:
            self.flush()
            if self.kind is not None and _ORDER.index(kind) < _ORDER.index(self.kind):
                self.report.add(
                    Problem(f"a {kind} row after the {self.kind} rows: restored anyway", line)
                )
            self.kind = kind
        self.batch.append((line, values))
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.batch or self.kind is None:
            return
        kind, table = self.kind, TABLES[self.kind]
        with self.transaction() as conn:
            rows = self._check_references(conn, kind, self.batch)
            if rows:
                conn.execute(insert(table), rows)
                if kind == "comment":  # derived, so not in the file
                    mark_replied(conn, [r["parent_id"] for r in rows if r["parent_id"] is not None])
        self.counts[kind] += len(rows)
        if kind == "comment":
            for row in rows:
                self.report.count_imported(CommentStatus(row["status"]))
        elif kind == "thread":
            self.report.threads_created += len(rows)
        self.batch = []

    def _check_references(
        self, conn: Connection, kind: str, batch: list[tuple[int, dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        wanted: dict[str, set[int]] = {}
        for _, values in batch:
            for column, target in _REFERENCES.get(kind, []):
                if values.get(column) is not None:
                    wanted.setdefault(target, set()).add(values[column])
        present: dict[str, set[int]] = {}
        for target, ids in wanted.items():
            table = _ID_TABLES[target]
            found: set[int] = set()
            id_list = sorted(ids)
            for start in range(0, len(id_list), 900):
                chunk = id_list[start : start + 900]
                found.update(
                    int(i) for (i,) in conn.execute(select(table.c.id).where(table.c.id.in_(chunk)))
                )
            present[target] = found
        rows = []
        own_ids: set[int] = set()
        for line, values in batch:
            missing = None
            for column, target in _REFERENCES.get(kind, []):
                ref = values.get(column)
                if ref is None:
                    continue
                if ref not in present.get(target, set()) and not (
                    target == kind and ref in own_ids
                ):
                    missing = f"{column} {ref} names a {target} the file does not hold"
                    break
            label = f"{kind} {values.get('id', '')}".strip()
            if missing:
                self.skip(line, label, missing)
                continue
            if "id" in values and values["id"] is not None:
                own_ids.add(values["id"])
            rows.append(values)
        return rows

    def finish(self) -> None:
        self.flush()
        if self.dry_run or self.db.is_sqlite:
            return
        with self.db.write() as conn:
            for table in TABLES.values():
                if "id" in table.columns and table.c.id.primary_key and len(table.primary_key) == 1:
                    _reset_sequence(conn, table)


def _reset_sequence(conn: Connection, table: Table) -> None:
    """Rows were written with their ids; move PostgreSQL's counter past them."""
    conn.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
            f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
        )
    )


def _header(handle: Any) -> tuple[dict[str, Any], int]:
    """The first line, checked: an export of ours, in a version we read."""
    number = 0
    for number, raw in enumerate(handle, start=1):
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if (
            not isinstance(data, dict)
            or data.get("type") != "header"
            or data.get("format") != FORMAT
        ):
            raise UnreadableFile(
                'this is not a townhall export: its first line is not {"type": "header", '
                '"format": "townhall-export", ...}'
            )
        if data.get("version") != VERSION:
            raise UnreadableFile(
                f"export format version {data.get('version')!r}: this townhall reads "
                f"version {VERSION}"
            )
        return data, number
    raise UnreadableFile("the file is empty")


def restore_site(
    db: Database,
    path: Path,
    *,
    site_key: str | None,
    report: ImportReport,
    progress: Any,
    dry_run: bool = False,
) -> None:
    if site_key is not None and not SITE_KEY.match(site_key):
        raise UnreadableFile(f"--site {site_key!r} is not a valid site key")
    size = input_size(path)
    ctx = ReadContext()
    with open_input(path, ctx) as handle:
        header, first = _header(handle)
        report.site = site_key or str(header.get("site") or "")
        with db.read() as conn:
            clash = _is_empty(conn)
        if clash is not None:
            raise UnreadableFile(
                "a townhall export is restored into an empty database only (ids are kept), "
                f"and this one holds {clash}. Create a new database (--database-url) and "
                "import there."
            )
        restorer = _Restorer(db, report, site_key, dry_run)
        progress.phase("restoring", size)
        if dry_run:
            with db.engine.connect() as conn:
                transaction = conn.begin()
                restorer._dry_conn = conn
                try:
                    _read(handle, first, restorer, report, progress)
                    restorer.finish()
                finally:
                    transaction.rollback()
        else:
            _read(handle, first, restorer, report, progress)
            restorer.finish()
    report.extra["restored"] = restorer.counts
    for note in ctx.notes:
        report.add(note)
    if restorer.unknown_columns:
        report.add(
            Problem(
                "columns this version does not know were ignored: "
                + ", ".join(sorted(restorer.unknown_columns))
            )
        )


def _read(
    handle: Any, first: int, restorer: _Restorer, report: ImportReport, progress: Any
) -> None:
    trailer: dict[str, Any] | None = None
    for number, raw in enumerate(handle, start=first + 1):
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        if number % 1000 == 0:
            progress.update(handle.tell())
        try:
            data = json.loads(line)
        except ValueError as exc:
            restorer.skip(number, "", f"not valid JSON: {exc}")
            continue
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "end":
            trailer = data
            continue
        if kind not in TABLES:
            restorer.skip(number, str(kind), f"unknown row type {kind!r}")
            continue
        restorer.seen[kind] += 1
        if kind == "comment":
            report.records_read += 1
        try:
            values, unknown = decode_row(TABLES[kind], data)
        except RowError as exc:
            restorer.skip(number, f"{kind} {data.get('id', '')}".strip(), str(exc))
            continue
        restorer.unknown_columns.update(f"{kind}.{name}" for name in unknown)
        if kind == "site":
            if restorer.site_id is not None:
                restorer.skip(number, "site", "a second site row: an export holds one site")
                continue
            if restorer.site_key:
                values["key"] = restorer.site_key
            restorer.site_id = values["id"]
        restorer.add(number, kind, values)
    if restorer.site_id is None:
        report.fatal = "the export holds no site row: nothing was restored"
    if trailer is None:
        report.add(Problem("the file has no end line: the export may be cut short"))
    else:
        announced = trailer.get("counts")
        expected: dict[str, Any] = announced if isinstance(announced, dict) else {}
        for kind, count in expected.items():
            if kind in restorer.seen and restorer.seen[kind] != count:
                report.add(
                    Problem(
                        f"the end line announces {count} {kind} row(s); the file holds "
                        f"{restorer.seen[kind]}"
                    )
                )
