"""A cap on glibc's malloc arenas, set by `townhall serve` before any thread starts.

The soak (docs/security.md, "Soak") showed resident memory growing 1–2 MiB a minute under a
steady load while what the app holds stayed flat: the growth was free memory inside glibc's
heaps. Each thread that allocates (the event loop, the worker threads that run the database
work) gets an arena of its own, up to 8 per core; worker threads come and go and land on
arenas in turn, each arena's heap grows to the most it ever held, and freed blocks between
live ones stay resident. With 2 arenas the heaps stay level (the heap was 26 MiB after 30
minutes instead of growing 1.2 MiB a minute), at no measurable cost in speed: the work that
allocates holds the GIL anyway. ``malloc_trim`` every 30 s was tried as well and made no
difference to the resident memory.

An operator's ``MALLOC_ARENA_MAX`` wins (glibc reads it at start). Elsewhere than glibc this
does nothing."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import cache
from typing import Any

ARENA_MAX = 2
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
