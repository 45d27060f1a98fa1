"""Soak: a mixed read/write load at a steady pace for a fixed time (5 minutes by default, 30
with `--soak-minutes 30`), the server's resident memory sampled every second. Zero errors
allowed; the memory must show no growth trend once warmed up (a least-squares slope over the
measured part, projected over its length, within a few percent)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from security.servers import ORIGIN, Server, Target, prepare, seed_thread

SITE = "soak"
# The default policy (rate limits per reader and address included), but no nudges (the texts
# are random words) and no duplicate or flood holds (the words repeat). Every post comes from a
# new reader at a new address (X-Forwarded-For from a trusted proxy), as on a busy site.
POLICY: dict[str, Any] = {
    "thread_rate": 0,
    "duplicate_window_minutes": 0,
    "flood_window_minutes": 0,
    "toxicity_nudge": None,
}
THREADS = 40
# Each client keeps at most this many comments of its own: posting past it deletes the oldest,
# so threads (and the pages cached from them) stop growing and memory can settle; what still
# grows after the warm-up is a leak, not more data.
MAX_OWN = 15
# The trend is read after a warm-up: at least the first quarter of the run, and until the
# thread page cache is full (every miss adds a page, so misses >= thread_cache_entries). Until
# then memory grows by design, up to the cache's size.
WARMUP_SHARE = 0.25
DEFAULT_CACHE_ENTRIES = 2048  # settings.thread_cache_entries


@dataclass
class SoakReport:
    database: str
    seconds: float
    requests: int
    by_kind: dict[str, int]
    errors: list[str]
    rss_mib: list[tuple[float, float]]  # (seconds since start, MiB)
    warmup_seconds: float = 0.0
    slope_mib_per_min: float = 0.0
    projected_growth_mib: float = 0.0
    start_mib: float = 0.0
    end_mib: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"soak [{self.database}]: {self.seconds / 60:.1f} min, {self.requests} requests "
            f"({self.requests / self.seconds:.0f}/s; "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.by_kind.items()))
            + f"), errors: {len(self.errors)}; RSS {self.start_mib:.1f} -> {self.end_mib:.1f} MiB "
            f"after a {self.warmup_seconds:.0f} s warm-up, trend {self.slope_mib_per_min:+.2f} "
            "MiB/min "
            f"({self.projected_growth_mib:+.1f} MiB over the measured part)"
        )


def page_misses(server: Server) -> float:
    """Thread page cache misses so far (each one stored a page), from /metrics."""
    try:
        text = httpx.get(server.url + "/metrics", timeout=10).text
    except httpx.HTTPError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("townhall_page_cache_misses "):
            return float(line.split()[1])
    return 0.0


def trend(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB), in MiB per minute."""
    n = len(samples)
    if n < 3:
        return 0.0
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    cov = sum((t - mean_t) * (m - mean_m) for t, m in samples)
    return cov / var * 60 if var else 0.0


class Client(threading.Thread):
    """One reader/writer doing a random mix at a fixed pace."""

    def __init__(
        self, n: int, url: str, rps: float, until: float, seed: int, tally: Counter[str]
    ) -> None:
        super().__init__(name=f"soak-{n}", daemon=True)
        self.n = n
        self.url = url
        self.interval = 1 / rps
        self.until = until
        self.rng = random.Random(seed)  # noqa: S311 (load shapes, not secrets)
        self.tally = tally
        self.errors: list[str] = []
        self.mine: list[tuple[str, str]] = []  # (comment id, edit token), oldest first
        self.seen: list[str] = []  # comment ids from listings
        self.seeded: list[str] = []  # the seeded comments: never deleted, replies go there

    def run(self) -> None:
        reader = f"soak-reader-{self.name}-{self.rng.random()}".replace(".", "")
        with httpx.Client(
            base_url=self.url, timeout=30, headers={"X-Townhall-Reader": reader}
        ) as client:
            due = time.monotonic()
            while due < self.until:
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                try:
                    self.step(client)
                except httpx.HTTPError as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                due += self.interval

    def check(self, kind: str, r: httpx.Response, ok: tuple[int, ...] = (200,)) -> Any:
        self.tally[kind] += 1
        if r.status_code not in ok:
            self.errors.append(f"{kind}: {r.status_code} {r.text[:200]}")
            return None
        return r.json() if r.headers.get("content-type", "").startswith("application/json") else r

    def step(self, c: httpx.Client) -> None:
        thread = f"/soak/{self.rng.randrange(THREADS)}"
        roll = self.rng.random()
        if roll < 0.55:
            params: dict[str, Any] = {"site": SITE, "thread": thread}
            params["sort"] = self.rng.choice(["oldest", "newest", "top"])
            params["limit"] = self.rng.choice([5, 20, 50])
            page = self.check("list", c.get("/api/v1/comments", params=params))
            if page and page["comments"]:
                self.seen = [x["id"] for x in page["comments"] if x["status"] == "published"][:20]
                self.seeded = [
                    x["id"] for x in page["comments"] if x["author"]["name"].startswith("Reader ")
                ][:20] or self.seeded
                if page["next_cursor"]:
                    more = {**params, "cursor": page["next_cursor"]}
                    self.check("list-next", c.get("/api/v1/comments", params=more))
        elif roll < 0.65:
            keys = [f"/soak/{self.rng.randrange(THREADS)}" for _ in range(5)]
            self.check("counts", c.get("/api/v1/counts", params={"site": SITE, "thread": keys}))
        elif roll < 0.80:
            if len(self.mine) >= MAX_OWN:  # steady state: the oldest of one's own goes first
                cid, token = self.mine.pop(0)
                headers = {"X-Townhall-Edit-Token": token}
                self.check("delete", c.delete(f"/api/v1/comments/{cid}", headers=headers))
            words = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(5, 60)))
            body: dict[str, Any] = {
                "site": SITE,
                "thread": thread,
                "text": f"{words} {self.rng.random()}",
                "author": {"name": "Soak", "email": "soak@example.org"},
                "thread_url": ORIGIN + thread,
            }
            if self.seeded and self.rng.random() < 0.3:
                body["parent_id"] = self.rng.choice(self.seeded)
            a, b = self.rng.randrange(256), self.rng.randrange(256)
            headers = {
                "X-Forwarded-For": f"10.{self.n}.{a}.{b}",
                "X-Townhall-Reader": f"soak-{self.n}-{self.rng.getrandbits(64):016x}",
            }
            posted = self.check(
                "post", c.post("/api/v1/comments", json=body, headers=headers), (201, 202, 422)
            )
            if posted and "comment" in posted:
                self.mine.append((posted["comment"]["id"], posted["edit_token"]))
        elif roll < 0.87 and self.seen:
            cid = self.rng.choice(self.seen)
            vote = {"value": self.rng.choice([1, -1, 0])}
            self.check("vote", c.post(f"/api/v1/comments/{cid}/vote", json=vote), (200, 404))
        elif roll < 0.92 and self.mine:
            cid, token = self.rng.choice(self.mine)
            headers = {"X-Townhall-Edit-Token": token}
            edit = {"text": "edited " + self.rng.choice(WORDS)}
            self.check(
                "edit", c.patch(f"/api/v1/comments/{cid}", json=edit, headers=headers), (200, 404)
            )
        elif roll < 0.97:
            self.check("preview", c.post("/api/v1/preview", json={"text": "*soak* " * 20}))
        elif roll < 0.985 and self.seen:
            cid = self.rng.choice(self.seen)
            flag = {"reason": "other", "note": "soak"}
            self.check("flag", c.post(f"/api/v1/comments/{cid}/flag", json=flag), (202, 404))
        else:  # a live-update listener that comes and goes
            self.tally["events"] += 1
            params = {"site": SITE, "thread": thread}
            with c.stream("GET", "/api/v1/events", params=params, timeout=10) as stream:
                if stream.status_code != 200:
                    self.errors.append(f"events: {stream.status_code}")
                for _ in stream.iter_raw():
                    break  # the first frame, then hang up


