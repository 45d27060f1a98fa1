"""Reading one big JSON document element by element (Commento's and Isso's exports are a
single object or array holding every comment): constant memory, line numbers for errors.

Only the structure around the records is walked by hand (``{``, ``[``, keys, commas); each
record itself is decoded by the standard library's ``raw_decode``."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

from townhall.importers.files import BinaryInput

CHUNK = 1 << 20
MAX_VALUE = 64 << 20  # one record larger than this is an error, not a reason to buffer
_WS = " \t\n\r"


class JsonSyntaxError(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"{message} at line {line}")
        self.message = message
        self.line = line


class JsonStream:
    def __init__(self, handle: BinaryInput) -> None:
        self.handle = handle
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self.json = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self.line = 1  # line of self.pos
        self.eof = False
        self.bytes_read = 0

    def _fill(self, need: int = 1) -> bool:
        """Make sure at least ``need`` characters are buffered after pos; False at EOF."""
        while len(self.buf) - self.pos < need and not self.eof:
            data = self.handle.read(CHUNK)
            self.bytes_read += len(data)
            if not data:
                self.eof = True
                self.buf = self.buf[self.pos :] + self.decoder.decode(b"", final=True)
            else:
                self.buf = self.buf[self.pos :] + self.decoder.decode(data)
            self.pos = 0
        return len(self.buf) - self.pos >= need

    def _advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def skip_ws(self) -> None:
        while True:
            if not self._fill():
                return
            end = self.pos
            size = len(self.buf)
            while end < size and self.buf[end] in _WS:
                end += 1
            self._advance(end)
            if end < size:
                return

    def peek(self) -> str:
        self.skip_ws()
        return self.buf[self.pos] if self._fill() else ""

    def expect(self, char: str) -> None:
        found = self.peek()
        if found != char:
            shown = repr(found) if found else "the end of the file"
            raise JsonSyntaxError(f"expected {char!r} but found {shown}", self.line)
        self._advance(self.pos + 1)

    def value(self) -> Any:
        """Decode the next value whole."""
        self.skip_ws()
        want = 1 << 16
        while True:
            self._fill(want)
            try:
                result, end = self.json.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof or want > MAX_VALUE:
                    line = self.line + self.buf.count("\n", self.pos, exc.pos)
                    raise JsonSyntaxError(exc.msg, line) from None
                want *= 4  # perhaps the value goes on past what is buffered
                continue
            # A number at the very end of the buffer may continue in the next chunk.
            if end >= len(self.buf) and not self.eof:
                want = len(self.buf) - self.pos + CHUNK
                continue
            self._advance(end)
            return result

    def items(self) -> Iterator[tuple[str, int]]:
        """Walk an object: yields each key (and its line); the caller must consume the value
        (``value()``, ``array()`` or ``items()``) before asking for the next key."""
        self.expect("{")
        if self.peek() == "}":
            self._advance(self.pos + 1)
            return
        while True:
            line = self.line
            key = self.value()
            if not isinstance(key, str):
                raise JsonSyntaxError("an object key must be a string", line)
            self.expect(":")
            yield key, line
            if self.peek() == ",":
                self._advance(self.pos + 1)
                continue
            self.expect("}")
            return

    def array(self) -> Iterator[int]:
        """Walk an array: yields the line of each element; the caller consumes the element."""
        self.expect("[")
        if self.peek() == "]":
            self._advance(self.pos + 1)
            return
        while True:
            self.skip_ws()
            yield self.line
            if self.peek() == ",":
                self._advance(self.pos + 1)
                continue
            self.expect("]")
            return

    def at_end(self) -> bool:
        return self.peek() == ""
