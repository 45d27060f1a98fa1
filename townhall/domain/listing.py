"""Reading a thread: the hot path.

A thread's comments are loaded once per thread version into a :class:`Snapshot` (one indexed
query), and every page, sort and cursor is cut from it in memory. The web layer caches the
encoded pages by version too, so a read costs one small query for the thread row and, most of
the time, no work at all. Nothing here renders Markdown or runs moderation.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from townhall.domain.errors import InvalidInput
from townhall.domain.views import AuthorView, CommentView, rfc3339
from townhall.types import TOMBSTONE_STATUSES, CommentStatus, Sort

NODE_OVERHEAD = 600  # bytes a comment costs in a snapshot beside its texts (measured)
SNAPSHOT_OVERHEAD = 2048


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    parent_id: int | None
    status: CommentStatus
    shadow: bool
    author_name: str
    author_website: str | None
    html: str
    created_at: Any
    edited_at: Any
    likes: int
    dislikes: int
    reader_id: str | None


@dataclass
class Snapshot:
    """The visible tree of one thread version, as seen by everybody or by one reader."""

    top: list[int]  # top-level ids, oldest first
    children: dict[int, list[int]]  # visible children, oldest first
    nodes: dict[int, Node]
    visible_status: dict[int, str]  # status shown: published, pending, deleted, removed
    depth: dict[int, int]
    hidden_readers: frozenset[str] = frozenset()  # readers with comments only they may see
    size: int = 0  # bytes it holds, roughly (SnapshotCache's budget)
    _orders: dict[Sort, list[int]] = field(default_factory=dict)
    _positions: dict[Sort, dict[int, int]] = field(default_factory=dict)
    _subtrees: dict[int, list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def order(self, sort: Sort) -> tuple[list[int], dict[int, int]]:
        with self._lock:
            if sort not in self._orders:
                ids = list(self.top)
                if sort is Sort.NEWEST:
                    ids.reverse()
                elif sort is Sort.TOP:
                    ids.sort(key=lambda i: -(self.nodes[i].likes - self.nodes[i].dislikes))
                self._orders[sort] = ids
                self._positions[sort] = {cid: pos for pos, cid in enumerate(ids)}
            return self._orders[sort], self._positions[sort]

    def subtree(self, root: int) -> list[int]:
        """The replies under a top-level comment, depth-first, each level oldest first."""
        cached = self._subtrees.get(root)
        if cached is not None:
            return cached
        out: list[int] = []
        stack = list(reversed(self.children.get(root, [])))
        while stack:
            cid = stack.pop()
            out.append(cid)
            stack.extend(reversed(self.children.get(cid, [])))
        self._subtrees[root] = out
        return out

    def view(self, cid: int) -> CommentView:
        node = self.nodes[cid]
        status = self.visible_status[cid]
        tomb = status in TOMBSTONE_STATUSES
        return CommentView(
            id=str(cid),
            parent_id=None if node.parent_id is None else str(node.parent_id),
            depth=self.depth[cid],
            status=status,
            author=AuthorView(name="")
            if tomb
            else AuthorView(name=node.author_name, website=node.author_website or None),
            html="" if tomb else node.html,
            created_at=rfc3339(node.created_at) or "",
            edited_at=None if tomb else rfc3339(node.edited_at),
            likes=node.likes,
            dislikes=node.dislikes,
            reply_count=len(self.children.get(cid, ())),
        )


def build_snapshot(rows: Iterable[Any], *, reader_id: str | None = None) -> Snapshot:
    """Decide what is visible: published comments, the reader's own held or shadow-banned
    ones, and tombstones for hidden comments that still have visible replies. ``rows`` are
    listing rows, oldest first, or the nodes of another snapshot of the same version."""
    nodes: dict[int, Node] = {}
    for r in rows:
        if isinstance(r, Node):
            nodes[r.id] = r
            continue
        nodes[r["id"]] = Node(
            id=r["id"],
            parent_id=r["parent_id"],
            status=CommentStatus(r["status"]),
            shadow=bool(r["shadow"]),
            author_name=r["author_name"],
            author_website=r["author_website"],
            html=r["html"],
            created_at=r["created_at"],
            edited_at=r["edited_at"],
            likes=r["likes"],
            dislikes=r["dislikes"],
            reader_id=r["reader_id"],
        )
    shown: dict[int, str] = {}
    for node in nodes.values():
        if node.status is CommentStatus.PUBLISHED:
            shown[node.id] = CommentStatus.PUBLISHED
        elif reader_id is not None and node.reader_id == reader_id:
            if node.status is CommentStatus.PENDING:
                shown[node.id] = CommentStatus.PENDING
            elif node.status is CommentStatus.SPAM and node.shadow:
                shown[node.id] = CommentStatus.PUBLISHED  # a shadow ban must not show
    # Hidden ancestors of visible comments stay as tombstones so replies keep their place.
    for cid in list(shown):
        parent = nodes[cid].parent_id
        while parent is not None and parent in nodes and parent not in shown:
            status = nodes[parent].status
            shown[parent] = (
                CommentStatus.DELETED if status is CommentStatus.DELETED else CommentStatus.REMOVED
            )
            parent = nodes[parent].parent_id
    children: dict[int, list[int]] = {}
    top: list[int] = []
    for cid in nodes:  # rows come oldest first, so every list below is oldest first
        if cid not in shown:
            continue
        parent = nodes[cid].parent_id
        if parent is None or parent not in nodes:
            top.append(cid)
        else:
            children.setdefault(parent, []).append(cid)
    depth: dict[int, int] = {}
    stack = [(cid, 0) for cid in top]
    while stack:
        cid, d = stack.pop()
        depth[cid] = d
        stack.extend((child, d + 1) for child in children.get(cid, ()))
    hidden_readers = frozenset(
        n.reader_id
        for n in nodes.values()
        if n.reader_id
        and (n.status is CommentStatus.PENDING or (n.status is CommentStatus.SPAM and n.shadow))
    )
    size = SNAPSHOT_OVERHEAD + sum(
        NODE_OVERHEAD + len(n.html) + len(n.author_name) + len(n.author_website or "")
        for n in nodes.values()
    )
    return Snapshot(
        top=top,
        children=children,
        nodes=nodes,
        visible_status=shown,
        depth=depth,
        hidden_readers=hidden_readers,
        size=size,
    )


# -- cursors -------------------------------------------------------------------------------


def encode_cursor(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "cursor is not one this server gave out: pass next_cursor or more_replies_cursor "
            "unchanged",
            field="cursor",
        ) from None
    if not isinstance(data, dict) or data.get("k") not in ("top", "replies"):
        raise InvalidInput("cursor is not one this server gave out", field="cursor")
    for key in ("a", "n", "r"):
        if key in data and not isinstance(data[key], int):
            raise InvalidInput("cursor is not one this server gave out", field="cursor")
    return data


@dataclass(frozen=True)
class Page:
    comments: list[CommentView]
    next_cursor: str | None


def cut_page(
    snap: Snapshot, *, sort: Sort, limit: int, cursor: str | None, replies_cap: int
) -> Page:
    """One page: ``limit`` top-level comments from the cursor, each with up to ``replies_cap``
    replies depth-first; or, for a replies cursor, the next replies of one subtree."""
    data = decode_cursor(cursor) if cursor else {"k": "top"}
    if data["k"] == "replies":
        return _replies_page(snap, data, limit=replies_cap)
    order, positions = snap.order(sort)
    start = 0
    if "a" in data:  # keyset: continue after the last comment of the previous page
        after = int(data["a"])
        start = (
            positions[after] + 1 if after in positions else min(int(data.get("n", 0)), len(order))
        )
    chosen = order[start : start + limit]
    out: list[CommentView] = []
    for cid in chosen:
        top_view = snap.view(cid)
        replies = snap.subtree(cid)
        shown = replies[:replies_cap]
        if len(replies) > len(shown):
            top_view.more_replies = len(replies) - len(shown)
            top_view.more_replies_cursor = encode_cursor(
                {"k": "replies", "r": cid, "a": shown[-1] if shown else cid, "n": len(shown)}
            )
        out.append(top_view)
        out.extend(snap.view(r) for r in shown)
    end = start + len(chosen)
    next_cursor = None
    if end < len(order) and chosen:
        next_cursor = encode_cursor({"k": "top", "s": sort.value, "a": chosen[-1], "n": end})
    return Page(comments=out, next_cursor=next_cursor)


def _replies_page(snap: Snapshot, data: dict[str, Any], *, limit: int) -> Page:
    root = data.get("r")
    if not isinstance(root, int):
        raise InvalidInput("cursor is not one this server gave out", field="cursor")
    replies = snap.subtree(root) if root in snap.visible_status else []
    after = data.get("a")
    if after == root:
        start = 0
    elif after in replies:
        start = replies.index(after) + 1
    else:
        start = min(int(data.get("n", 0)), len(replies))
    shown = replies[start : start + limit]
    end = start + len(shown)
    next_cursor = None
    if end < len(replies) and shown:
        next_cursor = encode_cursor({"k": "replies", "r": root, "a": shown[-1], "n": end})
    return Page(comments=[snap.view(c) for c in shown], next_cursor=next_cursor)


class SnapshotCache:
    """The public snapshot of recently read threads, one version per thread id, at most
    ``entries`` of them and ``max_bytes`` bytes in all (least recently used first out)."""

    def __init__(self, entries: int, max_bytes: int = 8 * 2**20) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._data: OrderedDict[int, tuple[int, Snapshot]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, thread_id: int, version: int) -> tuple[Snapshot, Iterable[Node]] | None:
        """The snapshot and its nodes (to build a reader's own view from), if this version's."""
        hit = self._data.get(thread_id)
        if hit is None or hit[0] != version:
            return None
        with self._lock:
            if thread_id in self._data:
                self._data.move_to_end(thread_id)
        snap = hit[1]
        return snap, snap.nodes.values()

    def put(self, thread_id: int, version: int, snap: Snapshot, rows: object = None) -> None:
        with self._lock:
            current = self._data.pop(thread_id, None)
            if current is not None:
                self.bytes -= current[1].size
                if current[0] > version:  # a newer version got here first
                    self._data[thread_id] = current
                    self.bytes += current[1].size
                    return
            self._data[thread_id] = (version, snap)
            self.bytes += snap.size
            while len(self._data) > 1 and (
                len(self._data) > self.entries or self.bytes > self.max_bytes
            ):
                _id, (_version, evicted) = self._data.popitem(last=False)
                self.bytes -= evicted.size

    def forget_older(self, thread_id: int, version: int) -> None:
        """Drop the thread's snapshot if it is of a version before ``version``."""
        with self._lock:
            current = self._data.get(thread_id)
            if current is not None and current[0] < version:
                del self._data[thread_id]
                self.bytes -= current[1].size
