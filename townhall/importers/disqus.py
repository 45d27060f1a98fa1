"""Disqus XML exports (``<disqus xmlns="http://disqus.com">``).

Categories, threads and posts are flat siblings; a post names its thread and parent by
``dsq:id``. Every quirk handled here is listed in tests/fixtures/imports/QUIRKS.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

from townhall.importers.cleaning import (
    boolean,
    clean_email,
    clean_ip,
    clean_name,
    clean_title,
    parse_time,
)
from townhall.importers.records import (
    BodyFormat,
    CommentRecord,
    Problem,
    ReadContext,
    Record,
    SkipReason,
    ThreadRecord,
    UnreadableFile,
)
from townhall.importers.xmlstream import XmlRecord, stream_records
from townhall.types import CommentStatus

NS = "{http://disqus.com}"
DSQ_ID = "{http://disqus.com/disqus-internals}id"
_RECORDS = frozenset({NS + "post", NS + "thread", NS + "category"})
# A record's own start tag: never the self-closing <thread dsq:id="1"/> inside a post.
_RESYNC = re.compile(rb"<(post|thread|category)\b[^>/]*>")


def _wanted(tag: str, depth: int) -> bool:
    return depth == 1 and tag in _RECORDS


def _root_check(tag: str) -> None:
    if tag != NS + "disqus":
        raise UnreadableFile(
            f"this is not a Disqus export: its root element is <{tag.rpartition('}')[2]}>, "
            "not <disqus xmlns=\"http://disqus.com\"> (try format 'auto')"
        )


def _label(elem: Element) -> str:
    name = elem.tag.rpartition("}")[2]
    ident = elem.get(DSQ_ID)
    return f"{name} {ident}" if ident else f"{name} without dsq:id"


def _children(elem: Element) -> dict[str, Element]:
    """A record's children by local name (the first of each), looked up once."""
    found: dict[str, Element] = {}
    for child in elem:
        found.setdefault(child.tag.rpartition("}")[2], child)
    return found


def _text(fields: dict[str, Element], name: str) -> str:
    child = fields.get(name)
    if child is None:
        return ""
    # Nested markup (a message not escaped as CDATA): all of its text.
    text = "".join(child.itertext()) if len(child) else (child.text or "")
    return text.strip()


def _ref(fields: dict[str, Element], name: str) -> str | None:
    child = fields.get(name)
    if child is None:
        return None
    value = (child.get(DSQ_ID) or "").strip()
    return value or None


def read(path: Path, ctx: ReadContext) -> Iterator[Record]:
    for item in stream_records(
        path,
        ctx,
        wanted=_wanted,
        record_depth=1,
        resync=_RESYNC,
        root_check=_root_check,
        label=_label,
    ):
        if isinstance(item, Problem):
            yield item
            continue
        yield from _record(item, ctx)


def _record(item: XmlRecord, ctx: ReadContext) -> Iterator[Record]:
    elem, line = item.element, item.line
    tag = elem.tag
    if tag == NS + "thread":
        yield from _thread(elem, line)
    elif tag == NS + "post":
        yield from _post(elem, line, ctx)


def _thread(elem: Element, line: int) -> Iterator[Record]:
    fields = _children(elem)
    ident = elem.get(DSQ_ID, "").strip()
    if not ident:
        yield Problem("thread without dsq:id: its posts cannot name it", line, "thread")
        return
    closed = boolean(_text(fields, "isClosed"))
    deleted = boolean(_text(fields, "isDeleted"))
    yield ThreadRecord(
        source_key=ident,
        url=_text(fields, "link"),
        identifier=_text(fields, "id"),
        title=clean_title(_text(fields, "title")),
        closed=bool(closed),
        deleted=bool(deleted),
        created_at=parse_time(_text(fields, "createdAt")),
        line=line,
    )


def _post(elem: Element, line: int, ctx: ReadContext) -> Iterator[Record]:
    label = _label(elem)
    fields = _children(elem)
    thread = _ref(fields, "thread")
    if thread is None:
        yield Problem("the post names no thread", line, label, SkipReason.MALFORMED)
        return
    created_text = _text(fields, "createdAt")
    created = parse_time(created_text, ctx.timezone)
    if created is None:
        yield Problem(
            f"createdAt {created_text!r} is not a date", line, label, SkipReason.MALFORMED
        )
        return
    spam, deleted = boolean(_text(fields, "isSpam")), boolean(_text(fields, "isDeleted"))
    if spam is None or deleted is None:
        yield Problem("isSpam/isDeleted must be true or false", line, label, SkipReason.MALFORMED)
        return
    message_elem = fields.get("message")
    body = "" if message_elem is None else "".join(message_elem.itertext())
    author_elem = fields.get("author")
    name = email = None
    if author_elem is not None:
        author = _children(author_elem)
        name = _text(author, "name") or _text(author, "username")
        email = clean_email(_text(author, "email"))
    source_id = elem.get(DSQ_ID, "").strip()
    if not source_id:
        # A post needs an id to be imported once only; derive a stable one from its content.
        digest = hashlib.sha256(
            "\0".join((thread, created_text, name or "", body)).encode()
        ).hexdigest()[:20]
        source_id = f"sha256:{digest}"
        yield Problem(
            f"no dsq:id: imported under the content-derived id {source_id} "
            "(replies cannot point at it)",
            line,
            label,
        )
    status = CommentStatus.PUBLISHED
    if spam:
        status = CommentStatus.SPAM
    elif deleted:
        status = CommentStatus.DELETED
    yield CommentRecord(
        source_thread=thread,
        source_id=source_id,
        parent_id=_ref(fields, "parent"),
        created_at=created,
        body=body,
        body_format=BodyFormat.HTML,
        status=status,
        author_name=clean_name(name),
        author_email=email,
        ip=clean_ip(_text(fields, "ipAddress")),
        line=line,
        label=label,
    )
