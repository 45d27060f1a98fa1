"""Every route of the Isso-compatible API, top to bottom, relative to ``/isso/<site>``.

The paths and methods are Isso's own (``isso/views/comments.py``), so a page that pointed
``data-isso`` at an Isso server can point it here instead."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from townhall.web.isso import views
from townhall.web.isso.endpoint import isso_endpoint


def isso_routes() -> list[BaseRoute]:
    return [
        Route("/", isso_endpoint(views.fetch), methods=["GET"]),
        Route("/config", isso_endpoint(views.config), methods=["GET"]),
        Route("/new", isso_endpoint(views.new), methods=["POST"]),
        Route("/count", isso_endpoint(views.count), methods=["POST"]),
        Route("/preview", isso_endpoint(views.preview), methods=["POST"]),
        Route("/feed", isso_endpoint(views.feed), methods=["GET"]),
        Route("/id/{id:int}", isso_endpoint(views.view), methods=["GET"]),
        Route("/id/{id:int}", isso_endpoint(views.edit), methods=["PUT"]),
        Route("/id/{id:int}", isso_endpoint(views.delete), methods=["DELETE"]),
        Route("/id/{id:int}/like", isso_endpoint(views.like), methods=["POST"]),
        Route("/id/{id:int}/dislike", isso_endpoint(views.dislike), methods=["POST"]),
        Route("/css/isso.css", isso_endpoint(views.stylesheet), methods=["GET"]),
    ]
