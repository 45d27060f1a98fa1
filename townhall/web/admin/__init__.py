"""The moderator and admin pages under ``/admin`` (issue 5): server-rendered, with a little
hand-written JavaScript for the keyboard and for acting without reloading."""

from townhall.web.admin.routes import admin_routes

__all__ = ["admin_routes"]
