"""Keeping freed memory from piling up in glibc's heaps (elsewhere these do nothing).

The soak (docs/security.md, "Soak") showed resident memory growing 1.5 MiB a minute under a
steady load while what the app holds stayed flat: the growth was free memory inside glibc's
heaps. Each thread that allocates (the event loop, the worker threads that run the database
work) gets an arena of its own, up to 8 per core; worker threads come and go and land on
arenas in turn, each arena's heap grows to the most it ever held, and freed blocks between live
ones stay resident (glibc gives back only the top of a heap, and only past a threshold). So

* `townhall serve` caps the arenas at ``ARENA_MAX`` before any thread starts (an operator's
  ``MALLOC_ARENA_MAX`` wins): the worker threads share two heaps instead of growing up to 16;
* the app calls ``malloc_trim(0)`` every ``TRIM_SECONDS`` on a worker thread, which gives the
  free pages inside every heap back (10–25 ms with a 60 MiB heap; allocations in the arena
  being trimmed wait meanwhile).

The cap took the soak's trend from +1.5 to about +0.35–0.45 MiB a minute; the trim's share is
within the spread between runs, but it returns what a burst leaves behind (figures in
docs/security.md, "Where the soak's memory went")."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import cache
from typing import Any

ARENA_MAX = 2
TRIM_SECONDS = 30.0
M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


@cache
def _glibc() -> Any:
    """The C library when it is glibc, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 (only glibc has it)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(arenas: int = ARENA_MAX) -> bool:
    """Cap glibc's malloc arenas (threads started later share them), unless the operator set
    ``MALLOC_ARENA_MAX``. True when the cap was set."""
    libc = _glibc()
    if libc is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """``malloc_trim(0)``: free pages in every arena back to the system. True if any were."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
