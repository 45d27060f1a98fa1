"""Hot statements run on the driver's cursor.

SQLAlchemy Core spends about 20 µs of Python per statement (execution context, parameter and
result processing) where the driver needs 1-2; a post runs eight statements, so on SQLite that
was a tenth of a post's CPU (issue 7). A :class:`DriverQuery` is written with SQLAlchemy as usual
and compiled once per dialect; inside a transaction it runs on that transaction's DBAPI cursor,
with SQLAlchemy's own bind processors applied to the parameters. ``rows`` gives the rows as
the driver makes them (for integers, text, bytes); ``mappings`` converts each column as
SQLAlchemy would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Dialect, Insert, Select, Update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

Statement = Select[Any] | Insert | Update

_Processor = Callable[[Any], Any]


class _Compiled:
    def __init__(self, stmt: Statement, dialect: Dialect) -> None:
        self.compiled: SQLCompiler = stmt.compile(dialect=dialect)
        prefetch = [*self.compiled.insert_prefetch, *self.compiled.update_prefetch]
        missing = [column.name for column in prefetch]
        if missing:
            # SQLAlchemy fills Python-side column defaults in its execution context, which the
            # driver's cursor skips: such a statement must give those columns itself.
            raise ValueError(f"give values for {', '.join(missing)}: defaults are not applied")
        self.sql = self.compiled.string
        # what SQLAlchemy does to each result column (SQLite's stored time to an aware
        # datetime, 0/1 to a bool, JSON text to objects, a name to its enum member)
        self.converters: list[tuple[int, _Processor]] = []
        for i, column in enumerate(stmt.exported_columns):
            convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if convert is not None:
                self.converters.append((i, convert))
        self.positional = bool(self.compiled.positional)
        self.order = list(self.compiled.positiontup or ())
        self.processors: dict[str, _Processor] = {}
        for name, bind in self.compiled.binds.items():
            # the dialect's own type (SQLite's DATETIME writes a string, PostgreSQL's JSON
            # wraps for the driver), as SQLAlchemy would use
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor

    def parameters(self, params: Mapping[str, Any]) -> Any:
        values = dict(self.compiled.construct_params(dict(params)) or {})
        for name, processor in self.processors.items():
            if name in values:
                values[name] = processor(values[name])
        if self.positional:
            return tuple(values[name] for name in self.order)
        return values


class DriverQuery:
    """``query.rows(conn, params)``: the rows of ``stmt`` (a SELECT, or a write with
    RETURNING) as plain tuples."""

    def __init__(self, stmt: Statement) -> None:
        self.stmt = stmt
        self.names = [str(column.key) for column in stmt.exported_columns]
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        if not conn.in_transaction():
            # Outside a transaction SQLAlchemy would begin one on first use; let it.
            return [tuple(row) for row in conn.execute(self.stmt, params).fetchall()]
        return self._run(conn, params, fetch=True)

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> None:
        """Run a write that returns no rows."""
        if not conn.in_transaction():
            conn.execute(self.stmt, params)
            return
        self._run(conn, params, fetch=False)

    def _run(
        self, conn: Connection, params: Mapping[str, Any], *, fetch: bool
    ) -> list[tuple[Any, ...]]:
        dialect = conn.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self.stmt, dialect)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, compiled.parameters(params))
            return [tuple(row) for row in cursor.fetchall()] if fetch else []
        except dialect.loaded_dbapi.Error as exc:
            # the exception SQLAlchemy would raise (IntegrityError, OperationalError, ...),
            # without the parameters (they hold emails and comment text)
            raise DBAPIError.instance(
                compiled.sql,
                None,
                exc,
                dialect.loaded_dbapi.Error,
                hide_parameters=True,
                dialect=dialect,
            ) from exc
        finally:
            cursor.close()

    def tuples(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows with each value converted as SQLAlchemy converts it."""
        if not conn.in_transaction():
            return self.rows(conn, params)  # SQLAlchemy's own rows, converted by it
        rows = self.rows(conn, params)
        converters = self._compiled[conn.dialect.name].converters
        if not converters:
            return rows
        out = []
        for row in rows:
            values = list(row)
            for i, convert in converters:
                values[i] = convert(values[i])
            out.append(tuple(values))
        return out

    def mappings(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The converted rows as dictionaries by column name."""
        return [dict(zip(self.names, row, strict=True)) for row in self.tuples(conn, params)]

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        rows = self.rows(conn, params)
        return rows[0][0] if rows else None
