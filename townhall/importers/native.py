"""townhall's own export format: JSON lines, one row per line, every column.

    {"type": "header", "format": "townhall-export", "version": 1, "site": "news", ...}
    {"type": "site", "id": 1, "key": "news", ...}
    {"type": "thread", ...}          all threads of the site, by id
    {"type": "comment", ...}         every comment in every state, by id (parents first)
    {"type": "vote" | "flag" | "ban" | "moderation_log" | "reader_note", ...}
    {"type": "end", "counts": {"thread": 12, "comment": 345, ...}}

Columns are encoded from the schema (store/schema.py), so a new column is exported without
touching this file: times as RFC 3339 UTC with microseconds, enums as their value, JSON
columns as JSON; columns marked ``info={"derived": True}`` (recomputed from the others, like a
comment's flood-check signature) are left out. Emails, email and IP hashes, edit-token hashes
are included: an export is a backup and must be kept as private as the database. The hashes
are keyed with the server's secret key; keep ``secret.key`` with the export or bans by
email/IP stop matching.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Enum, Float, Integer, String, Table

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
from townhall.store.types import UTCDateTime

FORMAT = "townhall-export"
VERSION = 1
# Row types in the order they are written and must be restored (references point backwards).
TABLES: dict[str, Table] = {
    "site": sites,
    "thread": threads,
    "comment": comments,
    "vote": votes,
    "flag": flags,
    "ban": bans,
    "moderation_log": moderation_log,
    "reader_note": reader_notes,
}


class RowError(ValueError):
    """A row of an export that does not fit the schema; the message names the column."""


def encode_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_row(kind: str, table: Table, row: Any) -> str:
    out: dict[str, Any] = {"type": kind}
    for column in table.columns:
        if column.info.get("derived"):
            continue
        value = row[column.name]
        if value is None:
            out[column.name] = None
        elif isinstance(column.type, UTCDateTime):
            out[column.name] = encode_time(value)
        elif isinstance(value, enum.Enum):
            out[column.name] = value.value
        else:
            out[column.name] = value
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def _decode(column: Column[Any], value: Any) -> Any:
    kind = column.type
    if value is None:
        if not column.nullable and not isinstance(kind, JSON):
            raise RowError(f"{column.name} must not be null")
        return None
    if isinstance(kind, UTCDateTime):
        if not isinstance(value, str):
            raise RowError(f"{column.name} must be a time string")
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise RowError(f"{column.name}: {value!r} is not an RFC 3339 time") from None
        if parsed.tzinfo is None:
            raise RowError(f"{column.name}: {value!r} has no zone")
        return parsed.astimezone(dt.UTC)
    if isinstance(kind, Enum):
        enum_class = kind.enum_class
        try:
            return enum_class(value) if enum_class is not None else str(value)
        except ValueError:
            raise RowError(f"{column.name}: {value!r} is not one of its values") from None
    if isinstance(kind, Boolean):
        if not isinstance(value, bool):
            raise RowError(f"{column.name} must be true or false")
        return value
    if isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RowError(f"{column.name} must be a whole number")
        return value
    if isinstance(kind, Float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RowError(f"{column.name} must be a number")
        return float(value)
    if isinstance(kind, String):  # String and Text
        if not isinstance(value, str):
            raise RowError(f"{column.name} must be a string")
        if kind.length is not None and len(value) > kind.length:
            raise RowError(f"{column.name} is longer than {kind.length} characters")
        return value
    return value  # JSON


def decode_row(table: Table, data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The row's values for an insert, and the names of columns the schema does not know."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.info.get("derived"):
            continue
        if column.name not in data:
            if not column.nullable:
                raise RowError(f"{column.name} is missing")
            values[column.name] = None
            continue
        values[column.name] = _decode(column, data[column.name])
    unknown = [k for k in data if k != "type" and k not in table.columns]
    return values, unknown


def header(site_key: str, schema_revision: str | None, version: str) -> str:
    return json.dumps(
        {
            "type": "header",
            "format": FORMAT,
            "version": VERSION,
            "site": site_key,
            "schema": schema_revision,
            "townhall": version,
            "exported_at": encode_time(dt.datetime.now(dt.UTC)),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def lines_of(kind: str, table: Table, rows: Iterator[Any]) -> Iterator[str]:
    for row in rows:
        yield encode_row(kind, table, row)
