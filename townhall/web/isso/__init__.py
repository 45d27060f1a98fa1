"""The Isso-compatible API, mounted at ``/isso/<site>/``: Isso's own client (``embed.min.js``,
unmodified) talks to townhall, with townhall's moderation behind it. See docs/isso.md."""

from townhall.web.isso.routes import isso_routes

__all__ = ["isso_routes"]
