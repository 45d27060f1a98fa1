"""Isso's "generic" JSON import format.

``[{"id": "/posts/0001/", "title": "Test+post", "comments": [{"id": 0, "author", "email",
"website", "remote_addr", "created": "2005-02-24 04:03:37", "text"}]}]``: the thread id is a
page path, titles may be URL-encoded, ``created`` has no zone (read in ``--timezone``, UTC by
default), comment ids repeat across threads. Optional ``parent`` (a comment id of the same
thread) is honoured when present.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from townhall.importers.cleaning import (
    clean_email,
    clean_ip,
    clean_name,
    clean_title,
    clean_website,
    maybe_url_decoded_title,
    parse_time,
    raw_text,
    text_value,
)
from townhall.importers.files import open_input
from townhall.importers.jsonstream import JsonStream, JsonSyntaxError
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
from townhall.types import CommentStatus


def _ident(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | str):
        return str(value).strip()
    return ""


def read(path: Path, ctx: ReadContext) -> Iterator[Record]:
    with open_input(path, ctx) as handle:
        stream = JsonStream(handle)
        if stream.peek() != "[":
            raise UnreadableFile(
                "this is not Isso's generic JSON: it does not start with a JSON array"
            )
        count = 0  # threads that are at least JSON objects
        try:
            for number, line in enumerate(stream.array(), start=1):
                thread = stream.value()
                count += isinstance(thread, dict)
                ctx.progress(stream.bytes_read)
                yield from _thread(thread, line, ctx, number)
        except JsonSyntaxError as exc:
            if count == 0:
                raise UnreadableFile(f"this is not valid JSON: {exc}") from None
            yield Problem(
                f"not valid JSON ({exc.message}): the rest of the file was not read",
                exc.line,
                reason=SkipReason.MALFORMED,
            )


def _thread(item: Any, line: int, ctx: ReadContext, number: int) -> Iterator[Record]:
    if not isinstance(item, dict):
        yield Problem(
            "a thread must be a JSON object", line, f"thread {number}", SkipReason.MALFORMED
        )
        return
    uri = text_value(item.get("id"))
    label = f"thread {uri}" if uri else f"thread {number}"
    comments = item.get("comments")
    if not uri or not isinstance(comments, list):
        yield Problem(
            'a thread needs an "id" (its page path) and a "comments" list',
            line,
            label,
            SkipReason.MALFORMED,
        )
        return
    yield ThreadRecord(
        source_key=uri,
        url=uri,
        title=maybe_url_decoded_title(clean_title(text_value(item.get("title")))),
        line=line,
    )
    for index, comment in enumerate(comments):
        yield from _comment(comment, uri, line, index, ctx)


def _comment(item: Any, thread: str, line: int, index: int, ctx: ReadContext) -> Iterator[Record]:
    if not isinstance(item, dict):
        yield Problem(
            "a comment must be a JSON object",
            line,
            f"comment #{index + 1} of {thread}",
            SkipReason.MALFORMED,
        )
        return
    cid = _ident(item.get("id"))
    label = f"comment {cid} of {thread}" if cid else f"comment #{index + 1} of {thread}"
    created_text = text_value(item.get("created"))
    created = parse_time(created_text, ctx.timezone)
    if created is None:
        yield Problem(f"created {created_text!r} is not a date", line, label, SkipReason.MALFORMED)
        return
    text = raw_text(item.get("text"))
    if not cid:
        cid = f"#{index + 1}"
    parent = _ident(item.get("parent"))
    yield CommentRecord(
        source_thread=thread,
        source_id=cid,
        parent_id=parent or None,
        created_at=created,
        body=text,
        body_format=BodyFormat.MARKDOWN_HTML,
        status=CommentStatus.PUBLISHED,
        author_name=clean_name(text_value(item.get("author"))),
        author_email=clean_email(text_value(item.get("email"))),
        author_website=clean_website(text_value(item.get("website"))),
        ip=clean_ip(text_value(item.get("remote_addr"))),
        line=line,
        label=label,
    )
