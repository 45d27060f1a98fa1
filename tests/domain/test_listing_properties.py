"""Properties of thread listing over random trees: every visible comment appears exactly once
across all pages, in depth-first order under its parent, and hidden comments appear only as
tombstones that keep visible replies in place."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from townhall.domain.listing import build_snapshot, cut_page
from townhall.types import CommentStatus, Sort

STATUSES = [CommentStatus.PUBLISHED] * 6 + [
    CommentStatus.PENDING,
    CommentStatus.DELETED,
    CommentStatus.REMOVED,
    CommentStatus.SPAM,
]
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@st.composite
def threads(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(min_value=0, max_value=60))
    rows: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        parent = draw(st.one_of(st.none(), st.integers(1, i - 1))) if i > 1 else None
        rows.append(
            {
                "id": i,
                "parent_id": parent,
                "status": draw(st.sampled_from(STATUSES)),
                "shadow": False,
                "author_name": f"a{i}",
                "author_website": None,
                "html": f"<p>{i}</p>",
                "created_at": T0 + dt.timedelta(seconds=i),
                "edited_at": None,
                "likes": draw(st.integers(0, 5)),
                "dislikes": 0,
                "reader_id": None,
            }
        )
    return rows


def all_pages(snap: Any, sort: Sort, limit: int, cap: int) -> list[Any]:
    out: list[Any] = []
    cursor = None
    while True:
        page = cut_page(snap, sort=sort, limit=limit, cursor=cursor, replies_cap=cap)
        pending = None  # the cut-off subtree continues after its shown replies, like "show more"
        for c in [*page.comments, None]:
            if pending and (c is None or c.depth == 0):
                while pending:
                    extra = cut_page(snap, sort=sort, limit=limit, cursor=pending, replies_cap=cap)
                    out.extend(extra.comments)
                    pending = extra.next_cursor
            if c is not None:
                out.append(c)
                if c.depth == 0:
                    pending = c.more_replies_cursor
        cursor = page.next_cursor
        if cursor is None:
            return out


@settings(max_examples=150, deadline=None)
@given(
    rows=threads(),
    sort=st.sampled_from(list(Sort)),
    limit=st.integers(1, 7),
    cap=st.integers(1, 5),
)
def test_pages_cover_the_visible_tree_exactly_once(
    rows: list[dict[str, Any]], sort: Sort, limit: int, cap: int
) -> None:
    snap = build_snapshot(rows)
    listed = all_pages(snap, sort, limit, cap)
    ids = [int(c.id) for c in listed]
    assert len(ids) == len(set(ids))
    by_id = {r["id"]: r for r in rows}
    published = {r["id"] for r in rows if r["status"] is CommentStatus.PUBLISHED}
    assert published <= set(ids)
    for c in listed:
        row = by_id[int(c.id)]
        if row["status"] is CommentStatus.PUBLISHED:
            assert c.status == "published" and c.html == row["html"]
        else:  # only as a tombstone above something visible, never with its text
            assert c.status in ("deleted", "removed") and c.html == "" and c.author.name == ""
            assert any(
                int(d.id) in published and _descends(by_id, int(d.id), row["id"]) for d in listed
            )
    # each reply comes after its parent, and depth is the parent's plus one
    position = {int(c.id): i for i, c in enumerate(listed)}
    for c in listed:
        if c.parent_id is not None:
            parent = int(c.parent_id)
            assert position[parent] < position[int(c.id)]
            assert c.depth == next(x.depth for x in listed if int(x.id) == parent) + 1


def _descends(by_id: dict[int, dict[str, Any]], child: int, ancestor: int) -> bool:
    parent = by_id[child]["parent_id"]
    while parent is not None:
        if parent == ancestor:
            return True
        parent = by_id[parent]["parent_id"]
    return False
