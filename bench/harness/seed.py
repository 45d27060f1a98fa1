"""Writing the dataset into townhall's database (directly, with SQLAlchemy Core, as
``tests/api/test_reading.py`` does) and handing it to Isso's seeding script.

townhall's site is created with ``townhall site add`` (the documented way, which also creates
the schema); comments are inserted in large batches, with the HTML townhall renders on write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.dataset import Comment, Dataset, Thread

SITE_KEY = "bench"
RELAXED_POLICY = ("rate_burst=1000000", "rate_sustained=1000000", "thread_rate=0")
BATCH = 20_000


def townhall_command() -> list[str]:
    return [sys.executable, "-m", "townhall"]


def create_site(data_dir: Path, origin: str, log: Path) -> None:
    """``townhall site add`` (which also creates the schema) into ``data_dir``."""
    argv = [*townhall_command(), "site", "add", SITE_KEY, "--name", "Benchmark News"]
    argv += ["--origin", origin, "--data-dir", str(data_dir)]
    for item in RELAXED_POLICY:
        argv += ["--policy", item]
    with log.open("ab") as out:
        subprocess.run(argv, check=True, stdout=out, stderr=subprocess.STDOUT, timeout=300)


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


_HTML: dict[str, str] = {}


def rendered(texts: list[str]) -> list[str]:
    """Each text's HTML as townhall renders it on write (kept: both databases share texts)."""
    from townhall.domain.rendering import render_markdown

    for t in texts:
        if t not in _HTML:
            _HTML[t] = render_markdown(t)
    return [_HTML[t] for t in texts]


