"""The queues (Pending, Flagged, Recent, Rejected, Spam) and the decisions taken from them.

Without JavaScript every decision is a form post that comes back to the page it was sent
from; with it, the admin's script sends the same decisions to the moderation API and keeps
the page (see static/admin/admin.js)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from townhall.domain import accounts, dashboard, moderation
from townhall.domain.errors import Conflict, InvalidInput, NotFound
from townhall.domain.sites import Site
from townhall.moderation.pipeline import load_plugins, registry
from townhall.web.admin.render import read_form, redirect, render, safe_next
from townhall.web.moderation_api import ACTIONS, BULK_ACTIONS, queue_filter, site_scope
from townhall.web.state import web_state

QUEUES = {
    "pending": "Pending",
    "flagged": "Flagged",
    "recent": "Recent",
    "rejected": "Rejected",
    "spam": "Spam",
}
DONE = {
    "approve": "Approved",
    "reject": "Rejected",
    "spam": "Marked as spam:",
    "remove": "Removed",
    "restore": "Restored",
}
REJECT_REASONS = (
    "Abusive or insulting",
    "Off topic",
    "Spam or advertising",
    "Personal information",
    "Misinformation",
)


@dataclass(frozen=True)
class QueueView:
    page: moderation.QueuePage
    sites: list[Site]
    counts: dict[str, int]
    error: str | None


def _back(form: Any, default: str) -> str:
    value = form.get("next")
    return safe_next(value if isinstance(value, str) else None, default)


async def queue_page(request: Request, user: accounts.User) -> Response:
    name = request.path_params["name"]
    if name not in QUEUES:
        raise NotFound(f"no queue named {name!r}; try pending", field="queue")
    services = web_state(request).services

    def run() -> QueueView:
        sites = accounts.moderated_sites(services, user)
        error = None
        try:
            page = moderation.queue(services, queue_filter(request, user, status=name))
        except InvalidInput as exc:
            page, error = moderation.QueuePage(items=[], next_cursor=None), exc.message
        counts = dashboard.queue_counts(services, site_scope(services, user, []))
        return QueueView(page=page, sites=sites, counts=counts, error=error)

    view = await run_in_threadpool(run)
    return render(
        request,
        "admin/queue.html",
        queue=name,
        queues=QUEUES,
        view=view,
        counts=view.counts,
        filters={k: v for k, v in request.query_params.items() if k != "cursor"},
        reasons=REJECT_REASONS,
        checks=check_names(),
    )


def check_names() -> list[str]:
    """The moderation checks that can hold or reject a comment, for the queue's filter."""
    load_plugins()
    return [name for name in registry.checks if name != "closed"]


async def comment_action(request: Request, user: accounts.User) -> Response:
    verb = request.path_params["action"]
    action = ACTIONS.get(verb)
    if action is None:
        raise NotFound(f"no action named {verb!r}", field="action")
    form = await read_form(request)
    services = web_state(request).services
    comment_id = request.path_params["id"]
    back = _back(form, "/admin/queue/pending")

    def run() -> moderation.ActionResult:
        accounts.access_comment(services, user, comment_id)
        return action(services, user.email, comment_id, str(form.get("reason", "")))

    try:
        await run_in_threadpool(run)
    except (Conflict, InvalidInput) as exc:
        return redirect(request, back, exc.message, "error")
    return redirect(request, back, f"{DONE[verb]} comment {comment_id}.")


async def bulk_action(request: Request, user: accounts.User) -> Response:
    form = await read_form(request)
    services = web_state(request).services
    back = _back(form, "/admin/queue/pending")
    verb = str(form.get("action", ""))
    ids = [str(i) for i in form.getlist("ids")]
    action = BULK_ACTIONS.get(verb)
    if action is None or not ids:
        return redirect(request, back, "Select comments and an action first.", "error")

    def run() -> list[moderation.BulkOutcome]:
        for cid in dict.fromkeys(ids):
            accounts.access_comment(services, user, cid)
        return moderation.bulk(services, user.email, action, ids, str(form.get("reason", "")))

    results = await run_in_threadpool(run)
    done = sum(r.ok for r in results)
    failed = [r for r in results if not r.ok]
    message = f"{DONE.get(verb, 'Changed')} {done} comment{'s' if done != 1 else ''}."
    if failed:
        message += f" {len(failed)} could not be: " + "; ".join(
            f"{r.comment_id}: {r.error}" for r in failed[:3]
        )
    return redirect(request, back, message, "error" if failed else "ok")


async def edit_form(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    comment_id = request.path_params["id"]

    def run() -> moderation.QueueItem:
        accounts.access_comment(services, user, comment_id)
        return moderation.comment_item(services, comment_id)

    item = await run_in_threadpool(run)
    back = safe_next(request.query_params.get("next"), f"/admin/threads/{item.thread.id}")
    return render(request, "admin/edit.html", item=item, text=item.text, error=None, next=back)


async def edit_save(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    comment_id = request.path_params["id"]
    form = await read_form(request)
    text = str(form.get("text", ""))
    back = _back(form, "/admin/queue/pending")

    def run() -> moderation.ActionResult:
        accounts.access_comment(services, user, comment_id)
        return moderation.edit_comment(
            services, user.email, comment_id, text, str(form.get("reason", ""))
        )

    try:
        await run_in_threadpool(run)
    except (InvalidInput, Conflict) as exc:
        item = await run_in_threadpool(moderation.comment_item, services, comment_id)
        return render(
            request, "admin/edit.html", 422, item=item, text=text, error=exc.message, next=back
        )
    return redirect(request, back, f"Edited comment {comment_id}.")
