"""Databases and `townhall serve` processes for the long runs: everything on loopback, every
process started here is stopped here (by its own pid), every database created here dropped."""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PG_ADMIN = os.environ.get("TOWNHALL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "security-harness-secret-0123456789"  # noqa: S105 (a throwaway test server's)
ORIGIN = "https://news.example"


@dataclass(frozen=True)
class Target:
    """One database a run writes to."""

    kind: str  # "sqlite" or "postgres"
    url: str
    data_dir: Path


def _pg_url(name: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def postgres_reachable() -> str | None:
    """None when the PostgreSQL server at TOWNHALL_TEST_PG answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN} ({exc.__class__.__name__}: {exc})"
    return None


@contextlib.contextmanager
def database(kind: str, workdir: Path | None = None) -> Iterator[Target]:
    """A fresh, empty database of ``kind``; dropped (PostgreSQL) when the block ends."""
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="th-sec-")))
        data_dir = workdir / f"data-{kind}"
        data_dir.mkdir(parents=True, exist_ok=True)
        if kind == "sqlite":
            yield Target(kind, f"sqlite:///{data_dir / 'townhall.db'}", data_dir)
            return
        if kind != "postgres":
            raise ValueError(f"unknown database kind {kind!r}")
        import psycopg

        name = f"townhall_sec_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield Target(kind, _pg_url(name), data_dir)
        finally:
            _drop_later(name)


_drops: list[threading.Thread] = []


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _drop_later(name: str) -> None:
    """DROP DATABASE waits for a checkpoint (seconds to tens of seconds on a busy disk): do it
    in the background; the interpreter waits for every drop before it exits."""
    if not _drops:
        atexit.register(_wait_for_drops)
    thread = threading.Thread(target=_drop, args=(name,), name=f"drop-{name}")
    thread.start()
    _drops.append(thread)


def _wait_for_drops() -> None:
    for thread in _drops:
        thread.join(timeout=300)


def prepare(target: Target, sites: dict[str, dict[str, Any]]) -> None:
    """Migrate the database and create ``sites`` (key -> moderation policy)."""
    from townhall.domain.services import Services
    from townhall.domain.sites import create_site
    from townhall.settings import load_settings

    settings = load_settings(
        environ={},
        overrides={
            "data_dir": target.data_dir,
            "database_url": target.url,
            "secret_key": SECRET,
        },
    )
    services = Services.from_settings(settings)
    try:
        services.db.migrate()
        for key, policy in sites.items():
            create_site(services.db, key=key, name=key.title(), origins=[ORIGIN], policy=policy)
    finally:
        services.db.dispose()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A `townhall serve` process. ``settings`` are TOWNHALL_* environment values."""

    target: Target
    settings: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    args: tuple[str, ...] = ()  # more `townhall serve` options, e.g. ("--demo",)
    port: int = 0
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 90) -> Server:
        if self.port == 0:
            self.port = free_port(self.host)
        if self.log_path is None:
            self.log_path = self.target.data_dir / "server.log"
        env = {
            **os.environ,
            "TOWNHALL_DATA_DIR": str(self.target.data_dir),
            "TOWNHALL_DATABASE_URL": self.target.url,
            "TOWNHALL_SECRET_KEY": SECRET,
            "TOWNHALL_LOG_LEVEL": "warning",
            **{f"TOWNHALL_{k.upper()}": str(v) for k, v in self.settings.items()},
        }
        env.pop("TOWNHALL_CONFIG", None)
        # TOWNHALL_MEMPROBE=DIR: the server runs under security/memprobe.py, which writes
        # its memory figures (and tracemalloc snapshots) to DIR.
        probe = os.environ.get("TOWNHALL_MEMPROBE")
        command = ["-m", "security.memprobe", probe] if probe else ["-m", "townhall"]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (our interpreter, fixed arguments)
                [sys.executable, *command, "serve", "--host", self.host, *self.args],
                env={**env, "TOWNHALL_PORT": str(self.port)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal is ours to handle, not its
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"townhall serve did not start:\n{self.log_text()[-3000:]}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, like a power cut for the process."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def rss_bytes(self) -> int:
        """Resident memory of the server process, from /proc (Linux)."""
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS line")

    def log_text(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def seed_thread(target: Target, site_key: str, thread: str, comments: int) -> None:
    """Write a thread of ``comments`` published comments straight into the store (as the demo
    seeding does), so a run starts on a realistic page without spending the rate limits."""
    import datetime as dt

    from townhall.domain.rendering import render_markdown
    from townhall.store import comments as comment_store
    from townhall.store import sites as site_store
    from townhall.store import threads as thread_store
    from townhall.store.database import Database
    from townhall.types import CommentStatus

    db = Database(target.url)
    now = dt.datetime.now(dt.UTC)
    try:
        with db.write() as conn:
            site = site_store.site_by_key(conn, site_key)
            assert site is not None
            row = thread_store.get_or_create_thread(
                conn, site_id=site["id"], key=thread, title="Seeded", url=ORIGIN + thread, now=now
            )
            for i in range(comments):
                text = f"Seeded comment {i}: the council meets on *Tuesday* about the bypass."
                comment_store.insert_comment(
                    conn,
                    thread_id=row["id"],
                    parent_id=None,
                    root_id=None,
                    depth=0,
                    status=CommentStatus.PUBLISHED,
                    shadow=False,
                    author_name=f"Reader {i}",
                    text=text,
                    html=render_markdown(text),
                    created_at=now - dt.timedelta(minutes=comments - i),
                    likes=0,
                    dislikes=0,
                    flag_count=0,
                )
            thread_store.bump(conn, row["id"], count_delta=comments, last_comment_at=now)
    finally:
        db.dispose()
