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
# moderation memos in use are full (each within 5 % of its byte budget, as /metrics reports
# them): they fill by design, up to their budgets, one entry per new comment; the duplicate
# check's takes about 13 minutes at this pace, so a 5-minute run ends before it is full and its
# trend includes the filling (the report says so). What every bounded cache holds after the
# warm-up and at the end is reported beside the trend. (The page cache never fills here: every
# write drops its thread's older pages, so it holds about a hundred pages, ~0.2 MiB.)
WARMUP_SHARE = 0.25
FULL = 0.95  # a memo within 5 % of its budget is full


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
    # MiB each bounded cache holds (as it weighs itself), after the warm-up and at the end
    caches_start: dict[str, float] = field(default_factory=dict)
    caches_end: dict[str, float] = field(default_factory=dict)
    memos_full_seconds: float | None = None  # when the moderation memos were full, if ever
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"soak [{self.database}]: {self.seconds / 60:.1f} min, {self.requests} requests "
            f"({self.requests / self.seconds:.0f}/s; "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.by_kind.items()))
            + f"), errors: {len(self.errors)}; RSS {self.start_mib:.1f} -> {self.end_mib:.1f} MiB "
            f"after a {self.warmup_seconds:.0f} s warm-up ("
            + (
                f"memos full at {self.memos_full_seconds:.0f} s"
                if self.memos_full_seconds is not None
                else "memos still filling at the end"
            )
            + f"), trend {self.slope_mib_per_min:+.2f} "
            "MiB/min "
            f"({self.projected_growth_mib:+.1f} MiB over the measured part); bounded caches "
            f"{self.cache_mib(self.caches_start):.1f} -> {self.cache_mib(self.caches_end):.1f} "
            "MiB as they weigh themselves ("
            + ", ".join(
                f"{k} {self.caches_start.get(k, 0):.1f} -> {v:.1f}"
                for k, v in sorted(self.caches_end.items())
                if k != "words"
            )
            + f"), toxicity word cache {self.caches_start.get('words', 0):.0f} -> "
            f"{self.caches_end.get('words', 0):.0f} words"
        )

    @staticmethod
    def cache_mib(fill: dict[str, float]) -> float:
        return sum(v for k, v in fill.items() if k != "words")


CACHE_GAUGES = ("townhall_cache_bytes{", "townhall_memo_bytes{")
BUDGET_GAUGE = "townhall_memo_budget_bytes{"
WORD_CACHE = 'townhall_memo_entries{memo="toxicity.normalize_word"}'


def cache_fill(server: Server) -> tuple[dict[str, float], dict[str, float]]:
    """MiB held by each bounded cache (pages, snapshots, moderation memos), with the entries
    of the toxicity model's word cache (bounded by count only) as "words"; and the moderation
    memos' budgets in MiB. From /metrics."""
    try:
        text = httpx.get(server.url + "/metrics", timeout=10).text
    except httpx.HTTPError:
        return {}, {}
    fill: dict[str, float] = {}
    budgets: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith((*CACHE_GAUGES, BUDGET_GAUGE)):
            labels, value = line.rsplit(" ", 1)
            into = budgets if line.startswith(BUDGET_GAUGE) else fill
            into[labels.split('"')[1]] = float(value) / 2**20
        elif line.startswith(WORD_CACHE):
            fill["words"] = float(line.rsplit(" ", 1)[1])
    return fill, budgets


def memos_full(fill: dict[str, float], budgets: dict[str, float]) -> bool:
    """Every moderation memo in use holds FULL of its budget (unused ones stay empty)."""
    used = [name for name in budgets if fill.get(name, 0) > 0]
    return bool(used) and all(fill[name] >= FULL * budgets[name] for name in used)


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
        fills: list[tuple[float, dict[str, float]]] = []  # every 10 s
        full_at: float | None = None
        while time.monotonic() < until:
            now = time.monotonic() - start
            rss.append((now, server.rss_bytes() / 2**20))
            if len(rss) % 10 == 1:
                fill, budgets = cache_fill(server)
                fills.append((now, fill))
                if full_at is None and memos_full(fill, budgets):
                    full_at = now
            if time.monotonic() >= next_log:
                log(
                    f"  soak [{target.kind}]: {sum(tally.values())} requests, "
                    f"RSS {rss[-1][1]:.1f} MiB"
                )
                next_log += 60
            time.sleep(1.0)
        for client in crew:
            client.join(timeout=60)
        caches_end, _ = cache_fill(server)
        healthy = httpx.get(server.url + "/healthz", timeout=10).status_code == 200
        server_log = server.log_text()
    elapsed = time.monotonic() - start
    warmup = max(seconds * WARMUP_SHARE, full_at if full_at is not None else 0.0)
    caches_start = next((fill for t, fill in fills if t >= warmup), caches_end)
    measured = [(t, m) for t, m in rss if t >= warmup]
    report = SoakReport(
        database=target.kind,
        seconds=elapsed,
        requests=sum(tally.values()),
        by_kind=dict(tally),
        errors=[e for c in crew for e in c.errors],
        rss_mib=rss,
        warmup_seconds=warmup,
        caches_start=caches_start,
        caches_end=caches_end,
        memos_full_seconds=full_at,
    )
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
    else:
        report.problems.append(f"memory: {len(measured)} samples after the warm-up, no trend")
    if report.errors:
        report.problems.append(f"{len(report.errors)} errors, e.g. {report.errors[:3]}")
    if not healthy:
        report.problems.append("not healthy afterwards")
    if "Traceback" in server_log:
        report.problems.append("the server logged a traceback")
    log(report.line())
    return report
