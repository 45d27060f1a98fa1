"""The real thing: `townhall` processes on loopback sockets, restarts, operational routes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ORIGIN, LiveServer, comment_body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def townhall(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "townhall", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class ServerProcess:
    def __init__(self, env: dict[str, str], *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "townhall", "serve", "--port", str(self.port), *extra],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise RuntimeError(f"server did not start: {self.log.read()}")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=20)
        self.log.close()


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "TOWNHALL_DATA_DIR": str(tmp_path / "data"),
        "TOWNHALL_DATABASE_URL": database_url,
        "TOWNHALL_LOG_LEVEL": "warning",
    }


def test_comments_survive_a_restart(env: dict[str, str]) -> None:
    made = townhall("site", "add", "news", "--name", "News", "--origin", ORIGIN, env=env)
    assert made.returncode == 0, made.stderr
    server = ServerProcess(env)
    posted = httpx.post(server.url + "/api/v1/comments", json=comment_body("durable words"))
    assert posted.status_code == 201
    server.stop(signal.SIGKILL)  # not even a clean shutdown
    server = ServerProcess(env)
    try:
        page = httpx.get(
            server.url + "/api/v1/comments", params={"site": "news", "thread": "/2026/11/story"}
        ).json()
        assert [c["html"] for c in page["comments"]] == ["<p>durable words</p>"]
        assert page["thread"]["count"] == 1
    finally:
        server.stop()


def test_site_commands(env: dict[str, str]) -> None:
    assert townhall("site", "list", env=env).stdout.startswith("no sites yet")
    bad = townhall("site", "add", "Bad Key!", "--name", "x", env=env)
    assert bad.returncode != 0 and "site key" in bad.stderr
    bad_origin = townhall("site", "add", "ok", "--name", "x", "--origin", "news.example", env=env)
    assert bad_origin.returncode != 0 and "not an origin" in bad_origin.stderr
    assert townhall("site", "add", "ok", "--name", "OK", env=env).returncode == 0
    dup = townhall("site", "add", "ok", "--name", "OK", env=env)
    assert dup.returncode != 0 and "exists already" in dup.stderr
    upd = townhall(
        "site",
        "update",
        "ok",
        "--add-origin",
        "https://a.example:8443",
        "--edit-window",
        "5",
        "--policy",
        "premoderation=true",
        env=env,
    )
    assert upd.returncode == 0, upd.stderr
    listed = townhall("site", "list", env=env).stdout
    assert "https://a.example:8443" in listed and "5 minutes" in listed
    assert '"premoderation": true' in listed
    bad_policy = townhall("site", "update", "ok", "--policy", "toxicity_hold=7", env=env)
    assert bad_policy.returncode != 0 and "toxicity_hold" in bad_policy.stderr


def test_help_is_complete(env: dict[str, str]) -> None:
    top = townhall("--help", env=env)
    for command in ("serve", "init", "migrate", "site", "moderation"):
        assert command in top.stdout
    serve = townhall("serve", "--help", env=env).stdout
    for option in ("--host", "--port", "--database-url", "--demo", "--config"):
        assert option in serve


def test_init_writes_a_commented_config_that_serve_reads(
    tmp_path: Path, env: dict[str, str]
) -> None:
    config = tmp_path / "townhall.toml"
    assert townhall("init", str(config), env=env).returncode == 0
    text = config.read_text()
    assert "# database_url" in text and "TOWNHALL_PORT" in text
    assert townhall("init", str(config), env=env).returncode != 0  # no silent overwrite
    config.write_text(text.replace("# max_comment_chars = 10000", "max_comment_chars = 12"))
    env = {**env, "TOWNHALL_CONFIG": str(config)}
    townhall("site", "add", "news", "--name", "News", env=env)
    server = ServerProcess(env)
    try:
        r = httpx.post(server.url + "/api/v1/comments", json=comment_body("x" * 13))
        assert r.status_code == 422 and "12" in r.json()["error"]["message"]
    finally:
        server.stop()


async def test_operational_routes(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as c:
        health = await c.get("/healthz")
        assert health.json()["status"] == "ok" and health.json()["database"] is True
        await c.post("/api/v1/comments", json=comment_body())
        metrics = await c.get("/metrics")
        assert "townhall_http_requests_total" in metrics.text
        doc = (await c.get("/api/openapi.json")).json()
        assert doc["openapi"].startswith("3.")
        for path in (
            "/api/v1/comments",
            "/api/v1/comments/{id}",
            "/api/v1/counts",
            "/api/v1/preview",
            "/api/v1/comments/{id}/vote",
        ):
            assert path in doc["paths"]
        docs = await c.get("/api/docs")
        assert "POST /api/v1/comments" in docs.text


async def test_live_updates_arrive_over_sse(live_server: LiveServer) -> None:
    params = {"site": "news", "thread": "/2026/11/story"}
    async with (
        httpx.AsyncClient(base_url=live_server.url, timeout=10) as c,
        c.stream("GET", "/api/v1/events", params=params) as events,
    ):
        lines = events.aiter_lines()
        assert (await anext(lines)).startswith("retry:")
        await c.post("/api/v1/comments", json=comment_body("live!"))
        data = ""
        async with asyncio.timeout(10):
            while not data.startswith("data:"):
                data = await anext(lines)
        assert '"type":"comment"' in data and "live!" in data and '"count":1' in data
