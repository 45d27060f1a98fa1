"""Opening an export file: plain, or gzip-compressed as Disqus sends it (``.xml.gz``).

A damaged or cut-off gzip stream ends the input where it breaks (what came before is read
and imported) and the damage is reported; it never surfaces as a traceback."""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol

from townhall.importers.records import Problem, ReadContext, UnreadableFile

GZIP_MAGIC = b"\x1f\x8b"
_BROKEN = (OSError, EOFError, zlib.error)


def _cannot(path: Path, exc: BaseException) -> UnreadableFile:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    return UnreadableFile(f"cannot read {path}: {reason}")


def is_gzip(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(2) == GZIP_MAGIC
    except OSError as exc:
        raise _cannot(path, exc) from None


class BinaryInput(Protocol):
    """What readers use of an input file (a plain file or ``GzipInput``)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...

    def __iter__(self) -> Iterator[bytes]: ...


class GzipInput:
    """A gzip file read like a plain one; corruption becomes the end of the input."""

    def __init__(self, path: Path, ctx: ReadContext | None) -> None:
        self.path = path
        self.ctx = ctx
        self.file = gzip.open(path, "rb")  # noqa: SIM115 (closed by close())
        self.broken = False

    def _damaged(self, exc: BaseException) -> None:
        if self.broken:
            return
        self.broken = True
        if self.ctx is not None:
            self.ctx.notes.append(
                Problem(f"the gzip file is damaged or cut short ({exc}): read up to there")
            )

    def read(self, size: int = -1) -> bytes:
        # Small steps: a failing step loses only itself, not what came before it.
        pieces: list[bytes] = []
        remaining = size
        while remaining != 0 and not self.broken:
            try:
                piece = self.file.read1(65536 if remaining < 0 else min(remaining, 65536))
            except _BROKEN as exc:
                self._damaged(exc)
                break
            if not piece:
                break
            pieces.append(piece)
            remaining -= len(piece) if remaining > 0 else 0
        return b"".join(pieces)

    def readline(self) -> bytes:
        if self.broken:
            return b""
        try:
            return self.file.readline()
        except _BROKEN as exc:
            self._damaged(exc)
            return b""

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def seek(self, offset: int, whence: int = 0) -> int:
        try:
            return self.file.seek(offset, whence)
        except _BROKEN as exc:
            self._damaged(exc)
            return self.file.tell()

    def tell(self) -> int:
        return self.file.tell()

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> GzipInput:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_input(path: Path, ctx: ReadContext | None = None) -> IO[bytes] | GzipInput:
    """The file's bytes, decompressed on the fly when it is gzip (seekable either way)."""
    try:
        return GzipInput(path, ctx) if is_gzip(path) else path.open("rb")
    except OSError as exc:
        raise _cannot(path, exc) from None


def input_size(path: Path) -> int:
    """How many bytes ``open_input`` will give: for gzip, the size its trailer records
    (modulo 4 GiB, as the format stores it)."""
    try:
        size = path.stat().st_size
        if not is_gzip(path) or size < 18:
            return size
        with path.open("rb") as f:
            f.seek(-4, 2)
            (uncompressed,) = struct.unpack("<I", f.read(4))
        return int(uncompressed) or size
    except OSError as exc:
        raise _cannot(path, exc) from None


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes (decompressed)."""
    with open_input(path) as f:
        return f.read(size)
