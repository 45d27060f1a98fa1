"""What readers see: the public shape of a comment and a thread (API.md's Comment).

Built only from listing columns, so an email or IP cannot end up here by accident."""

from __future__ import annotations

import datetime as dt

import msgspec


class AuthorView(msgspec.Struct, omit_defaults=True):
    name: str
    website: str | None = None


class CommentView(msgspec.Struct):
    id: str
    parent_id: str | None
    depth: int
    status: str
    author: AuthorView
    html: str
    created_at: str
    edited_at: str | None
    likes: int
    dislikes: int
    reply_count: int
    more_replies: int = 0
    more_replies_cursor: str | None = None


class ThreadView(msgspec.Struct):
    key: str
    title: str
    url: str
    count: int
    closed: bool
    edit_window_seconds: int
    premoderated: bool


class ThreadPage(msgspec.Struct):
    thread: ThreadView
    comments: list[CommentView]
    next_cursor: str | None


def rfc3339(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
