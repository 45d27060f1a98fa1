"""IP hashes expire; raw addresses are never stored."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select

from tests.conftest import comment_body
from townhall.domain.privacy import erase_expired_ip_hashes
from townhall.domain.services import Services
from townhall.store.schema import comments


async def test_ip_hashes_are_erased_after_the_retention_period(
    client: httpx.AsyncClient, services: Services
) -> None:
    await client.post("/api/v1/comments", json=comment_body("kept for a while"))
    with services.db.read() as conn:
        stored = conn.execute(select(comments.c.ip_hash, comments.c.text)).one()
    assert stored.ip_hash and len(stored.ip_hash) == 64 and "127.0.0.1" not in stored.ip_hash
    assert erase_expired_ip_hashes(services) == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=services.settings.ip_retention_days + 1)
    assert erase_expired_ip_hashes(services, now=later) == 1
    with services.db.read() as conn:
        after = conn.execute(select(comments.c.ip_hash, comments.c.text)).one()
    assert after.ip_hash is None and after.text == "kept for a while"
