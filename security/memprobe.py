"""`townhall serve` with a memory probe: ``python -m security.memprobe DIR serve ...``.

Every ``TOWNHALL_MEMPROBE_INTERVAL`` seconds (60) it appends one JSON line to DIR/probe.jsonl
(resident memory; what the Python heap holds as tracemalloc counts it; glibc's malloc figures:
in use, free inside the heap, mmapped; SQLite's memory and, on SQLite, the database's size;
threads; objects the GC tracks, with the most numerous types; how full the bounded caches are,
the app's LRU caches by entries among them) and, with
``TOWNHALL_MEMPROBE_FRAMES`` > 0 (default 10), dumps a tracemalloc snapshot to
DIR/snap-NNN.pickle. ``python -m security.memprobe --compare DIR A B`` prints the
allocation sites that grew most between snapshots A and B.

RSS growing while traced memory stays flat points at the allocator (free memory the heap
cannot give back, arenas) or at C-level caches; traced memory growing points at Python objects,
and the snapshot comparison says which."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> Any:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def mallinfo() -> dict[str, float]:
    """glibc's heap figures in MiB: ``arena`` (main-heap bytes from the system), ``in_use``,
    ``free`` (free inside the heaps), ``mmap`` (large blocks mapped on their own)."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return {}
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    mib = 2**20
    return {
        "arena": info.arena / mib,
        "in_use": info.uordblks / mib,
        "free": info.fordblks / mib,
        "mmap": info.hblkhd / mib,
    }


def sqlite_mib() -> dict[str, float]:
    """What SQLite holds (page caches of every connection, statements) and its high mark."""
    try:
        import sqlite3  # noqa: F401 (loads the library the connections use)

        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        lib.sqlite3_memory_highwater.restype = ctypes.c_int64
        lib.sqlite3_memory_highwater.argtypes = [ctypes.c_int]
    except (OSError, AttributeError):
        return {}
    return {
        "sqlite": round(lib.sqlite3_memory_used() / 2**20, 2),
        "sqlite_high": round(lib.sqlite3_memory_highwater(0) / 2**20, 2),
    }


def database_mib() -> dict[str, float]:
    """The size of the SQLite database and its WAL, MiB (a growing file grows the page
    caches' working set: each connection's cache holds up to ``cache_size`` pages)."""
    url = os.environ.get("TOWNHALL_DATABASE_URL", "")
    if not url.startswith("sqlite:///"):
        return {}
    path = Path(url.removeprefix("sqlite:///"))
    sizes = [p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()]
    return {"db": round(sum(sizes[:1]) / 2**20, 2), "wal": round(sum(sizes[1:]) / 2**20, 2)}


def gc_types(tracked: list[Any], top: int = 30) -> dict[str, int]:
    """The types with the most objects the GC tracks, and how many of each: what grows when
    ``gc_objects`` grows."""
    counts = Counter(type(obj) for obj in tracked)
    return {
        (t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"): n
        for t, n in counts.most_common(top)
    }


def rss_mib() -> dict[str, float]:
    """VmRSS and its parts (anonymous memory, mapped files), MiB."""
    names = {"VmRSS:": "rss", "RssAnon:": "anon", "RssFile:": "file"}
    found: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name = line.split(maxsplit=1)[0]
            if name in names:
                found[names[name]] = round(int(line.split()[1]) / 1024, 2)
    return found


def cache_fill() -> dict[str, Any]:
    """How full the bounded caches are (bytes held / budget), found by type in the heap."""
    fill: dict[str, Any] = {}
    from townhall.web.metrics import moderation_memos
    from townhall.web.page_cache import PageCache

    for name, memo in moderation_memos().items():
        fill[name] = [len(memo), round(memo.weight / 2**20, 2), memo.budget >> 20]

    for obj in gc.get_objects():
        if isinstance(obj, PageCache):
            fill["pages"] = [len(obj), round(obj.bytes / 2**20, 2), obj.entries, obj.misses]
        elif isinstance(obj, functools._lru_cache_wrapper) and getattr(
            obj, "__module__", ""
        ).startswith("townhall."):
            # the app's LRU caches, bounded by count (the toxicity model's word caches):
            # entries held and the bound
            info = obj.cache_info()
            if info.maxsize:
                name = f"{obj.__module__.rsplit('.', 1)[-1]}.{obj.__qualname__.lstrip('_')}"
                fill[name] = [info.currsize, info.maxsize]
    return fill


def probe(directory: Path, interval: float, frames: int) -> None:
    start = time.monotonic()
    n = 0
    with (directory / "probe.jsonl").open("a", encoding="utf-8") as out:
        while True:
            time.sleep(interval)
            n += 1
            tracked = gc.get_objects()
            row: dict[str, Any] = {
                "t": round(time.monotonic() - start),
                **rss_mib(),
                "threads": threading.active_count(),
                "gc_objects": len(tracked),
                **{k: round(v, 2) for k, v in mallinfo().items()},
                **sqlite_mib(),
                **database_mib(),
                "gc_types": gc_types(tracked),
            }
            del tracked
            if frames:
                traced, _peak = tracemalloc.get_traced_memory()
                row["traced"] = round(traced / 2**20, 2)
                snap = tracemalloc.take_snapshot().filter_traces(
                    (tracemalloc.Filter(False, tracemalloc.__file__),)
                )
                snap.dump(str(directory / f"snap-{n:03d}.pickle"))
            row["caches"] = cache_fill()
            out.write(json.dumps(row) + "\n")
            out.flush()


def compare(directory: Path, a: int, b: int, top: int = 25) -> None:
    old = tracemalloc.Snapshot.load(str(directory / f"snap-{a:03d}.pickle"))
    new = tracemalloc.Snapshot.load(str(directory / f"snap-{b:03d}.pickle"))
    total = sum(s.size for s in new.statistics("filename")) - sum(
        s.size for s in old.statistics("filename")
    )
    print(f"traced growth {a} -> {b}: {total / 2**20:+.2f} MiB")
    for key in ("lineno", "traceback"):
        print(f"--- by {key}")
        for stat in new.compare_to(old, key)[:top]:
            print(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
            for line in stat.traceback.format()[-(12 if key == "traceback" else 2) :]:
                print("     ", line)


def main() -> None:
    if sys.argv[1] == "--compare":
        compare(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return
    directory = Path(sys.argv[1])
    directory.mkdir(parents=True, exist_ok=True)
    frames = int(os.environ.get("TOWNHALL_MEMPROBE_FRAMES", "10"))
    interval = float(os.environ.get("TOWNHALL_MEMPROBE_INTERVAL", "60"))
    if frames:
        tracemalloc.start(frames)
    threading.Thread(
        target=probe, args=(directory, interval, frames), name="memprobe", daemon=True
    ).start()
    from townhall.cli import main as townhall

    sys.argv = ["townhall", *sys.argv[2:]]
    townhall()


if __name__ == "__main__":
    main()
