"""The dashboard and the audit log."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from townhall.domain import accounts, dashboard, moderation
from townhall.domain.errors import InvalidInput
from townhall.domain.sites import Site
from townhall.web.admin import charts
from townhall.web.admin.render import render
from townhall.web.moderation_api import audit_filter, site_scope
from townhall.web.state import web_state


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 6:
        raise InvalidInput(f"{name} must be a whole number", field=name)
    return int(raw)


async def dashboard_page(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    days = _int(request, "days", 14)
    hours = _int(request, "hours", 24)

    def run() -> tuple[dashboard.Dashboard, list[Site]]:
        scope = site_scope(services, user, request.query_params.getlist("site"))
        board = dashboard.dashboard(services, scope, days=days, hot_hours=hours)
        return board, accounts.moderated_sites(services, user)

    board, sites = await run_in_threadpool(run)
    share_parts = [(key, label, board.share(key)) for key, label in charts.SERIES]
    return render(
        request,
        "admin/dashboard.html",
        board=board,
        sites=sites,
        counts=board.queue,
        days=days,
        hours=hours,
        per_day=charts.comments_per_day(board.days),
        shares=charts.shares(share_parts),
        share_parts=share_parts,
        histogram=charts.toxicity_histogram(board.histogram),
        meter=charts.meter,
        site_filter=request.query_params.getlist("site"),
    )


async def log_page(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services

    def run() -> tuple[moderation.AuditPage | None, str | None, list[Site]]:
        sites = accounts.moderated_sites(services, user)
        try:
            return moderation.audit_log(services, audit_filter(request, user)), None, sites
        except InvalidInput as exc:
            return None, exc.message, sites

    page, error, sites = await run_in_threadpool(run)
    names = {s.id: s.key for s in sites}
    return render(
        request,
        "admin/log.html",
        page=page,
        error=error,
        sites=sites,
        site_names=names,
        filters={k: v for k, v in request.query_params.items() if k != "cursor"},
    )
