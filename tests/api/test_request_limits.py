"""Request rate limits per address, counted in memory or in a real Redis."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from tests.conftest import app_client, comment_body, make_test_settings
from townhall.domain.services import Services
from townhall.domain.sites import create_site
from townhall.web.state import client_ip

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS", "redis://127.0.0.1:6379/15")


def redis_reason() -> str | None:
    try:
        import redis

        redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    return None


@pytest.fixture(params=["memory", "redis"])
def counter_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return ""
    reason = redis_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Redis tests: {reason}")
        pytest.skip(reason)
    return REDIS_URL


@pytest.fixture
def frozen_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every request of a test in one ten-second window (a slow machine may otherwise
    cross a window boundary mid-test and see the count reset)."""
    start = time.time() // 10 * 10 + 1
    monkeypatch.setattr("townhall.web.ratelimit.clock", lambda: start)


async def test_a_flooding_address_gets_429_and_others_do_not(
    tmp_path: Path, counter_url: str, frozen_window: None
) -> None:
    settings = make_test_settings(
        tmp_path,
        f"sqlite:///{tmp_path}/t.db",
        rate_limit_writes=30,
        rate_limit_reads=60,
        redis_url=counter_url,
        # a fresh secret per run keeps Redis keys of earlier runs out of the way
        secret_key=uuid.uuid4().hex,
    )
    services = Services.from_settings(settings)
    services.db.migrate()
    create_site(
        services.db,
        key="news",
        name="News",
        origins=["https://news.example"],
        policy={"rate_burst": 1000, "rate_sustained": 1000, "thread_rate": 0},
    )
    async with app_client(settings, services) as client:
        # the ASGI transport reports one client address; X-Forwarded-For is ignored by default
        responses = [
            await client.post("/api/v1/comments", json=comment_body(f"flood {i} {uuid.uuid4()}"))
            for i in range(8)
        ]
        codes = [r.status_code for r in responses]
        assert codes == [201] * 5 + [429] * 3
        limited = responses[-1]
        assert int(limited.headers["retry-after"]) >= 1
        assert "too many writes" in limited.json()["error"]["message"]
        reads = [
            (
                await client.get("/api/v1/comments", params={"site": "news", "thread": "/x"})
            ).status_code
            for _ in range(12)
        ]
        assert reads.count(200) == 10 and reads[-1] == 429
    services.db.dispose()


async def _read_statuses(
    data_dir: Path, headers: list[dict[str, str]], **settings_overrides: Any
) -> list[int]:
    """The status of one reader-API read per entry of ``headers``, in order, against a new
    site with a limit of 60 reads a minute (10 per window)."""
    data_dir.mkdir(exist_ok=True)
    settings = make_test_settings(
        data_dir, f"sqlite:///{data_dir}/t.db", rate_limit_reads=60, **settings_overrides
    )
    services = Services.from_settings(settings)
    services.db.migrate()
    create_site(services.db, key="news", name="News", origins=["https://news.example"])
    params = {"site": "news", "thread": "/x"}
    async with app_client(settings, services) as client:
        codes = [
            (await client.get("/api/v1/comments", params=params, headers=h)).status_code
            for h in headers
        ]
    services.db.dispose()
    return codes


async def test_limits_are_per_address_behind_a_trusted_proxy(
    tmp_path: Path, frozen_window: None
) -> None:
    flood = [{"X-Forwarded-For": "198.51.100.1"}] * 15
    other = [{"X-Forwarded-For": "198.51.100.2"}]
    codes = await _read_statuses(tmp_path, flood + other, trust_forwarded_for=True)
    assert 429 in codes[:15]
    assert codes[15] == 200


async def test_a_client_cannot_pick_its_address_past_the_proxy(
    tmp_path: Path, frozen_window: None
) -> None:
    """Behind a proxy that appends the address it saw, whatever the client put before it in
    X-Forwarded-For is not its address: a new made-up one per request gets no new allowance."""
    made_up = [{"X-Forwarded-For": f"10.0.0.{i}, 198.51.100.7"} for i in range(15)]
    assert 429 in await _read_statuses(tmp_path, made_up, trust_forwarded_for=True)


def test_the_address_moderation_sees_is_the_one_the_proxy_appended() -> None:
    # The per-address rate limits and address bans of the moderation checks hash this one.
    scope = {
        "type": "http",
        "headers": [(b"x-forwarded-for", b"10.9.9.9, 203.0.113.5")],
        "client": ("127.0.0.1", 4000),
    }
    assert client_ip(Request(scope), trust_forwarded=True) == "203.0.113.5"
    assert client_ip(Request(scope), trust_forwarded=False) == "127.0.0.1"


async def test_installations_sharing_a_redis_keep_their_own_counts(
    tmp_path: Path, frozen_window: None
) -> None:
    """Two nodes of one installation (one secret key) share an address's count; another
    installation on the same Redis (a staging site, a test run) starts from zero."""
    if redis_reason():
        pytest.skip(redis_reason() or "")
    secret = uuid.uuid4().hex

    async def reads(name: str, secret_key: str, n: int) -> list[int]:
        return await _read_statuses(
            tmp_path / name, [{}] * n, redis_url=REDIS_URL, secret_key=secret_key
        )

    assert await reads("node1", secret, 6) == [200] * 6
    assert await reads("node2", secret, 6) == [200] * 4 + [429] * 2  # 10 per window in all
    assert await reads("other", uuid.uuid4().hex, 6) == [200] * 6
