"""Connections. SQLite: one writer at a time (a lock, BEGIN IMMEDIATE), readers in parallel
under WAL. PostgreSQL: a connection pool; writes are ordinary transactions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from townhall.store import migrate


class Database:
    """The one way the rest of townhall reaches the database."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._write_lock = threading.Lock()
        self._writer = _writer_thread() if self.is_sqlite else None
        if self.is_sqlite:
            self.engine = create_engine(
                url,
                poolclass=QueuePool,
                pool_size=pool_size,
                max_overflow=8,
                connect_args={"check_same_thread": False, "timeout": 30},
                hide_parameters=True,  # errors are logged; parameters hold emails and text
            )
            event.listen(self.engine, "connect", _sqlite_on_connect)
            event.listen(self.engine, "begin", _sqlite_on_begin)
        else:
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=16, pool_pre_ping=True, hide_parameters=True
            )

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on any error."""
        if self.is_sqlite:
            # SQLite allows one writer; queueing here beats spinning on SQLITE_BUSY.
            with self._write_lock, self.engine.connect() as conn:
                conn = conn.execution_options(townhall_write=True)
                with conn.begin():
                    yield conn
        else:
            with self.engine.begin() as conn:
                yield conn

    @property
    def writer(self) -> ThreadPoolExecutor | None:
        """SQLite: the one thread that runs writes for async callers. Only one write runs at
        a time anyway; sixteen threads queueing on the lock cost ~15 % more CPU per post in
        thread switches (measured, issue 7). PostgreSQL: None (writes run in parallel)."""
        return self._writer

    def migrate(self) -> None:
        migrate.upgrade(self.engine)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        if self._writer is not None:  # its thread ends; a new one starts if writes go on
            self._writer.shutdown(wait=True)
            self._writer = _writer_thread()
        self.engine.dispose()


def _writer_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(1, thread_name_prefix="townhall-writer")  # thread starts on use


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_on_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Checkpoint every ~40 MB of WAL, not SQLite's default ~4 MB: a checkpoint runs inside the
    # commit that crosses the mark, holding the one write lock, and copies each hot page (the
    # thread row, index pages) once per checkpoint however often it changed since. 10x fewer
    # checkpoints cost ~15 % less CPU per post (measured, issue 7). The file is trimmed back
    # to 64 MB after a checkpoint.
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.execute("PRAGMA journal_size_limit=67108864")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # Writers take the write lock up front (no lock upgrade deadlocks); readers stay deferred.
    writing = conn.get_execution_options().get("townhall_write", False)
    # On the driver's connection: through exec_driver_sql this cost 20 µs a transaction.
    conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
        "BEGIN IMMEDIATE" if writing else "BEGIN"
    )
