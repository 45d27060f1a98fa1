"""The numeric kernels training runs on, pinned so that every x86-64 CPU writes the same bytes.

numpy and OpenBLAS pick their code for the CPU once, when numpy is imported: numpy's SIMD loops
(AVX-512 ``exp``/``log`` and AVX2 ``tanh`` where the CPU has them), OpenBLAS's matrix kernels
(SkylakeX on an AVX-512 Xeon, Haswell on an AVX2 EPYC) and its number of threads. Each gives
results that differ in the last bit. The regression alone forgave that (held-out scores moved by
0.0008 at most between the two CPUs), but the network's 800 L-BFGS iterations on a non-convex
objective amplify it: the same data and seed trained on the Intel Xeon and on the AMD EPYC kind
of this project's CI machines gave held-out scores up to 0.55 apart and thresholds 0.01 apart.

So training runs in a process that starts with the choices fixed to what both CPUs have: numpy's
X86_V3 (AVX2 + FMA) loops, OpenBLAS's Haswell kernels, two OpenBLAS threads. A CPU without AVX2
and FMA, or with a single core, or another architecture, trains with its own kernels: the model
is as good, its bytes differ from the shipped file.
"""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence

PINNED_ENVIRONMENT: Mapping[str, str] = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Haswell",
    "OPENBLAS_NUM_THREADS": "2",
}


def can_pin() -> bool:
    """Whether this CPU runs the pinned kernels: x86-64 with AVX2 and FMA (numpy's X86_V3)."""
    if platform.machine().lower() not in {"x86_64", "amd64"}:
        return False
    features = importlib.import_module("numpy._core._multiarray_umath").__cpu_features__
    return bool(features.get("AVX2")) and bool(features.get("FMA3"))


def pinned(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process started with the pinned kernels (numpy reads them only on import)."""
    return all(environ.get(name) == value for name, value in PINNED_ENVIRONMENT.items())


def describe() -> str:
    """One line for the training report: which kernels this process runs."""
    if pinned():
        return "kernels  pinned: " + ", ".join(f"{k}={v}" for k, v in PINNED_ENVIRONMENT.items())
    return "kernels  this CPU's own, not pinned: the bytes will differ from the shipped file"


def run_pinned(args: Sequence[str]) -> int:
    """Run ``python -m townhall.moderation.toxicity ARGS`` in a child process with the kernels
    pinned, its output passed through; the child's exit status."""
    environ = {**os.environ, **PINNED_ENVIRONMENT}
    command = [sys.executable, "-m", "townhall.moderation.toxicity", *args]
    return subprocess.run(command, env=environ, check=False).returncode  # noqa: S603 - our module
