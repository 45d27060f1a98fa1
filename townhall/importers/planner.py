"""Deciding, one thread at a time, which records become comments and where they hang.

* Published and pending comments are imported. Spam and deleted ones are imported only as
  tombstones for live replies below them (``--keep-hidden`` imports them all); the listing
  shows them as "deleted"/"removed" without text or author.
* Pingbacks, trackbacks, duplicates, comments of deleted threads and comments without text
  are skipped with their reason.
* A reply whose parent was skipped hangs under the nearest imported ancestor (or at the top),
  with a warning. A parent missing from the file may have been imported before (incremental
  exports): the writer looks it up in the database.
* Replies nest to any depth; parents are written before their children.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from townhall.domain.identity import Hasher
from townhall.domain.rendering import sanitise_html
from townhall.importers.bodies import to_html
from townhall.importers.cleaning import SOURCE_ID_MAX, clean_line_text
from townhall.importers.records import CommentKind, Problem, SkipReason
from townhall.importers.report import ImportReport
from townhall.importers.staging import Skeleton, StagedComment, StagedThread
from townhall.importers.urls import clean_url, host_of, is_dev_host
from townhall.types import CommentStatus

_LIVE = frozenset({CommentStatus.PUBLISHED, CommentStatus.PENDING})
_HIDDEN = frozenset({CommentStatus.SPAM, CommentStatus.DELETED})


@dataclass(slots=True)
class PlannedComment:
    source_id: str
    parent_source: str | None  # prefixed source id of the parent (in this plan or the database)
    status: CommentStatus
    author_name: str
    author_email: str | None
    email_hash: str | None
    author_website: str | None
    ip_hash: str | None
    text: str
    html: str
    created_at: dt.datetime
    edited_at: dt.datetime | None
    likes: int
    dislikes: int
    voters: list[tuple[str, int]] | None
    line: int | None
    label: str


@dataclass(slots=True)
class PlannedThread:
    key: str
    url: str
    title: str
    closed: bool
    created_at: dt.datetime
    order: list[tuple[int, str, str | None]]  # (staging seq, source id, parent's): parents first
    dev_host: str | None  # set when the only URL known is on a development host


def source_id(prefix: str, value: str) -> str:
    full = f"{prefix}:{value}"
    if len(full) <= SOURCE_ID_MAX:
        return full
    return f"{prefix}:sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def _pick_thread(threads: list[StagedThread]) -> StagedThread:
    """The URL readers can reach wins over localhost and friends."""
    for thread in threads:
        url = clean_url(thread.url)
        if url and not is_dev_host(host_of(url)):
            return thread
    for thread in threads:
        if clean_url(thread.url):
            return thread
    return threads[0]


def _url(thread: StagedThread, base_url: str) -> str:
    url = clean_url(thread.url)
    if url:
        return url
    if base_url and thread.url.startswith("/"):
        return clean_url(base_url.rstrip("/") + thread.url)
    return ""


class Planner:
    def __init__(
        self,
        *,
        prefix: str,
        hasher: Hasher,
        report: ImportReport,
        keep_hidden: bool = False,
        base_url: str = "",
    ) -> None:
        self.prefix = prefix
        self.hasher = hasher
        self.report = report
        self.keep_hidden = keep_hidden
        self.base_url = base_url
        self.missing_authors = 0
        # Keyed hashes are the costliest step per comment; regular commenters repeat.
        self._emails: dict[str, str] = {}
        self._ips: dict[str, str] = {}

    @staticmethod
    def _hash(cache: dict[str, str], value: str, hasher: Callable[[str], str]) -> str:
        found = cache.get(value)
        if found is None:
            if len(cache) >= 50_000:
                cache.clear()
            found = cache[value] = hasher(value)
        return found

    def _skip(self, c: Skeleton, reason: SkipReason, message: str) -> None:
        self.report.skip(Problem(message, c.line, c.label, reason))

    def _warn(self, c: Skeleton, message: str) -> None:
        self.report.add(Problem(message, c.line, c.label))

    def plan(
        self, key: str, threads: list[StagedThread], staged: list[Skeleton]
    ) -> PlannedThread | None:
        by_key = {t.source_key: t for t in threads}
        nodes: dict[str, Skeleton] = {}
        refused: dict[str, SkipReason] = {}
        candidates: list[str] = []  # live and hidden comments, in file order
        for c in staged:
            sid = source_id(self.prefix, c.source_id)
            if sid in nodes:
                self._skip(c, SkipReason.DUPLICATE, "the same id appears earlier in the file")
                continue
            nodes[sid] = c
            thread = by_key[c.source_thread]
            if thread.deleted:
                refused[sid] = SkipReason.DELETED
                self._skip(c, SkipReason.DELETED, f"its thread ({thread.source_key}) is deleted")
            elif c.kind is CommentKind.PINGBACK:
                refused[sid] = SkipReason.PINGBACK
                self._skip(c, SkipReason.PINGBACK, "pingbacks are not reader comments")
            elif c.kind is CommentKind.TRACKBACK:
                refused[sid] = SkipReason.TRACKBACK
                self._skip(c, SkipReason.TRACKBACK, "trackbacks are not reader comments")
            elif c.status in _LIVE and c.empty:
                refused[sid] = SkipReason.MALFORMED
                self._skip(c, SkipReason.MALFORMED, "the comment has no text")
            else:
                candidates.append(sid)

        def parent_of(sid: str) -> str | None:
            parent = nodes[sid].parent_id
            return None if parent is None else source_id(self.prefix, parent)

        keep: set[str] = set()
        for sid in candidates:
            if nodes[sid].status in _LIVE or self.keep_hidden:
                keep.add(sid)
        # Hidden ancestors of kept comments stay, as tombstones, so replies keep their place.
        climbed: set[str] = set()
        for sid in list(keep):
            parent = parent_of(sid)
            while parent is not None and parent in nodes and parent not in climbed:
                climbed.add(parent)
                if parent not in refused and nodes[parent].status in _HIDDEN:
                    keep.add(parent)
                parent = parent_of(parent)
        for sid in candidates:
            if sid not in keep:
                c = nodes[sid]
                reason = SkipReason.SPAM if c.status is CommentStatus.SPAM else SkipReason.DELETED
                self._skip(c, reason, f"{reason.value}, and no imported reply depends on it")
        if not keep:
            return None

        # Where each kept comment hangs: its parent, else the nearest kept ancestor.
        hang: dict[str, str | None] = {}
        for sid in keep:
            parent = parent_of(sid)
            seen = {sid}
            while parent is not None and parent in nodes and parent not in keep:
                if parent in seen:
                    parent = None
                    break
                seen.add(parent)
                parent = parent_of(parent)
            direct = parent_of(sid)
            if direct is not None and direct in nodes and direct not in keep:
                why = refused.get(direct, "not imported")
                where = "under " + parent.split(":", 1)[1] if parent else "at the top level"
                self._warn(nodes[sid], f"its parent {direct} was skipped ({why}): placed {where}")
            hang[sid] = parent
        depth = self._depths(hang, nodes)

        ordered = sorted(keep, key=lambda s: (depth[s], nodes[s].created_at, nodes[s].seq))
        chosen = _pick_thread(threads)
        url = _url(chosen, self.base_url)
        title = chosen.title or next((t.title for t in threads if t.title), "") or key
        created = [t.created_at for t in threads if t.created_at is not None]
        first = min(nodes[sid].created_at for sid in keep)
        dev = host_of(url) if url and is_dev_host(host_of(url)) else None
        return PlannedThread(
            key=key,
            url=url,
            title=title,
            closed=chosen.closed,
            created_at=min([*created, first]),
            order=[(nodes[sid].seq, sid, hang[sid]) for sid in ordered],
            dev_host=dev,
        )

    def _depths(self, hang: dict[str, str | None], nodes: dict[str, Skeleton]) -> dict[str, int]:
        """Depth within this plan, for ordering parents first. A loop of parents (a corrupt
        file) is broken by moving one comment of it to the top level."""
        state: dict[str, bool] = {}  # False: on the path being walked; True: done
        for start in hang:
            path: list[str] = []
            sid: str | None = start
            while sid is not None and sid in hang and sid not in state:
                state[sid] = False
                path.append(sid)
                sid = hang[sid]
            if sid is not None and state.get(sid) is False:
                self._warn(nodes[sid], "its replies loop back to it: placed at the top level")
                hang[sid] = None
            for node in path:
                state[node] = True
        depth: dict[str, int] = {}
        for start in hang:
            path = []
            sid = start
            while sid is not None and sid in hang and sid not in depth:
                path.append(sid)
                sid = hang[sid]
            base = depth[sid] if sid is not None and sid in depth else -1
            for node in reversed(path):
                base += 1
                depth[node] = base
        return depth

    def comment(self, sid: str, c: StagedComment, parent: str | None) -> PlannedComment:
        """The comment as it will be written: text cleaned, HTML sanitised, hashes made."""
        if c.author_missing:
            self.missing_authors += 1
        text = clean_line_text(c.body).strip()
        if c.status is CommentStatus.DELETED:
            html = ""  # a tombstone shows no text (like a comment its author deletes)
        elif c.rendered is not None:
            html = sanitise_html(c.rendered)
        else:
            html = to_html(text, c.body_format)
        email = c.author_email
        email_hash = self._hash(self._emails, email, self.hasher.email) if email else None
        ip_hash = self._hash(self._ips, c.ip, self.hasher.ip) if c.ip else None
        return PlannedComment(
            source_id=sid,
            parent_source=parent,
            status=c.status,
            author_name=c.author_name or "Anonymous",
            author_email=email,
            email_hash=email_hash,
            author_website=c.author_website,
            ip_hash=ip_hash,
            text=text,
            html=html,
            created_at=c.created_at,
            edited_at=c.edited_at,
            likes=max(0, c.likes),
            dislikes=max(0, c.dislikes),
            voters=c.voters,
            line=c.line,
            label=c.label,
        )
