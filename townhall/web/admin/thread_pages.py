"""A thread as readers see it (oldest first, replies under their parent), with the comments
readers do not see and every moderation control; closing, reopening, pre-moderation."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from townhall.domain import accounts, moderation
from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.web.admin.queue_pages import REJECT_REASONS
from townhall.web.admin.render import read_form, redirect, render
from townhall.web.state import web_state

MAX_PAGES = 10  # 2,000 comments; a bigger thread is read through the queue's thread filter


@dataclass(frozen=True)
class Entry:
    item: moderation.QueueItem
    depth: int
    orphan: bool  # its parent was deleted by its author (not shown)


def thread_tree(items: list[moderation.QueueItem]) -> list[Entry]:
    """Depth-first, oldest first at every level, like the widget's default order."""
    ordered = sorted(items, key=lambda i: (i.created_at, int(i.id)))
    ids = {i.id for i in ordered}
    children: dict[str | None, list[moderation.QueueItem]] = {}
    for item in ordered:
        parent = item.parent_id if item.parent_id in ids else None
        children.setdefault(parent, []).append(item)
    out: list[Entry] = []
    stack = [(i, 0) for i in reversed(children.get(None, []))]
    while stack:
        item, depth = stack.pop()
        out.append(Entry(item, depth, item.parent_id is not None and item.parent_id not in ids))
        stack.extend((c, depth + 1) for c in reversed(children.get(item.id, [])))
    return out


async def thread_page(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    thread_id = request.path_params["id"]

    def run() -> tuple[accounts.ThreadInfo, list[Entry], bool]:
        info = accounts.access_thread(services, user, thread_id)
        items: list[moderation.QueueItem] = []
        cursor = None
        for _ in range(MAX_PAGES):
            page = moderation.queue(
                services,
                moderation.QueueFilter(
                    status=moderation.QueueStatus.RECENT,
                    sites=[info.site_key],
                    thread_id=info.id,
                    cursor=cursor,
                    limit=moderation.MAX_PAGE,
                ),
            )
            items.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        return info, thread_tree(items), cursor is not None

    info, entries, truncated = await run_in_threadpool(run)
    return render(
        request,
        "admin/thread.html",
        thread=info,
        entries=entries,
        truncated=truncated,
        reasons=REJECT_REASONS,
    )


async def thread_action(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    thread_id = request.path_params["id"]
    verb = request.path_params["action"]
    form = await read_form(request)
    back = f"/admin/threads/{thread_id}"
    reason = str(form.get("reason", ""))

    def run() -> str:
        accounts.access_thread(services, user, thread_id)
        if verb == "close":
            moderation.close_thread(services, user.email, thread_id, reason)
            return "Thread closed: readers can no longer comment."
        if verb == "reopen":
            moderation.reopen_thread(services, user.email, thread_id, reason)
            return "Thread reopened."
        if verb == "premoderation":
            choice = {"on": True, "off": False}.get(str(form.get("enabled", "")))
            moderation.set_thread_premoderation(services, user.email, thread_id, choice, reason)
            if choice is None:
                return "Pre-moderation now follows the site's setting."
            return "Pre-moderation " + ("on: every new comment is held." if choice else "off.")
        raise NotFound(f"no thread action named {verb!r}", field="action")

    try:
        message = await run_in_threadpool(run)
    except (Conflict, InvalidInput) as exc:
        return redirect(request, back, exc.message, "error")
    return redirect(request, back, message)