def seed_townhall(template: Path, data_dir: Path, dataset: Dataset, log: Path) -> dict[str, Any]:
    """Copy the data folder ``template`` (a fresh database holding the site, made by
    :func:`create_site`) to ``data_dir`` and insert every thread and comment, filler
    included; returns what was written and how long it took.

    Rows go in through the DBAPI cursor in large ``executemany`` batches, each value passed
    through its column's own SQLAlchemy bind processor, so what is stored is exactly what
    townhall would store (a million rows in SQLAlchemy's executemany would take minutes)."""
    from sqlalchemy import select, text

    from townhall.domain.identity import Hasher
    from townhall.settings import ensure_secret, load_settings
    from townhall.store.database import Database
    from townhall.store.schema import comments, sites, threads

    started = time.perf_counter()
    shutil.copytree(template, data_dir)
    settings = ensure_secret(load_settings(environ={}, overrides={"data_dir": data_dir}))
    hasher = Hasher(settings.secret_bytes())
    html = rendered(dataset.texts)
    email_hash: dict[str, str] = {}
    db = Database(settings.resolved_database_url)
    dialect = db.engine.dialect
    with db.read() as conn:
        site_id = conn.execute(select(sites.c.id).where(sites.c.key == SITE_KEY)).scalar_one()

    def thread_row(thread: Thread, cs: list[Comment]) -> dict[str, Any]:
        return dict(
            id=thread.id,
            site_id=site_id,
            key=thread.key,
            title=thread.title,
            url="",
            closed=False,
            policy=None,
            comment_count=len(cs),
            version=1,
            created_at=_utc(cs[0].created - 60),
            last_comment_at=_utc(cs[-1].created),
        )

    def comment_row(c: Comment) -> dict[str, Any]:
        if c.email and c.email not in email_hash:
            email_hash[c.email] = hasher.email(c.email)
        return dict(
            id=c.id,
            thread_id=c.thread_id,
            parent_id=c.parent_id,
            root_id=c.root_id,
            depth=c.depth,
            status="published",
            shadow=False,
            author_name=c.author,
            author_email=c.email,
            email_hash=email_hash.get(c.email) if c.email else None,
            author_website=c.website,
            reader_id=hashlib.sha256(f"bench-reader-{c.reader}".encode()).hexdigest(),
            ip_hash=None,  # seeded comments are older than the IP retention period
            text=dataset.texts[c.text],
            html=html[c.text],
            created_at=_utc(c.created),
            likes=c.likes,
            dislikes=c.dislikes,
            flag_count=0,
            toxicity=0.01,
        )

    with db.read() as conn:
        present = {
            t.name: {row[1] for row in conn.exec_driver_sql(f'PRAGMA table_info("{t.name}")')}
            for t in (threads, comments)
        }

    def writer(table: Any, sample: dict[str, Any]) -> tuple[str, Any]:
        """An INSERT for the columns the database has and that the rows give or that have a
        Python-side default in the schema (the others keep the database's defaults)."""
        spec = []
        for c in table.columns:
            if c.name not in present[table.name]:
                continue
            default = c.default.arg if c.default is not None and c.default.is_scalar else None
            if c.name in sample or default is not None:
                spec.append((c.name, c.type.bind_processor(dialect), default))
        names = ", ".join(f'"{name}"' for name, _, _ in spec)
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" for _ in spec)})'

        def value(row: dict[str, Any], name: str, proc: Any, default: Any) -> Any:
            v = row.get(name, default)
            return v if proc is None or v is None else proc(v)

        def convert(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
            return [tuple([value(row, *col) for col in spec]) for row in rows]

        return sql, convert

    first = dataset.comments[0]
    thread_sql, thread_values = writer(threads, thread_row(dataset.threads[0], [first]))
    comment_sql, comment_values = writer(comments, comment_row(first))

    def batches() -> Iterable[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        by_thread: dict[int, list[Comment]] = {}
        for c in dataset.comments:
            by_thread.setdefault(c.thread_id, []).append(c)
        yield (
            [thread_row(t, by_thread[t.id]) for t in dataset.threads],
            [comment_row(c) for c in dataset.comments],
        )
        trows: list[dict[str, Any]] = []
        crows: list[dict[str, Any]] = []
        for thread, cs in dataset.filler():
            trows.append(thread_row(thread, cs))
            crows += [comment_row(c) for c in cs]
            if len(crows) >= BATCH:
                yield trows, crows
                trows, crows = [], []
        if crows:
            yield trows, crows

    n_threads = n_comments = 0
    with db.write() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        # The comments' indexes are dropped during the load and built again after it, from
        # their own CREATE statements (one sorted build beats a million index updates).
        indexes = cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'comments' AND sql IS NOT NULL"
        ).fetchall()
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for trows, crows in batches():
            cursor.executemany(thread_sql, thread_values(trows))
            cursor.executemany(comment_sql, comment_values(crows))
            n_threads += len(trows)
            n_comments += len(crows)
        for _name, sql in indexes:
            cursor.execute(sql)
        cursor.close()
    with db.read() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    db.dispose()
    db_file = data_dir / "townhall.db"
    return {
        "threads": n_threads,
        "comments": n_comments,
        "seconds": round(time.perf_counter() - started, 2),
        "db_mb": round(db_file.stat().st_size / 2**20, 1) if db_file.exists() else None,
    }


def isso_payload(dataset: Dataset) -> dict[str, Any]:
    """What Isso gets: the same threads and comments, each reply's parent folded onto its
    top-level comment (Isso stores two levels: ``Comments.add`` does the same fold)."""
    return {
        "threads": [{"id": t.id, "uri": t.key, "title": t.title} for t in dataset.threads],
        "comments": [
            {
                "id": c.id,
                "tid": c.thread_id,
                "parent": c.root_id,
                "created": c.created,
                "text": dataset.texts[c.text],
                "author": c.author,
                "email": c.email,
                "website": c.website,
                "likes": c.likes,
                "dislikes": c.dislikes,
                "remote_addr": f"10.{c.reader // 256 % 256}.{c.reader % 256}.0",
            }
            for c in dataset.comments
        ],
    }


def seed_isso(
    python: Path, config: Path, dataset: Dataset, work: Path, log: Path
) -> dict[str, Any]:
    started = time.perf_counter()
    payload = work / "isso-dataset.json"
    payload.write_text(json.dumps(isso_payload(dataset)), encoding="utf-8")
    script = Path(__file__).with_name("isso_seed.py")
    with log.open("ab") as out:
        subprocess.run(
            [str(python), str(script), str(config), str(payload)],
            check=True,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    return {
        "threads": len(dataset.threads),
        "comments": len(dataset.comments),
        "seconds": round(time.perf_counter() - started, 2),
    }
