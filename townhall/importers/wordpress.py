"""WordPress WXR exports (RSS 2.0 with ``wp:`` elements), versions 1.0 to 1.2.

The ``wp`` namespace URI differs by version and even by scheme
(``http://wordpress.org/export/1.0/`` ... ``https://wordpress.org/export/1.2/``), so elements are
matched by a pattern of namespace, never by one literal URI. Comments are ``wp:comment``
children of each ``<item>`` (post, page or attachment).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

from townhall.importers.cleaning import (
    clean_email,
    clean_ip,
    clean_name,
    clean_title,
    clean_website,
    parse_time,
)
from townhall.importers.records import (
    BodyFormat,
    CommentKind,
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

WP_NAMESPACE = re.compile(r"^\{https?://wordpress\.org/export/\d+\.\d+/?\}")
_RESYNC = re.compile(rb"<item\b[^>/]*>")
_APPROVED = {
    "1": CommentStatus.PUBLISHED,
    "approve": CommentStatus.PUBLISHED,
    "0": CommentStatus.PENDING,
    "hold": CommentStatus.PENDING,
    "spam": CommentStatus.SPAM,
    "trash": CommentStatus.DELETED,
    "post-trashed": CommentStatus.DELETED,
}
_KINDS = {
    "": CommentKind.COMMENT,
    "comment": CommentKind.COMMENT,
    "pingback": CommentKind.PINGBACK,
    "trackback": CommentKind.TRACKBACK,
}


def _wanted(tag: str, depth: int) -> bool:
    return tag == "item" and depth == 2  # <rss><channel><item>


def _root_check(tag: str) -> None:
    if tag != "rss":
        raise UnreadableFile(
            f"this is not a WordPress export (WXR): its root element is "
            f"<{tag.rpartition('}')[2]}>, not <rss> (try format 'auto')"
        )


def _item_label(item: Element) -> str:
    post_id = _value(_wp(item), "post_id")
    return f"item {post_id}" if post_id else "item"


def _wp(elem: Element) -> dict[str, Element]:
    """The ``wp:`` children of an element by local name (the first of each name)."""
    found: dict[str, Element] = {}
    for child in elem:
        match = WP_NAMESPACE.match(child.tag)
        if match:
            found.setdefault(child.tag[match.end() :], child)
    return found


def _value(fields: dict[str, Element], name: str) -> str | None:
    """A field's text, stripped (CDATA or not, with or without surrounding newlines);
    None when the element is missing."""
    elem = fields.get(name)
    if elem is None:
        return None
    return "".join(elem.itertext()).strip()


def read(path: Path, ctx: ReadContext) -> Iterator[Record]:
    for item in stream_records(
        path,
        ctx,
        wanted=_wanted,
        record_depth=2,
        resync=_RESYNC,
        root_check=_root_check,
        label=_item_label,
    ):
        if isinstance(item, Problem):
            yield item
        else:
            yield from _item(item, ctx)


def _item(record: XmlRecord, ctx: ReadContext) -> Iterator[Record]:
    item, line = record.element, record.line
    fields = _wp(item)
    comments = [
        (child, record.child_lines[i] if i < len(record.child_lines) else line)
        for i, child in enumerate(item)
        if WP_NAMESPACE.match(child.tag) and child.tag.endswith("}comment")
    ]
    post_id = _value(fields, "post_id") or ""
    link = (item.findtext("link") or "").strip()
    source_key = post_id or link or f"item at line {line}"
    label = f"item {post_id}" if post_id else "item"
    if not comments:
        return
    status = (_value(fields, "status") or "").lower()
    yield ThreadRecord(
        source_key=source_key,
        url=link,
        identifier=post_id,
        title=clean_title(item.findtext("title"), unescape=True),
        closed=(_value(fields, "comment_status") or "").lower() == "closed",
        deleted=status == "trash",
        created_at=parse_time(_value(fields, "post_date_gmt")),
        line=line,
    )
    for comment, comment_line in comments:
        yield from _comment(comment, source_key, label, comment_line, ctx)


def _comment(
    elem: Element, thread: str, item_label: str, line: int, ctx: ReadContext
) -> Iterator[Record]:
    fields = _wp(elem)
    comment_id = _value(fields, "comment_id") or ""
    label = f"comment {comment_id}" if comment_id else f"comment without id in {item_label}"
    approved = (_value(fields, "comment_approved") or "1").lower()
    status = _APPROVED.get(approved)
    if status is None:
        yield Problem(f"comment_approved {approved!r} is unknown: imported as pending", line, label)
        status = CommentStatus.PENDING
    kind_text = (_value(fields, "comment_type") or "").lower()
    kind = _KINDS.get(kind_text)
    if kind is None:
        yield Problem(
            f"comment_type {kind_text!r} is not a reader comment",
            line,
            label,
            SkipReason.UNSUPPORTED,
        )
        return
    created = parse_time(_value(fields, "comment_date_gmt"))
    if created is None:
        local = _value(fields, "comment_date")
        created = parse_time(local, ctx.timezone)
        if created is None:
            yield Problem("the comment has no valid date", line, label, SkipReason.MALFORMED)
            return
        yield Problem(
            f"no usable comment_date_gmt: comment_date {local} read in {ctx.timezone}",
            line,
            label,
        )
    body = _value(fields, "comment_content") or ""
    if not comment_id:
        comment_id = (
            "sha256:"
            + hashlib.sha256("\0".join((thread, created.isoformat(), body)).encode()).hexdigest()[
                :20
            ]
        )
    parent = _value(fields, "comment_parent") or "0"
    yield CommentRecord(
        source_thread=thread,
        source_id=comment_id,
        parent_id=None if parent in ("", "0") else parent,
        created_at=created,
        body=body,
        body_format=BodyFormat.WORDPRESS,
        status=status,
        kind=kind,
        author_name=clean_name(_value(fields, "comment_author"), unescape=True),
        author_email=clean_email(_value(fields, "comment_author_email")),
        author_website=clean_website(_value(fields, "comment_author_url")),
        ip=clean_ip(_value(fields, "comment_author_IP")),
        line=line,
        label=label,
    )
