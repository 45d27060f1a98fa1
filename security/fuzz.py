"""API fuzzing: schemathesis against townhall's own OpenAPI document, every operation, with
all of its phases (schema examples, coverage of boundaries and negative cases, random fuzzing,
stateful sequences). Checks: no 5xx, every status documented, every body and header as the
document says. A dictionary steers part of the generated values to a real site, threads and
comments, so the fuzzer also gets past the 404s into the write paths."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from security.servers import ORIGIN, Server, Target, prepare

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
OPEN_POLICY: dict[str, Any] = {
    "checks": ["closed", "ban", "banned_words"],
    "banned_words": ["forbiddenword"],
    "rate_burst": 1_000_000,
    "rate_sustained": 1_000_000,
    "thread_rate": 0,
}


@dataclass
class FuzzReport:
    database: str
    operations: int
    test_cases: int
    failures: list[str]
    server_errors_logged: int
    phases: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"fuzz [{self.database}]: {self.operations} operations, {self.test_cases} test "
            f"cases in {self.seconds:.0f} s (phases: "
            + ", ".join(f"{k} {v}" for k, v in self.phases.items())
            + f"), failures: {len(self.failures)}, 5xx in the server log: "
            f"{self.server_errors_logged}"
        )


def _config(path: Path, comment_ids: list[str]) -> None:
    def toml_list(values: list[str]) -> str:
        return "[" + ", ".join(json.dumps(v) for v in values) + "]"

    threads = ["/2026/11/story", "/2026/11/other", "/x"]
    path.write_text(
        f"""
[dictionaries]
sites = {{ values = {toml_list(["news", "news", "other"])} }}
threads = {{ values = {toml_list(threads)} }}
ids = {{ values = {toml_list(comment_ids)} }}
urls = {{ values = {toml_list([ORIGIN + t for t in threads])} }}

[parameters]
"query.site" = {{ dictionary = "sites", probability = 0.7 }}
"body.site" = {{ dictionary = "sites", probability = 0.7 }}
"query.thread" = {{ dictionary = "threads", probability = 0.6 }}
"body.thread" = {{ dictionary = "threads", probability = 0.6 }}
"body.threads[*]" = {{ dictionary = "threads", probability = 0.6 }}
"body.thread_url" = {{ dictionary = "urls", probability = 0.5 }}
"path.id" = {{ dictionary = "ids", probability = 0.7 }}
"body.parent_id" = {{ dictionary = "ids", probability = 0.5 }}
""",
        encoding="utf-8",
    )


def _seed(server: Server, count: int = 12) -> list[str]:
    ids: list[str] = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for i in range(count):
            body: dict[str, Any] = {
                "site": "news",
                "thread": "/2026/11/story",
                "text": f"Seed comment {i} for the fuzzer",
                "author": {"name": f"Seed {i}", "website": "https://example.org"},
                "thread_url": ORIGIN + "/2026/11/story",
            }
            if ids and i % 3:
                body["parent_id"] = ids[-1]
            r = client.post("/api/v1/comments", json=body)
            r.raise_for_status()
            ids.append(str(r.json()["comment"]["id"]))
    return ids


def admin_token(target: Target) -> str:
    from townhall.domain import accounts
    from townhall.store.database import Database

    db = Database(target.url)
    try:
        password = secrets.token_urlsafe(16)  # nobody signs in: the token is what is used
        user = accounts.create_user(
            db, email="fuzz-admin@example.org", password=password, role="admin"
        )
        return accounts.create_token(db, user, user.id, "fuzzer")[1]
    finally:
        db.dispose()


def run_fuzz(
    target: Target,
    *,
    examples: int = 50,
    seed: int = 1,
    phases: str = "examples,coverage,fuzzing,stateful",
    workers: int = 1,
    moderation: bool = False,
    log: Callable[[str], None] = print,
) -> FuzzReport:
    """Fuzz the document as served (/api/openapi.json): the reader API and /healthz,
    anonymously; with ``moderation`` the moderation API's operations (tag ``moderation``), as an
    admin (Bearer token)."""
    prepare(target, {"news": OPEN_POLICY, "other": OPEN_POLICY})
    workdir = target.data_dir
    config = workdir / "schemathesis.toml"
    name = "moderation" if moderation else "reader"
    report_path = workdir / f"schemathesis-{name}.json"
    token = admin_token(target) if moderation else ""
    with Server(target, settings={"rate_limit_reads": "0", "rate_limit_writes": "0"}) as server:
        _config(config, _seed(server))
        # One served document holds both APIs; its tags tell them apart.
        where = [server.url + "/api/openapi.json"]
        if moderation:
            where += ["--include-tag", "moderation", "-H", f"Authorization: Bearer {token}"]
        else:
            where += ["--exclude-tag", "moderation"]
        command = [
            *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run"),
            *where,
            *("--checks", ",".join(CHECKS), "--max-examples", str(examples)),
            *("--seed", str(seed), "--phases", phases, "--workers", str(workers)),
            *("--request-timeout", "30", "--suppress-health-check", "all", "--no-color"),
            *("--report", "json", "--report-json-path", str(report_path)),
        ]
        done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
            command, capture_output=True, text=True, timeout=3600, check=False, cwd=workdir
        )
        server_log = server.log_text()
    output = done.stdout + done.stderr
    (workdir / f"schemathesis-{name}.txt").write_text(output, encoding="utf-8")
    if not report_path.exists():
        raise RuntimeError(f"schemathesis wrote no report:\n{output[-3000:]}")
    data = json.loads(report_path.read_text(encoding="utf-8"))
    failures = [
        json.dumps(f, sort_keys=True)[:600]
        for f in data.get("failures", []) + data.get("errors", [])
    ]
    if done.returncode != 0:
        failures.append(f"schemathesis exited {done.returncode}:\n{done.stdout[-6000:]}")
    report = FuzzReport(
        database=f"{target.kind}, {name} API",
        operations=int(data["operations"]["tested"]),
        test_cases=int(data["test_cases"]["generated"]),
        failures=failures,
        server_errors_logged=server_log.count("unhandled error on"),
        phases={k: v["status"] for k, v in data["phases"].items()},
        seconds=float(data["running_time"]),
    )
    if report.server_errors_logged:
        report.failures.append("the server logged unhandled errors:\n" + server_log[-3000:])
    log(report.line())
    return report
