"""Hot SELECTs run on the driver's cursor.

SQLAlchemy Core spends about 20 µs of Python per statement (execution context, parameter and
result processing) where the driver needs 1-2; a post runs eight statements, so on SQLite that
was a tenth of a post's CPU (issue 7). A :class:`DriverQuery` is written with SQLAlchemy as usual
and compiled once per dialect; inside a transaction it runs on that transaction's DBAPI cursor,
with SQLAlchemy's own bind processors applied to the parameters. Only for queries whose result
columns need no conversion (integers, text, bytes): rows come back as the driver makes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import Select

_Processor = Callable[[Any], Any]


class _Compiled:
    def __init__(self, stmt: Select[Any], dialect: Dialect) -> None:
        self.compiled = stmt.compile(dialect=dialect)
        self.sql = self.compiled.string
        self.positional = bool(self.compiled.positional)
        self.order = list(self.compiled.positiontup or ())
        self.processors: dict[str, _Processor] = {}
        for name, bind in self.compiled.binds.items():
            processor = bind.type.bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor

    def parameters(self, params: Mapping[str, Any]) -> Any:
        values = dict(self.compiled.construct_params(dict(params)))
        for name, processor in self.processors.items():
            if name in values:
                values[name] = processor(values[name])
        if self.positional:
            return tuple(values[name] for name in self.order)
        return values


class DriverQuery:
    """``query.rows(conn, params)``: the rows of ``stmt`` as plain tuples."""

    def __init__(self, stmt: Select[Any]) -> None:
        self.stmt = stmt
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        if not conn.in_transaction():
            # Outside a transaction SQLAlchemy would begin one on first use; let it.
            return [tuple(row) for row in conn.execute(self.stmt, params).fetchall()]
        dialect = conn.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self.stmt, dialect)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, compiled.parameters(params))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        rows = self.rows(conn, params)
        return rows[0][0] if rows else None
