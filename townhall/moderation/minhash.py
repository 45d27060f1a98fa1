"""MinHash band signatures: which of a thread's recent comments could be a near copy of a new
one, without comparing the new text with each of them.

The flood check asks whether any of a thread's last 200 comments has a 4-gram Jaccard
similarity of 0.9 or more with the new one. Comparing exactly means building every other
comment's 4-gram set; a memo of those sets cannot hold a busy site's working set (a 300-character
comment's set is ~27 KB), so under a sustained load every post folded and shingled up to 200
texts again (issue 7: posting fell from 414 to 255 a second between a 2-second and a 40-second
run). Instead each comment stores a signature when it is written, and only the comments whose
signature shares a band with the new one are compared exactly.

The signature: ``HASHES`` MinHash values of the folded text's 4-grams, cut into ``BANDS`` bands
of ``ROWS``; each band is stored as a 16-bit hash (40 bytes a comment). Two texts of Jaccard
similarity J share a band with probability 1 - (1 - J^5)^20: for J = 0.9 all but 2·10⁻⁸ of
pairs, for J = 0.3 about 5 %, for J = 0.2 under 1 %. A shared band only makes a candidate; the
candidates are compared exactly, so a score, and a decision, is never an estimate. A 16-bit
band hash adds a false candidate for 1 pair in ~3,300, which costs only that comparison.

The hash functions are fixed (derived from constant names), so signatures written by one
process, node or version compare with any other's. Someone who knows them could in principle
edit a copy so that it shares no band with the original while keeping J >= 0.9; that takes
changing at least one of the five minimising 4-grams in each of the 20 bands with ~30 of ~300
4-grams to spend, and is a known limit (docs/moderation.md).
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

SHINGLE = 4
BANDS = 20
ROWS = 5
HASHES = BANDS * ROWS
SIZE = BANDS * 2  # bytes of a stored signature: one little-endian uint16 per band

_U64 = np.uint64


def _constant(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


# A 4-gram's code points combined into one 64-bit value, folded to 32 bits (multiply-shift),
# then HASHES affine permutations of 32-bit values (a·x + b mod 2³², a odd). 32-bit products
# vectorise where 64-bit ones do not (5x faster on an Intel Xeon); checked against the 64-bit
# multiply-shift family on 400 random pairs: the share of equal minima estimates the Jaccard
# similarity with the same bias (±0.002) and spread (0.045) as it does.
_GRAM = np.array([_constant(f"townhall.minhash.gram.{i}") | 1 for i in range(SHINGLE)], _U64)
_FOLD = _U64(_constant("townhall.minhash.fold") | 1)
_MUL = np.array([_constant(f"townhall.minhash.mul.{i}") | 1 for i in range(HASHES)], _U64)
_MUL32 = (_MUL & _U64(0xFFFFFFFF)).astype(np.uint32)
_ADD32 = (
    np.array([_constant(f"townhall.minhash.add.{i}") for i in range(HASHES)], _U64)
    & _U64(0xFFFFFFFF)
).astype(np.uint32)
_ROW = np.array([_constant(f"townhall.minhash.row.{i}") | 1 for i in range(ROWS)], _U64)


def _grams(stream: str) -> npt.NDArray[np.uint64]:
    """The 4-grams of ``stream`` as 64-bit values (a shorter text is one gram); repeats stay,
    as a minimum does not change for them (sorting them out cost a third of the time)."""
    points = np.frombuffer(stream.encode("utf-32-le"), dtype="<u4").astype(_U64)
    if len(points) <= SHINGLE:
        padded = np.zeros(SHINGLE, _U64)
        padded[: len(points)] = points
        points = padded
    n = len(points) - SHINGLE + 1
    grams: npt.NDArray[np.uint64] = points[:n] * _GRAM[0]
    for i in range(1, SHINGLE):
        grams += points[i : i + n] * _GRAM[i]
    return grams


def signature(stream: str) -> bytes:
    """The band signature of a folded text (``fold(text).stream``); ``SIZE`` bytes."""
    with np.errstate(over="ignore"):
        folded = ((_grams(stream) * _FOLD) >> _U64(32)).astype(np.uint32)
        mins = (folded[:, None] * _MUL32 + _ADD32).min(axis=0).astype(_U64)
        bands = (mins.reshape(BANDS, ROWS) * _ROW).sum(axis=1, dtype=_U64) >> _U64(48)
    return bytes(bands.astype("<u2").tobytes())


def candidates(mine: bytes, others: list[bytes | None]) -> list[bool]:
    """For each of ``others``, whether it may be a near copy of the text signed ``mine``: it
    shares a band, or it has no signature of this kind (written before signatures were, or
    by an importer) and must be compared the slow way."""
    found = [True] * len(others)
    signed = [i for i, s in enumerate(others) if s is not None and len(s) == SIZE]
    if not signed or len(mine) != SIZE:
        return found
    table = np.frombuffer(b"".join(others[i] or b"" for i in signed), dtype="<u2")
    shared = (table.reshape(len(signed), BANDS) == np.frombuffer(mine, dtype="<u2")).any(axis=1)
    for i, hit in zip(signed, shared.tolist(), strict=True):
        found[i] = hit
    return found
