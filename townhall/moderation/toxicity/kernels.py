"""The numeric kernels training runs on, pinned so that x86-64 CPUs write the same bytes.

numpy and OpenBLAS pick their code for the CPU once, when numpy is imported: numpy's SIMD loops
(AVX-512 ``exp``/``log`` and AVX2 ``tanh`` where the CPU has them), OpenBLAS's matrix kernels
(SkylakeX on an AVX-512 Xeon or EPYC, Haswell on an AVX2 EPYC) and its number of threads. Each gives
results that differ in the last bit. The regression alone forgave that (held-out scores moved by
0.0008 at most between the two CPUs), but the network's 800 L-BFGS iterations on a non-convex
objective amplify it: the same data and seed trained on the Intel Xeon and on the AMD EPYC kind
of this project's CI machines gave held-out scores up to 0.55 apart and thresholds 0.01 apart.

So training runs in a process that starts with the choices fixed to what both CPUs have: numpy's
X86_V3 (AVX2 + FMA) loops, OpenBLAS's Haswell kernels, two OpenBLAS threads. The child reads back
what numpy and OpenBLAS actually chose and reports it (``describe``). Pinned, a Zen 3 EPYC, a
Zen 4 EPYC and a Cascade Lake Xeon (both with AVX-512) wrote the shipped file byte for byte
(docs/model-card.md). A CPU without AVX2 and FMA,
a single core, numpy before 2.4 (other feature names) or another architecture trains with its
own kernels: the model is as good, its bytes differ from the shipped file.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

PINNED_ENVIRONMENT: Mapping[str, str] = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Haswell",
    "OPENBLAS_NUM_THREADS": "2",
}
PINNED_KERNELS = "numpy X86_V3, OpenBLAS Haswell, 2 threads"
REQUIREMENTS = "x86-64 with AVX2 and FMA, two cores or more, numpy 2.4 or later"
MODULE = "townhall.moderation.toxicity"


def _cpu_features() -> dict[str, bool]:
    features: dict[str, bool] = importlib.import_module(
        "numpy._core._multiarray_umath"
    ).__cpu_features__
    return features


def can_pin() -> bool:
    """Whether this machine runs the pinned kernels (``REQUIREMENTS``; numpy 2.4 is the first
    whose x86 feature groups the pinning names)."""
    if platform.machine().lower() not in {"x86_64", "amd64"} or (os.cpu_count() or 1) < 2:
        return False
    if tuple(int(part) for part in np.__version__.split(".")[:2]) < (2, 4):
        return False
    features = _cpu_features()
    return bool(features.get("AVX2")) and bool(features.get("FMA3"))


def pinned(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process started with the pinning asked for (numpy reads it only on import)."""
    return all(environ.get(name) == value for name, value in PINNED_ENVIRONMENT.items())


def _openblas() -> tuple[str, int] | None:
    """The core type and thread count of the OpenBLAS this numpy loaded, if it is one we know."""
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return None
    paths = sorted({line.split()[-1] for line in maps if "openblas" in line.rsplit("/", 1)[-1]})
    for path in paths:
        library = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
            corename = getattr(library, f"{prefix}_get_corename{suffix}", None)
            threads = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
            if corename is not None and threads is not None:
                corename.restype = ctypes.c_char_p
                return corename().decode(), int(threads())
    return None


def active() -> str:
    """The kernels this process runs, read back from numpy and OpenBLAS."""
    features = _cpu_features()
    level = next((name for name in ("X86_V4", "X86_V3", "X86_V2") if features.get(name)), "?")
    blas = _openblas()
    blas_text = f"OpenBLAS {blas[0]}, {blas[1]} threads" if blas else "BLAS unknown"
    return f"numpy {level}, {blas_text}"


def describe() -> str:
    """One line for the training report: which kernels this process runs."""
    kernels = active()
    if kernels == PINNED_KERNELS:
        return f"kernels  pinned: {kernels}"
    return f"kernels  {kernels}: not the pinned ones, the bytes will differ from the shipped file"


def run_pinned(args: Sequence[str]) -> int:
    """Run ``python -m townhall.moderation.toxicity ARGS`` in a child process with the kernels
    pinned, its output passed through; the child's exit status. The child imports the same
    townhall as this process, whatever else is installed."""
    root = str(Path(__file__).resolve().parents[3])
    search = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    environ = {**os.environ, **PINNED_ENVIRONMENT, "PYTHONPATH": search}
    command = [sys.executable, "-m", MODULE, *args]
    status = subprocess.run(command, env=environ, check=False).returncode  # noqa: S603 - our module
    if status < 0:
        print(f"error: training was stopped by signal {-status} (out of memory?)", file=sys.stderr)
        return 1
    return status
