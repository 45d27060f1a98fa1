"""Reading big XML exports record by record, in constant memory, without trusting them.

* Hardened: defusedxml's parser refuses entity declarations and external references, so no
  entity is ever expanded (billion laughs, XXE).
* Streaming: the file is fed in 1 MiB chunks; only the elements of the record being read are
  built, and each record is handed over and dropped as soon as it ends.
* Recovering: expat stops at the first error. We then report the record that was open (with
  its line), look for the start of the next record after the error and go on with a fresh
  parser primed with the open ancestors (so namespaces still resolve). A stray character
  before ``<?xml`` (remark42's fixtures start with a backtick) and control characters that
  XML forbids are dealt with before parsing and reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement
from xml.parsers.expat import ExpatError

from defusedxml.common import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from townhall.importers.files import BinaryInput, open_input
from townhall.importers.records import Problem, ReadContext, SkipReason, UnreadableFile

CHUNK = 1 << 20
_ILLEGAL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ILLEGAL_TO_SPACE = bytes.maketrans(
    bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]), b" " * 29
)
_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_SINGLE_BYTE_SAFE = re.compile(
    r"^(utf-?8|us-ascii|ascii|iso-8859-\d+|latin-?1|windows-125\d)$", re.I
)
MAX_ERRORS = 10_000


@dataclass(frozen=True, slots=True)
class XmlRecord:
    element: Element
    line: int
    child_lines: tuple[int, ...] = ()  # the start line of each direct child, in order


class _Target:
    """A TreeBuilder that builds only the wanted records and remembers where they start."""

    def __init__(
        self,
        wanted: Callable[[str, int], bool],
        root_check: Callable[[str], None],
        record_depth: int,
    ):
        self.wanted = wanted
        self.record_depth = record_depth  # how many ancestors a record has
        self.root_check = root_check
        self.expat: Any = None
        self.line_base = 0
        self.outer: list[tuple[str, list[tuple[str, str]]]] = []  # open non-record ancestors
        self.pending_ns: list[tuple[str, str]] = []
        self.building: list[Element] = []
        self.record_line = 0
        self.child_lines: list[int] = []
        self.done: list[XmlRecord] = []
        self.root_seen = False
        self._data: list[str] = []
        self._last: Element | None = None
        self._tail = False
        self._names: dict[str, str] = {}

    def _flush(self) -> None:
        if self._data:
            if self._last is not None:
                text = "".join(self._data)
                if self._tail:
                    self._last.tail = (self._last.tail or "") + text
                else:
                    self._last.text = (self._last.text or "") + text
            self._data = []

    def _name(self, raw: str) -> str:
        """expat's ``uri}local`` as ElementTree's ``{uri}local`` (cached: few distinct names)."""
        name = self._names.get(raw)
        if name is None:
            name = "{" + raw if "}" in raw else raw
            self._names[raw] = name
        return name

    def start_ns(self, prefix: str | None, uri: str) -> None:
        self.pending_ns.append((prefix or "", uri))

    def start(self, raw: str, raw_attrib: dict[str, str]) -> None:
        tag = self._name(raw)
        attrib = {self._name(k): v for k, v in raw_attrib.items()} if raw_attrib else {}
        if self.pending_ns:
            decls, self.pending_ns = self.pending_ns, []
        else:
            decls = []
        building = self.building
        if building:
            if self._data:
                self._flush()
            elem = SubElement(building[-1], tag, attrib)
            if len(building) == 1:
                self.child_lines.append(self.line_base + self.expat.CurrentLineNumber)
            building.append(elem)
        elif self.wanted(tag, len(self.outer)):
            elem = Element(tag, attrib)
            self.building = [elem]
            self.record_line = self.line_base + self.expat.CurrentLineNumber
            self.child_lines = []
            self._data = []
        else:
            if not self.root_seen:
                self.root_seen = True
                self.root_check(tag)
            self.outer.append((tag, decls))
            return
        self._last = elem
        self._tail = False

    def data(self, text: str) -> None:
        if self.building:
            self._data.append(text)

    def end(self, raw: str) -> None:
        if not self.building:
            if self.outer:
                self.outer.pop()
            return
        if self._data:
            self._flush()
        elem = self.building.pop()
        self._last = elem
        self._tail = True
        if not self.building:
            self.done.append(XmlRecord(elem, self.record_line, tuple(self.child_lines)))
            self._last = None
            self._data = []

    def open_record(self) -> Element | None:
        return self.building[0] if self.building else None

    def primer(self) -> str:
        """Start tags re-opening the current ancestors, for a parser that resumes mid-file."""
        # Only the ancestors of records: an element that was open where the error hit
        # (a broken <title> beside the items) is not reopened.
        outer = self.outer[: self.record_depth]
        decls: dict[str, str] = {}
        for _, own in outer:
            decls.update(dict(own))
        by_uri = {uri: prefix for prefix, uri in decls.items()}
        extra: dict[str, str] = {}
        names = []
        for tag, _ in outer:
            if tag.startswith("{"):
                uri, _, local = tag[1:].partition("}")
                prefix = by_uri.get(uri)
                if prefix is None:
                    prefix = f"tns{len(extra)}"
                    extra[prefix] = uri
                    by_uri[uri] = prefix
                names.append(f"{prefix}:{local}" if prefix else local)
            else:
                names.append(tag)
        decls.update(extra)
        attrs = "".join(
            f' xmlns:{p}="{_attr(u)}"' if p else f' xmlns="{_attr(u)}"' for p, u in decls.items()
        )
        if not names:
            return ""
        return f"<{names[0]}{attrs}>" + "".join(f"<{n}>" for n in names[1:])


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _expat_message(exc: ExpatError) -> str:
    text = str(exc)
    return text.split(":", 1)[0] if ": line" in text else text


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def default_label(elem: Element) -> str:
    name = _local(elem.tag)
    for key, value in elem.attrib.items():
        if _local(key) == "id":
            return f"{name} {value}"
    return name


def stream_records(
    path: Path,
    ctx: ReadContext,
    *,
    wanted: Callable[[str, int], bool],
    record_depth: int,
    resync: re.Pattern[bytes],
    root_check: Callable[[str], None],
    label: Callable[[Element], str] = default_label,
) -> Iterator[XmlRecord | Problem]:
    """Yield each wanted element (whole, with its start line) and a Problem for each part of
    the file that could not be read. Records sit ``record_depth`` elements deep (1: children
    of the root). Raises UnreadableFile when nothing can be read."""
    with open_input(path, ctx) as handle:
        yield from _stream(handle, ctx, wanted, record_depth, resync, root_check, label)


def _stream(
    handle: BinaryInput,
    ctx: ReadContext,
    wanted: Callable[[str, int], bool],
    record_depth: int,
    resync: re.Pattern[bytes],
    root_check: Callable[[str], None],
    label: Callable[[Element], str],
) -> Iterator[XmlRecord | Problem]:
    head = handle.read(CHUNK)
    if not head.strip():
        raise UnreadableFile("the file is empty")
    start = 0
    wide = head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:4] in (b"<\x00?\x00", b"\x00<\x00?")
    if head.startswith(b"\xef\xbb\xbf"):
        start = 3
    if not wide:
        first = head.find(b"<", start)
        if first < 0:
            raise UnreadableFile("this is not an XML file: it has no tags")
        junk = head[start:first].strip()
        if junk:
            shown = junk[:20].decode("utf-8", "replace")
            yield Problem(
                f"{len(junk)} stray character(s) before the XML start ({shown!r}) were ignored",
                line=1,
            )
        start = first
    declared = _ENCODING.match(head[start:])
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    filter_controls = not wide and bool(_SINGLE_BYTE_SAFE.match(encoding))
    prolog = f'<?xml version="1.0" encoding="{encoding}"?>' if declared else ""

    base_offset = start  # file offset of the first file byte this parser was fed
    base_line = 1 + head[:start].count(b"\n")
    prefix = b""  # primer fed to a resumed parser before the file bytes
    pending = head[start:]
    target = _Target(wanted, root_check, record_depth)
    parser = _new_parser(target, base_line)
    last_resume = -1
    controls = 0
    counted_to = 0
    errors = 0

    while True:
        if pending:
            chunk, chunk_at, pending = pending, start, b""
        else:
            chunk_at = handle.tell()
            chunk = handle.read(CHUNK)
        if filter_controls and chunk and _ILLEGAL.search(chunk):
            # A resumed parser reads some bytes twice; count each character once.
            fresh = max(0, counted_to - chunk_at)
            controls += len(_ILLEGAL.findall(chunk, fresh))
            chunk = chunk.translate(_ILLEGAL_TO_SPACE)
        counted_to = max(counted_to, chunk_at + len(chunk))
        try:
            if chunk:
                parser.Parse(chunk, False)
            else:
                parser.Parse(b"", True)
        except DefusedXmlException as exc:
            raise UnreadableFile(
                "the file declares XML entities or external references "
                f"({exc.__class__.__name__}); townhall never expands them, for safety. "
                "Remove the <!DOCTYPE> block and try again."
            ) from None
        except ExpatError as exc:
            yield from target.done
            target.done.clear()
            line = base_line + exc.lineno - 1
            where = f"line {line}, column {exc.offset}"
            why = _expat_message(exc)
            if not target.root_seen:
                raise UnreadableFile(f"this is not well-formed XML: {why} at {where}") from None
            errors += 1
            open_record = target.open_record()
            if not chunk:  # end of file
                if open_record is not None:
                    yield Problem(
                        f"the file ends inside this record ({why} at {where}): truncated?",
                        line=target.record_line,
                        record=label(open_record),
                        reason=SkipReason.MALFORMED,
                    )
                elif target.outer:
                    yield Problem(
                        f"the file ends before its closing tags ({why} at {where}): "
                        "truncated? Every complete record was read.",
                        line=line,
                    )
                break
            if open_record is not None:
                yield Problem(
                    f"not well-formed XML at {where} ({why}); the record was skipped",
                    line=target.record_line,
                    record=label(open_record),
                    reason=SkipReason.MALFORMED,
                )
            error_offset = base_offset + max(0, parser.ErrorByteIndex - len(prefix))
            if open_record is None:
                yield Problem(
                    f"not well-formed XML at {where} ({why}); what it held was skipped",
                    line=line,
                    record="near " + _snippet(handle, error_offset),
                    reason=SkipReason.MALFORMED,
                )
            if errors > MAX_ERRORS:
                yield Problem(f"more than {MAX_ERRORS} XML errors: reading stopped at {where}")
                break
            search_from = max(error_offset, last_resume + 1)
            found, newlines = _find_next(handle, error_offset, search_from, resync)
            if found is None:  # nothing after the error starts a record: nothing more to read
                break
            if wide:  # a UTF-16 file cannot be resumed with an ASCII primer
                break
            # The primer is ASCII (tag names, namespace URIs), valid in the file's encoding.
            prefix = (prolog + target.primer()).encode("ascii", "xmlcharrefreplace")
            target = _Target(wanted, root_check, record_depth)
            target.root_seen = True
            base_line = line + newlines
            base_offset = last_resume = found
            parser = _new_parser(target, base_line)
            try:
                parser.Parse(prefix, False)
            except ExpatError:  # pragma: no cover - the primer is our own well-formed text
                break
            handle.seek(found)
            ctx.progress(found)
            continue
        yield from target.done
        target.done.clear()
        if not chunk:
            break
        ctx.progress(handle.tell())
    if controls:
        yield Problem(
            f"{controls} control character(s) that XML does not allow were read as spaces"
        )


def _snippet(handle: BinaryInput, offset: int) -> str:
    """The text of the line around ``offset`` (at most 60 characters), for error messages."""
    begin = max(0, offset - 200)
    handle.seek(begin)
    data = handle.read(400)
    at = offset - begin
    line_start = data.rfind(b"\n", 0, at) + 1
    line_end = data.find(b"\n", at)
    text = data[line_start : line_end if line_end >= 0 else len(data)].strip()
    return repr(text[:60].decode("utf-8", "replace"))


def _new_parser(target: _Target, line_base: int) -> Any:
    """defusedxml's hardened expat parser (entity declarations and external references
    refused by its handlers), with our own element and text handlers on the same expat
    object: one Python call per event instead of two."""
    guarded = DefusedXMLParser(forbid_dtd=False)
    expat = guarded.parser
    expat.ordered_attributes = False
    expat.buffer_text = True
    expat.StartElementHandler = target.start
    expat.EndElementHandler = target.end
    expat.CharacterDataHandler = target.data
    expat.StartNamespaceDeclHandler = target.start_ns
    expat.EndNamespaceDeclHandler = None
    expat.CommentHandler = None
    expat.ProcessingInstructionHandler = None
    expat.DefaultHandlerExpand = None
    target.expat = expat
    target.line_base = line_base - 1
    return expat


def _find_next(
    handle: BinaryInput, counted_from: int, offset: int, pattern: re.Pattern[bytes]
) -> tuple[int | None, int]:
    """The file offset of the next record start at or after ``offset``, and the number of
    newlines between ``counted_from`` and it."""
    handle.seek(counted_from)
    newlines = handle.read(offset - counted_from).count(b"\n") if offset > counted_from else 0
    handle.seek(offset)
    carry = b""
    carry_at = offset
    while True:
        block = handle.read(CHUNK)
        if not block:
            return None, newlines
        data = carry + block
        match = pattern.search(data)
        if match:
            return carry_at + match.start(), newlines + data[: match.start()].count(b"\n")
        keep = min(len(data), 512)
        newlines += data[: len(data) - keep].count(b"\n")
        carry = data[len(data) - keep :]
        carry_at += len(data) - keep
