"""Every page of the moderator UI, top to bottom, mounted at ``/admin``. Each route states its
access: ``page`` (signed in; CSRF on changes), ``admin`` (signed-in admins only), or public
(the sign-in form, which checks its own CSRF token)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from townhall.domain.accounts import User
from townhall.web.admin import (
    account_pages,
    overview_pages,
    queue_pages,
    reader_pages,
    site_pages,
    thread_pages,
    user_pages,
)
from townhall.web.admin.guard import Endpoint, Handler, page


def admin(handler: Handler) -> Endpoint:
    return page(handler, admin_only=True)


async def _to_pending(request: Request, user: User) -> Response:
    return RedirectResponse("/admin/queue/pending", status_code=303)


GET, POST = ["GET"], ["POST"]


def admin_routes() -> list[BaseRoute]:
    return [
        Route("/", page(overview_pages.dashboard_page), methods=GET),
        Route("/login", account_pages.login_form, methods=GET),
        Route("/login", account_pages.login, methods=POST),
        Route("/logout", page(account_pages.logout), methods=POST),
        Route("/password", page(account_pages.password_form), methods=GET),
        Route("/password", page(account_pages.password_change), methods=POST),
        # queues and decisions
        Route("/queue", page(_to_pending), methods=GET),
        Route("/queue/{name}", page(queue_pages.queue_page), methods=GET),
        Route("/comments/bulk", page(queue_pages.bulk_action), methods=POST),
        Route("/comments/{id:int}/edit", page(queue_pages.edit_form), methods=GET),
        Route("/comments/{id:int}/edit", page(queue_pages.edit_save), methods=POST),
        Route("/comments/{id:int}/author", page(reader_pages.reader_page), methods=GET),
        Route("/comments/{id:int}/author/notes", page(reader_pages.add_note), methods=POST),
        Route("/comments/{id:int}/ban", page(reader_pages.ban_author), methods=POST),
        Route("/comments/{id:int}/{action}", page(queue_pages.comment_action), methods=POST),
        # threads, bans, sites
        Route("/threads/{id:int}", page(thread_pages.thread_page), methods=GET),
        Route("/threads/{id:int}/{action}", page(thread_pages.thread_action), methods=POST),
        Route("/bans", page(reader_pages.bans_page), methods=GET),
        Route("/bans", page(reader_pages.ban_value), methods=POST),
        Route("/bans/{id:int}/lift", page(reader_pages.lift_ban), methods=POST),
        Route("/sites", page(site_pages.sites_page), methods=GET),
        Route("/sites/{key}", page(site_pages.site_form), methods=GET),
        Route("/sites/{key}", page(site_pages.site_save), methods=POST),
        Route("/log", page(overview_pages.log_page), methods=GET),
        # accounts (admins)
        Route("/users", admin(user_pages.users_page), methods=GET),
        Route("/users", admin(user_pages.user_create), methods=POST),
        Route("/users/{id}", admin(user_pages.user_update), methods=POST),
        Route("/users/{id}/delete", admin(user_pages.user_delete), methods=POST),
        Route("/users/{id}/unlock", admin(user_pages.user_unlock), methods=POST),
        Route("/users/{id}/tokens", admin(user_pages.token_create), methods=POST),
        Route("/tokens/{id}/revoke", admin(user_pages.token_revoke), methods=POST),
    ]
