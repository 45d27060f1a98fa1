"""Freed memory does not pile up in glibc's heaps (issue 8, the soak's memory trend;
townhall/web/memory.py).

Under the soak the app's own memory stayed flat while resident memory grew: the growth was free
memory in glibc's heaps, one arena per thread that allocates. `townhall serve` caps the arenas
before any thread starts (here threads like the worker pool's allocate at once, in a fresh
interpreter, and the heaps they leave behind are counted with and without the cap), and the app
trims the heaps while it serves (freed blocks between live ones stay resident until then)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import townhall.app
from tests.conftest import app_client
from townhall.cli import main as cli
from townhall.domain.services import Services
from townhall.settings import Settings
from townhall.web import memory

glibc = pytest.mark.skipif(memory._glibc() is None, reason="glibc's allocator only")

WORKLOAD = r"""
import ctypes, json, os, sys, tempfile, threading
from townhall.web import memory

if sys.argv[1] == "capped":
    assert memory.limit_arenas()
libc = ctypes.CDLL("libc.so.6")
libc.fdopen.restype = ctypes.c_void_p
libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
kept = []
start = threading.Barrier(8)

def work():  # a request's worth of blocks too big for Python's small-object allocator
    start.wait()
    for _ in range(20):
        blocks = [bytearray(2000) for _ in range(500)]
        kept.extend(blocks[::50])  # a few stay (cache entries), the rest is freed

threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with tempfile.TemporaryFile() as out:  # malloc_info's XML names each heap
    fp = libc.fdopen(os.dup(out.fileno()), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    out.seek(0)
    heaps = out.read().decode().count("<heap nr=")
print(json.dumps({"heaps": heaps}))
"""


def heaps_after_workload(mode: str) -> int:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", WORKLOAD, mode],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    return int(json.loads(done.stdout)["heaps"])


@glibc
def test_threads_share_two_arenas_once_capped() -> None:
    uncapped = heaps_after_workload("uncapped")
    capped = heaps_after_workload("capped")
    assert uncapped > 2, f"{uncapped} heaps without the cap: the workload shows nothing"
    assert capped <= 2, f"{capped} heaps with the cap"


@glibc
def test_an_operators_malloc_arena_max_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert memory.limit_arenas() is False


def test_serve_caps_the_arenas_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from townhall.web import serving

    calls: list[str] = []
    monkeypatch.setattr(memory, "limit_arenas", lambda: calls.append("cap") or True)
    monkeypatch.setattr(serving, "run", lambda app, **kw: calls.append("serve"))
    monkeypatch.delenv("TOWNHALL_CONFIG", raising=False)
    result = CliRunner().invoke(
        cli,
        ["serve", "--data-dir", str(tmp_path)],
        env={"TOWNHALL_SECRET_KEY": "x" * 40},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert calls == ["cap", "serve"]


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@glibc
def test_freed_blocks_between_live_ones_stay_resident_until_trimmed() -> None:
    kept: list[bytearray] = []

    def work() -> None:  # requests' blocks, much magnified: most freed, a few kept
        blocks = [bytearray(2000) for _ in range(60_000)]  # about 115 MiB
        kept.extend(blocks[::64])
        blocks.clear()

    memory.release_free_memory()
    before = rss_mib()
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    retained = rss_mib() - before
    assert retained > 60, f"only {retained:.0f} MiB retained: nothing to show"
    assert memory.release_free_memory()
    after = rss_mib() - before
    assert after < retained / 4, f"{retained:.0f} MiB retained, {after:.0f} after the trim"
    assert len(kept) == 938


async def test_the_app_trims_while_it_serves(
    settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(townhall.app, "TRIM_SECONDS", 0.01)
    monkeypatch.setattr(townhall.app, "release_free_memory", lambda: calls.append(1) or True)
    async with app_client(settings, services) as client:
        assert (await client.get("/healthz")).status_code == 200
        for _ in range(300):
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.01)
    assert len(calls) >= 3
    settled = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == settled  # the chore ends with the app


def test_numbers_stay_out_of_the_toxicity_word_cache() -> None:
    """Every number reads as "digit" to the model, and a comment stream writes new numbers all
    the time (years, amounts, the soak's one per post): they are answered without the word
    cache, so it holds the words that repeat and /metrics shows it settle (the soak's trend)."""
    from townhall.moderation.toxicity import normalize
    from townhall.web.metrics import word_cache_entries

    normalize._normalize_word.cache_clear()
    text = "Paid 1234567 in 2024, up 15 from 0.123456789: no, 12a or ²"
    words = [t.text for t in normalize.tokenize(text)]
    assert words == [
        *("paid", "digit", "in", "digit", "up", "digit", "from", "digit", "digit"),
        *("no", "12a", "or", "digit"),
    ]
    # paid, in, up, from, no, 12a, or, and "²" (a digit, but not an ASCII one: folded first)
    assert word_cache_entries() == 8
    normalize.tokenize("in 1999 and 31337 and 42, up from 7")
    assert word_cache_entries() == 9  # "and"; the cache is keyed by the word as written
