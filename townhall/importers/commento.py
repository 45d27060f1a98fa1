"""Commento's JSON export, version 1 (Comentario imports the same format).

``{"version": 1, "comments": [...], "commenters": [...]}``: a comment names its page by
``domain`` + ``url`` (a path), its author by ``commenterHex`` (``"anonymous"`` for guests),
its parent by ``parentHex`` (``"root"`` at the top). ``html`` is usually empty in exports, so
the Markdown source is rendered like a new comment. The list of commenters comes after the
comments; the pipeline joins them. ``"undefined"`` stands for a missing email or link.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from townhall.importers.cleaning import (
    clean_email,
    clean_name,
    clean_website,
    parse_time,
    raw_text,
    text_value,
)
from townhall.importers.files import open_input
from townhall.importers.jsonstream import JsonStream, JsonSyntaxError
from townhall.importers.records import (
    AuthorRecord,
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

_STATES = {
    "approved": CommentStatus.PUBLISHED,
    "unapproved": CommentStatus.PENDING,
    "flagged": CommentStatus.SPAM,
}


def read(path: Path, ctx: ReadContext) -> Iterator[Record]:
    with open_input(path, ctx) as handle:
        stream = JsonStream(handle)
        if stream.peek() != "{":
            raise UnreadableFile(
                "this is not a Commento export: it does not start with a JSON object"
            )
        seen_threads: set[str] = set()
        domains: set[str] = set()
        found_comments = False
        try:
            for key, line in stream.items():
                if key == "version":
                    version = stream.value()
                    if version != 1:
                        yield Problem(f"export version {version!r}: read as version 1", line)
                elif key == "comments":
                    found_comments = True
                    for line in stream.array():
                        item = stream.value()
                        ctx.progress(stream.bytes_read)
                        yield from _comment(item, line, ctx, seen_threads, domains)
                elif key == "commenters":
                    for line in stream.array():
                        yield from _commenter(stream.value(), line)
                else:
                    stream.value()
        except JsonSyntaxError as exc:
            if not found_comments:
                raise UnreadableFile(f"this is not valid JSON: {exc}") from None
            yield Problem(
                f"not valid JSON ({exc.message}): the rest of the file was not read",
                exc.line,
                reason=SkipReason.MALFORMED,
            )
        if not found_comments:
            raise UnreadableFile('this is not a Commento export: it has no "comments" list')
        if len(domains) > 1:
            yield Problem(
                f"the export holds {len(domains)} domains ({', '.join(sorted(domains))}); all "
                "were imported into one site, threads with the same path merged"
            )


def _comment(
    item: Any, line: int, ctx: ReadContext, seen: set[str], domains: set[str]
) -> Iterator[Record]:
    if not isinstance(item, dict):
        yield Problem("a comment must be a JSON object", line, "comment", SkipReason.MALFORMED)
        return
    hex_id = text_value(item.get("commentHex"))
    label = f"comment {hex_id[:12]}" if hex_id else "comment without commentHex"
    path = text_value(item.get("url"))
    domain = text_value(item.get("domain"))
    if not hex_id or not path:
        yield Problem("commentHex and url are required", line, label, SkipReason.MALFORMED)
        return
    created = parse_time(text_value(item.get("creationDate")), ctx.timezone)
    if created is None:
        yield Problem("creationDate is not a date", line, label, SkipReason.MALFORMED)
        return
    thread = domain + path
    if thread not in seen:
        seen.add(thread)
        if domain:
            domains.add(domain)
        url = f"https://{domain}{path if path.startswith('/') else '/' + path}" if domain else path
        yield ThreadRecord(source_key=thread, url=url, line=line)
    state = text_value(item.get("state")).lower() or "approved"
    status = _STATES.get(state)
    if status is None:
        yield Problem(f"state {state!r} is unknown: imported as pending", line, label)
        status = CommentStatus.PENDING
    if item.get("deleted") is True:
        status = CommentStatus.DELETED
    markdown = raw_text(item.get("markdown"))
    html = raw_text(item.get("html"))
    body, body_format = (
        (markdown, BodyFormat.MARKDOWN)
        if markdown.strip() or not html
        else (
            html,
            BodyFormat.HTML,
        )
    )
    score = item.get("score")
    score = score if isinstance(score, int) and not isinstance(score, bool) else 0
    commenter = text_value(item.get("commenterHex"))
    parent = text_value(item.get("parentHex"))
    yield CommentRecord(
        source_thread=thread,
        source_id=hex_id,
        parent_id=None if parent in ("", "root") else parent,
        created_at=created,
        body=body,
        body_format=body_format,
        status=status,
        author_ref=None if commenter in ("", "anonymous") else commenter,
        likes=max(score, 0),
        dislikes=max(-score, 0),
        line=line,
        label=label,
    )


def _commenter(item: Any, line: int) -> Iterator[Record]:
    if not isinstance(item, dict) or not text_value(item.get("commenterHex")):
        yield Problem("a commenter without commenterHex was ignored", line)
        return
    anonymous = text_value(item.get("provider")) == "anon"
    name = clean_name(text_value(item.get("name")))
    if anonymous and name.lower() in ("blank", "anonymous"):
        name = ""
    yield AuthorRecord(
        ref=text_value(item.get("commenterHex")),
        name=name,
        email=None if anonymous else clean_email(text_value(item.get("email"))),
        website=None if anonymous else clean_website(text_value(item.get("link"))),
        anonymous=anonymous,
    )
