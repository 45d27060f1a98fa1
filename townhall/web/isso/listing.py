"""Isso's thread listing (``GET /?uri=…``), cut from townhall's thread snapshot.

Isso threads have two levels: top-level comments, each with its replies in one flat list,
oldest first (a reply to a reply is stored under the top-level comment). Townhall keeps any
depth, so every reply is listed under its top-level comment with ``parent`` set to that
comment, which is where Isso's client inserts it. Paging follows Isso: ``limit`` and
``offset`` cut the top-level list, ``nested_limit`` the replies of each, and ``parent=N``
pages through the replies of comment N; ``hidden_replies`` tells the client how many remain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from townhall.domain.listing import Snapshot
from townhall.types import Sort
from townhall.web.isso.shapes import AvatarHasher, IssoComment, IssoThread, from_node, timestamp


@dataclass(frozen=True)
class Query:
    sort: Sort = Sort.OLDEST
    limit: int | None = None
    nested_limit: int | None = None
    parent: int | None = None
    offset: int = 0
    after: float = 0.0
    plain: bool = False

    def cache_part(self) -> str:
        return (
            f"isso|{self.limit}|{self.nested_limit}|{self.parent}|{self.offset}|"
            f"{self.after!r}|{int(self.plain)}"
        )


def empty(query: Query) -> IssoThread:
    return IssoThread(id=query.parent, total_replies=0, hidden_replies=0, replies=[])


def isso_thread(snap: Snapshot, query: Query, avatar: AvatarHasher) -> IssoThread:
    position = {cid: i for i, cid in enumerate(snap.nodes)}  # rows come oldest first
    shown: Callable[[int], bool]
    if query.after > 0:
        after = query.after

        def shown(cid: int) -> bool:
            return (timestamp(snap.nodes[cid].created_at) or 0.0) > after
    else:

        def shown(cid: int) -> bool:
            return True

    def replies_of(root: int) -> list[int]:
        return sorted((c for c in snap.subtree(root) if shown(c)), key=position.__getitem__)

    def item(cid: int, parent: int | None) -> IssoComment:
        return from_node(
            snap.nodes[cid], snap.visible_status[cid], parent, avatar, plain=query.plain
        )

    def cut(ids: list[int], limit: int | None) -> list[int]:
        return ids[query.offset :] if limit is None else ids[query.offset : query.offset + limit]

    if query.parent is not None:
        # The replies of one comment; only top-level comments have any in Isso's model.
        root = query.parent
        ids = replies_of(root) if root in snap.top and root in snap.visible_status else []
        page = cut(ids, query.limit)
        return IssoThread(
            id=root,
            total_replies=len(ids),
            hidden_replies=max(0, len(ids) - len(page) - query.offset),
            replies=[item(cid, root) for cid in page],
        )

    order, _ = snap.order(query.sort)
    tops = [cid for cid in order if shown(cid)]
    replies = {cid: replies_of(cid) for cid in tops}
    page = cut(tops, query.limit)
    out: list[IssoComment] = []
    for cid in page:
        top = item(cid, None)
        under = replies[cid]
        nested = under if query.nested_limit is None else under[: query.nested_limit]
        top.total_replies = len(under)
        top.hidden_replies = len(under) - len(nested)
        top.replies = [item(r, cid) for r in nested]
        out.append(top)
    return IssoThread(
        id=None,
        total_replies=len(tops) + sum(len(r) for r in replies.values()),
        hidden_replies=max(0, len(tops) - len(page) - query.offset),
        replies=out,
    )