WORDS = [
    *("council", "bypass", "meadow", "budget", "reporter", "school", "river", "bridge"),
    *("vote", "mayor", "library", "tram", "night", "market", "harbour", "festival"),
]


def run_soak(
    target: Target,
    *,
    seconds: float = 300,
    clients: int = 6,
    rps_per_client: float = 8.0,
    max_growth_share: float = 0.05,
    cache_entries: int | None = None,
    log: Callable[[str], None] = print,
) -> SoakReport:
    prepare(target, {SITE: POLICY})
    for i in range(THREADS):
        seed_thread(target, SITE, f"/soak/{i}", 10)
    tally: Counter[str] = Counter()
    settings = {"rate_limit_reads": "0", "rate_limit_writes": "0", "trust_forwarded_for": "true"}
    if cache_entries is not None:
        settings["thread_cache_entries"] = str(cache_entries)
    with Server(target, settings=settings) as server:
        start = time.monotonic()
        until = start + seconds
        crew = [
            Client(n, server.url, rps_per_client, until, 1000 + n, tally) for n in range(clients)
        ]
        for client in crew:
            client.start()
        rss: list[tuple[float, float]] = []
        next_log = start + 60
        cache_full_at: float | None = None
        entries = cache_entries or DEFAULT_CACHE_ENTRIES
        while time.monotonic() < until:
            now = time.monotonic() - start
            rss.append((now, server.rss_bytes() / 2**20))
            if cache_full_at is None and len(rss) % 5 == 0 and page_misses(server) >= entries:
                cache_full_at = now
            if time.monotonic() >= next_log:
                log(
                    f"  soak [{target.kind}]: {sum(tally.values())} requests, "
                    f"RSS {rss[-1][1]:.1f} MiB"
                )
                next_log += 60
            time.sleep(1.0)
        for client in crew:
            client.join(timeout=60)
        healthy = httpx.get(server.url + "/healthz", timeout=10).status_code == 200
        server_log = server.log_text()
    elapsed = time.monotonic() - start
    warmup = max(seconds * WARMUP_SHARE, cache_full_at or 0.0)
    measured = [(t, m) for t, m in rss if t >= warmup]
    report = SoakReport(
        database=target.kind,
        seconds=elapsed,
        requests=sum(tally.values()),
        by_kind=dict(tally),
        errors=[e for c in crew for e in c.errors],
        rss_mib=rss,
        warmup_seconds=warmup,
    )
    if cache_full_at is None:
        report.problems.append("memory: the page cache never filled, the trend includes it")
    if len(measured) >= 10:
        report.slope_mib_per_min = trend(measured)
        span_min = (measured[-1][0] - measured[0][0]) / 60
        report.projected_growth_mib = report.slope_mib_per_min * span_min
        report.start_mib, report.end_mib = measured[0][1], measured[-1][1]
        allowed = max(max_growth_share * report.start_mib, 3.0)
        if report.projected_growth_mib > allowed:
            report.problems.append(
                f"memory: RSS grows {report.slope_mib_per_min:+.2f} MiB/min "
                f"({report.projected_growth_mib:+.1f} MiB > {allowed:.1f} allowed)"
            )
    if report.errors:
        report.problems.append(f"{len(report.errors)} errors, e.g. {report.errors[:3]}")
    if not healthy:
        report.problems.append("not healthy afterwards")
    if "Traceback" in server_log:
        report.problems.append("the server logged a traceback")
    log(report.line())
    return report
