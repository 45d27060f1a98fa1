"""remark42's backup / export format (``remark42 backup``, ``import -p native``).

JSON lines: the first line is ``{"version": 1, "users": [...], "posts": [{"url",
"read_only"}]}``, then one comment per line: ``{"id", "pid", "text" (rendered HTML),
"orig" (Markdown source), "user": {"name", "id", "ip" (already an HMAC)}, "locator": {"site",
"url"}, "score", "votes": {"user id": true|false}, "time", "edit": {"time"}, "delete",
"title"}``. remark42 has no moderation queue, so every comment is published or deleted.
IPs are remark42's own keyed hashes; they cannot be compared with ours and are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from townhall.importers.cleaning import clean_name, clean_title, parse_time, raw_text, text_value
from townhall.importers.files import open_input
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


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read(path: Path, ctx: ReadContext) -> Iterator[Record]:
    with open_input(path, ctx) as handle:
        seen: dict[str, bool] = {}  # thread url -> has a title
        sites: set[str] = set()
        meta_read = False
        comments = 0
        for number, raw in enumerate(handle, start=1):
            text = raw.decode("utf-8", "replace").strip()
            if not text:
                continue
            try:
                item = json.loads(text)
            except ValueError as exc:
                if not meta_read:
                    raise UnreadableFile(
                        f"this is not a remark42 backup: line {number} is not JSON ({exc})"
                    ) from None
                yield Problem(f"not valid JSON: {exc}", number, "", SkipReason.MALFORMED)
                continue
            if not meta_read:
                meta_read = True
                if not isinstance(item, dict) or "version" not in item:
                    raise UnreadableFile(
                        "this is not a remark42 backup: the first line is not its "
                        '{"version": ..., "users": ..., "posts": ...} header'
                    )
                yield from _meta(item, number, seen)
                continue
            if number % 1000 == 0:
                ctx.progress(handle.tell())
            comments += 1
            yield from _comment(item, number, ctx, seen, sites)
        if not meta_read:
            raise UnreadableFile("the file is empty")
        if len(sites) > 1:
            yield Problem(
                f"the backup holds {len(sites)} remark42 sites ({', '.join(sorted(sites))}); "
                "all were imported into one townhall site"
            )


def _meta(item: dict[str, Any], line: int, seen: dict[str, bool]) -> Iterator[Record]:
    if item.get("version") not in (0, 1):
        yield Problem(f"backup version {item.get('version')!r}: read as version 1", line)
    users = item.get("users")
    blocked = (
        sum(1 for u in users if isinstance(u, dict) and _object(u.get("blocked")).get("status"))
        if isinstance(users, list)
        else 0
    )
    if blocked:
        yield Problem(
            f"{blocked} blocked remark42 user(s) were not turned into bans: remark42 user ids "
            "do not identify townhall readers",
            line,
        )
    posts = item.get("posts")
    for post in posts if isinstance(posts, list) else []:
        url = text_value(_object(post).get("url"))
        if url:
            seen.setdefault(url, False)
            yield ThreadRecord(source_key=url, url=url, closed=post.get("read_only") is True)


def _comment(
    item: Any, line: int, ctx: ReadContext, seen: dict[str, bool], sites: set[str]
) -> Iterator[Record]:
    if not isinstance(item, dict):
        yield Problem("a comment must be a JSON object", line, "", SkipReason.MALFORMED)
        return
    cid = text_value(item.get("id"))
    label = f"comment {cid}" if cid else "comment without id"
    locator = _object(item.get("locator"))
    url = text_value(locator.get("url"))
    if not cid or not url:
        yield Problem("id and locator.url are required", line, label, SkipReason.MALFORMED)
        return
    if text_value(locator.get("site")):
        sites.add(text_value(locator.get("site")))
    created = parse_time(text_value(item.get("time")), ctx.timezone)
    if created is None:
        yield Problem("time is not a date", line, label, SkipReason.MALFORMED)
        return
    title = clean_title(text_value(item.get("title")))
    if not seen.get(url, False) and (title or url not in seen):
        seen[url] = bool(title)
        yield ThreadRecord(source_key=url, url=url, title=title, line=line)
    html = raw_text(item.get("text"))
    orig = raw_text(item.get("orig"))
    votes = _object(item.get("votes"))
    voters = [(f"remark42:{uid}"[:80], 1 if up else -1) for uid, up in votes.items()]
    likes = sum(1 for _, v in voters if v > 0)
    dislikes = len(voters) - likes
    score = item.get("score")
    if not voters and isinstance(score, int) and not isinstance(score, bool):
        likes, dislikes = max(score, 0), max(-score, 0)
    user = _object(item.get("user"))
    deleted = item.get("delete") is True
    yield CommentRecord(
        source_thread=url,
        source_id=cid,
        parent_id=text_value(item.get("pid")) or None,
        created_at=created,
        edited_at=parse_time(text_value(_object(item.get("edit")).get("time"))),
        body=orig or html,
        body_format=BodyFormat.MARKDOWN if orig else BodyFormat.HTML,
        rendered=html if orig else None,
        status=CommentStatus.DELETED if deleted else CommentStatus.PUBLISHED,
        author_name=clean_name(text_value(user.get("name"))),
        likes=likes,
        dislikes=dislikes,
        voters=voters or None,
        line=line,
        label=label,
    )
