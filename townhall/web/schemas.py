"""Request and response bodies of the public API, as msgspec Structs.

They validate requests (types, unknown shapes) and feed the OpenAPI document. Limits on
lengths and content live in the domain, which words its messages for readers."""

from __future__ import annotations

from typing import Literal

import msgspec

from townhall.domain.views import CommentView, ThreadPage


class AuthorIn(msgspec.Struct, forbid_unknown_fields=False):
    name: str | None = None
    email: str | None = None
    website: str | None = None


class NewCommentIn(msgspec.Struct):
    site: str
    thread: str
    text: str
    parent_id: str | None = None
    author: AuthorIn = msgspec.field(default_factory=AuthorIn)
    thread_title: str | None = None
    thread_url: str | None = None
    confirm: bool = False
    notify_replies: bool = False


class EditIn(msgspec.Struct):
    text: str


class VoteIn(msgspec.Struct):
    value: Literal[1, -1, 0]


class FlagIn(msgspec.Struct):
    reason: Literal["spam", "abuse", "off_topic", "other"]
    note: str | None = None


class CountsIn(msgspec.Struct):
    site: str
    threads: list[str]


class PreviewIn(msgspec.Struct):
    text: str


class PostedOut(msgspec.Struct, omit_defaults=True):
    comment: CommentView
    status: Literal["published", "pending"]
    edit_token: str
    message: str | None = None
    reader_token: str | None = None


class CommentOut(msgspec.Struct):
    comment: CommentView | None


class VoteOut(msgspec.Struct, omit_defaults=True):
    likes: int
    dislikes: int
    reader_token: str | None = None


class FlagOut(msgspec.Struct, omit_defaults=True):
    reader_token: str | None = None


class CountsOut(msgspec.Struct):
    counts: dict[str, int]


class PreviewOut(msgspec.Struct):
    html: str


class ErrorBody(msgspec.Struct, omit_defaults=True):
    code: str
    message: str
    field: str | None = None


class ErrorOut(msgspec.Struct):
    error: ErrorBody


class HealthOut(msgspec.Struct):
    status: Literal["ok", "unavailable"]
    database: bool
    version: str


ThreadPageOut = ThreadPage
