"""Two townhall nodes on one PostgreSQL database behave as one site."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, PgTemplates, comment_body, make_test_settings
from townhall.app import create_app
from townhall.domain.services import Services
from townhall.domain.sites import create_site

pytestmark = pytest.mark.postgres


async def test_a_comment_posted_on_one_node_is_live_and_listed_on_the_other(
    tmp_path: Path, pg: PgTemplates
) -> None:
    url = pg.new_database()
    nodes = []
    for name in ("a", "b"):
        settings = make_test_settings(tmp_path / name, url)
        services = Services.from_settings(settings)
        nodes.append((settings, services))
    create_site(nodes[0][1].db, key="news", name="News", origins=["https://news.example"])
    params = {"site": "news", "thread": "/2026/11/story"}
    with (
        LiveServer(create_app(nodes[0][0], services=nodes[0][1])) as a,
        LiveServer(create_app(nodes[1][0], services=nodes[1][1])) as b,
    ):
        async with httpx.AsyncClient(timeout=10) as c:
            before = await c.get(b.url + "/api/v1/comments", params=params)
            etag = before.headers["etag"]
            async with c.stream("GET", b.url + "/api/v1/events", params=params) as events:
                lines = events.aiter_lines()
                assert (await anext(lines)).startswith("retry:")
                posted = await c.post(a.url + "/api/v1/comments", json=comment_body("via A"))
                assert posted.status_code == 201
                data = ""
                async with asyncio.timeout(10):  # without the relay B would never hear of it
                    while not data.startswith("data:"):
                        data = await anext(lines)
                assert "via A" in data
            after = await c.get(
                b.url + "/api/v1/comments", params=params, headers={"If-None-Match": etag}
            )
            assert after.status_code == 200
            assert [x["html"] for x in after.json()["comments"]] == ["<p>via A</p>"]
    for _settings, services in nodes:
        services.db.dispose()
