"""Crash safety: writers post, reply, edit, delete and vote as fast as they can while the
server is killed with SIGKILL, restarted, and killed again. Afterwards every write that was
acknowledged must be there, intact; nothing may be there that was never sent; every counter
must agree with the rows it counts; and the database engine must find its files sound."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import create_engine, select

from security.integrity import consistency_problems, storage_problems
from security.servers import ORIGIN, Server, Target, prepare

SITE = "crash"
THREADS = [f"/crash/{i}" for i in range(3)]
# Moderation stays on (bans, closed threads, a suspect word) so held comments (202) and their
# moderation records are part of what a crash must not tear apart.
POLICY: dict[str, Any] = {
    "checks": ["closed", "ban", "suspect_words"],
    "suspect_words": ["holdme"],
    "rate_burst": 1_000_000,
    "rate_sustained": 1_000_000,
    "thread_rate": 0,
}
HOLD_WORD = "holdme"


@dataclass
class Versions:
    """What a field may read after the crash: every value sent, in order, and which of them
    were acknowledged. The last acknowledged value, or one sent after it, must be there."""

    values: list[tuple[Any, bool]] = field(default_factory=list)

    def allowed(self) -> list[Any]:
        last = max((i for i, (_, ok) in enumerate(self.values) if ok), default=0)
        return [v for v, _ in self.values[last:]]


@dataclass
class Posted:
    token: str
    thread: str
    name: str
    parent: int | None
    acked: bool
    comment_id: int | None = None
    status: str | None = None  # "published" or "pending" when acknowledged
    edit_token: str | None = None
    texts: Versions = field(default_factory=Versions)
    deleted: Versions = field(default_factory=Versions)  # False, then True when deleted


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    posts: dict[str, Posted] = field(default_factory=dict)  # by the unique token in the text
    votes: dict[tuple[str, int], Versions] = field(default_factory=dict)  # (voter, comment)
    requests: int = 0
    acked: dict[str, int] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=dict)  # cut off by the kill
    unexpected: list[str] = field(default_factory=list)

    def count(self, bucket: dict[str, int], kind: str) -> None:
        with self.lock:
            bucket[kind] = bucket.get(kind, 0) + 1

    def acked_posts(self) -> list[Posted]:
        with self.lock:
            return [p for p in self.posts.values() if p.acked and p.comment_id is not None]


@dataclass
class KillReport:
    database: str
    kills: int
    requests: int
    acked: dict[str, int]
    cut_off: dict[str, int]
    comments_checked: int
    problems: list[str]
    ledger: Ledger | None = None

    def line(self) -> str:
        acked = ", ".join(f"{v} {k}" for k, v in sorted(self.acked.items()))
        return (
            f"kill loop [{self.database}]: {self.kills} SIGKILLs survived, {self.requests} "
            f"requests, acknowledged: {acked}; {sum(self.cut_off.values())} cut off by a kill; "
            f"{self.comments_checked} comments verified; problems: {len(self.problems)}"
        )


class Writer(threading.Thread):
    """One client writing as fast as the server answers, until told to stop or cut off."""

    def __init__(self, n: int, url: str, ledger: Ledger, stop: threading.Event, seed: int):
        super().__init__(name=f"writer-{n}", daemon=True)
        self.n = n
        self.url = url
        self.ledger = ledger
        self.stop = stop
        self.rng = random.Random(seed)  # noqa: S311 (load shapes, not secrets)
        self.reader = f"writer{n}-" + uuid.uuid5(uuid.NAMESPACE_URL, str(seed)).hex
        self.mine: list[Posted] = []

    def run(self) -> None:
        with httpx.Client(
            base_url=self.url, timeout=20, headers={"X-Townhall-Reader": self.reader}
        ) as client:
            while not self.stop.is_set():
                try:
                    self.step(client)
                except httpx.TransportError:
                    return  # the server is gone; what was in flight stays "unknown"

    def step(self, client: httpx.Client) -> None:
        roll = self.rng.random()
        own = [p for p in self.mine if p.acked and p.status and not p.deleted.values]
        if roll < 0.10 and own:
            self.edit(client, self.rng.choice(own))
        elif roll < 0.14 and own:
            self.delete(client, self.rng.choice(own))
        elif roll < 0.30:
            published = [p for p in self.ledger.acked_posts() if p.status == "published"]
            if published:
                self.vote(client, self.rng.choice(published))
        else:
            self.post(client)

    def _call(
        self,
        kind: str,
        register: Callable[[], None],
        send: Callable[[], Any],
        benign: Callable[[httpx.Response], bool] = lambda r: False,
    ) -> Any:
        with self.ledger.lock:
            self.ledger.requests += 1
            register()
        try:
            response = send()
        except httpx.TransportError:
            self.ledger.count(self.ledger.unknown, kind)
            raise
        if response.status_code >= 300:
            if benign(response):
                return None
            with self.ledger.lock:
                self.ledger.unexpected.append(
                    f"{kind}: {response.status_code} {response.text[:200]}"
                )
            return None
        self.ledger.count(self.ledger.acked, kind)
        return response

    def post(self, client: httpx.Client) -> None:
        token = uuid.uuid4().hex
        thread = self.rng.choice(THREADS)
        parents = [
            p
            for p in self.ledger.acked_posts()
            if p.thread == thread and p.status == "published" and not p.deleted.values
        ]
        parent = self.rng.choice(parents) if parents and self.rng.random() < 0.3 else None
        words = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(3, 40)))
        hold = f" {HOLD_WORD}" if self.rng.random() < 0.15 else ""
        text = f"{token} {words}{hold} **end**"
        name = f"Writer {self.n} ünïcode ✓"
        entry = Posted(token, thread, name, parent.comment_id if parent else None, acked=False)
        entry.texts.values.append((text, False))
        body: dict[str, Any] = {
            "site": SITE,
            "thread": thread,
            "text": text,
            "author": {"name": name, "email": f"w{self.n}@example.org"},
            "thread_title": f"Crash thread {thread}",
            "thread_url": ORIGIN + thread,
        }
        if parent is not None:
            body["parent_id"] = str(parent.comment_id)

        def register() -> None:
            self.ledger.posts[token] = entry

        response = self._call("post", register, lambda: client.post("/api/v1/comments", json=body))
        if response is None:
            return
        data = response.json()
        with self.ledger.lock:
            entry.acked = True
            entry.comment_id = int(data["comment"]["id"])
            entry.status = data["status"]
            entry.edit_token = data["edit_token"]
            entry.texts.values[0] = (text, True)
        self.mine.append(entry)

    def edit(self, client: httpx.Client, entry: Posted) -> None:
        text = f"{entry.token} edited {uuid.uuid4().hex[:8]} " + self.rng.choice(WORDS)

        def register() -> None:
            entry.texts.values.append((text, False))

        response = self._call(
            "edit",
            register,
            lambda: client.patch(
                f"/api/v1/comments/{entry.comment_id}",
                json={"text": text},
                headers={"X-Townhall-Edit-Token": entry.edit_token or ""},
            ),
        )
        if response is not None:
            with self.ledger.lock:
                entry.texts.values[-1] = (text, True)

    def delete(self, client: httpx.Client, entry: Posted) -> None:
        def register() -> None:
            entry.deleted.values.append((True, False))

        response = self._call(
            "delete",
            register,
            lambda: client.delete(
                f"/api/v1/comments/{entry.comment_id}",
                headers={"X-Townhall-Edit-Token": entry.edit_token or ""},
            ),
        )
        if response is not None:
            with self.ledger.lock:
                entry.deleted.values[-1] = (True, True)

    def vote(self, client: httpx.Client, entry: Posted) -> None:
        assert entry.comment_id is not None
        value = self.rng.choice([1, 1, -1, 0])
        key = (self.reader, entry.comment_id)

        def register() -> None:
            self.ledger.votes.setdefault(key, Versions([(0, True)])).values.append((value, False))

        def raced(response: httpx.Response) -> bool:
            # its author deleted it meanwhile: the vote is refused and nothing changes
            with self.ledger.lock:
                versions = self.ledger.votes[key].values
                versions.remove((value, False))
            return response.status_code == 404 and bool(entry.deleted.values)

        response = self._call(
            "vote",
            register,
            lambda: client.post(f"/api/v1/comments/{entry.comment_id}/vote", json={"value": value}),
            benign=raced,
        )
        if response is not None:
            with self.ledger.lock:
                versions = self.ledger.votes[key].values
                index = max(i for i, (v, ok) in enumerate(versions) if v == value and not ok)
                versions[index] = (value, True)


WORDS = [
    *("council", "bypass", "meadow", "budget", "reporter", "school", "river", "bridge"),
    *("vote", "mayor", "library", "tram", "night", "market", "harbour", "festival"),
    *("winter", "storm", "ferry", "museum", "archive", "station"),
]


def ledger_problems(target: Target, ledger: Ledger) -> tuple[int, list[str]]:
    """Compare what the clients were told with what the database holds."""
    from townhall.domain.identity import token_hash
    from townhall.domain.rendering import render_markdown
    from townhall.store.schema import comments, threads, votes

    problems: list[str] = []
    engine = create_engine(target.url)
    try:
        with engine.connect() as conn:
            thread_keys = dict(conn.execute(select(threads.c.id, threads.c.key)).all())
            rows = list(conn.execute(select(comments)).mappings())
            vote_rows = {
                (r.voter, r.comment_id): r.value for r in conn.execute(select(votes)).all()
            }
    finally:
        engine.dispose()
    by_token: dict[str, Any] = {}
    row: Any
    for row in rows:
        token = row["text"].split(" ", 1)[0]
        if token not in ledger.posts:
            problems.append(f"comment {row['id']} was never sent: {row['text'][:60]!r}")
            continue
        by_token[token] = row
        deleted = row["status"] == "deleted"
        if not deleted and row["html"] != render_markdown(row["text"]):
            problems.append(f"comment {row['id']}: html does not match its text")
    checked = 0
    for token, entry in ledger.posts.items():
        row = by_token.get(token)
        if row is None:
            if entry.acked:
                problems.append(f"acknowledged comment {entry.comment_id} is missing")
            continue
        checked += 1
        where = f"comment {row['id']}"
        if entry.acked and row["id"] != entry.comment_id:
            problems.append(f"{where}: id {row['id']} but the client was told {entry.comment_id}")
        if thread_keys.get(row["thread_id"]) != entry.thread:
            problems.append(f"{where}: in the wrong thread")
        if row["parent_id"] != entry.parent:
            problems.append(f"{where}: parent {row['parent_id']}, sent {entry.parent}")
        if row["author_name"] != entry.name:
            problems.append(f"{where}: author {row['author_name']!r} is not {entry.name!r}")
        may_be_deleted = bool(entry.deleted.values)
        must_be_deleted = any(ok for _, ok in entry.deleted.values)
        if row["status"] == "deleted":
            if not may_be_deleted:
                problems.append(f"{where}: deleted, but nobody deleted it")
            continue
        if must_be_deleted:
            problems.append(f"{where}: its deletion was acknowledged, yet it is {row['status']}")
        if row["text"] not in entry.texts.allowed():
            problems.append(f"{where}: text is not the last acknowledged version")
        if entry.status and row["status"] != entry.status:
            problems.append(f"{where}: {row['status']}, the client was told {entry.status}")
    for (reader, comment_id), versions in ledger.votes.items():
        voter = "r:" + token_hash(reader)[:40]
        if vote_rows.get((voter, comment_id), 0) not in versions.allowed():
            problems.append(f"vote of {reader} on {comment_id} is not what was acknowledged")
    return checked, problems


def api_problems(server: Server, target: Target) -> list[str]:
    """What readers see after the crashes agrees with the database."""
    problems: list[str] = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        health = client.get("/healthz")
        if health.status_code != 200:
            problems.append(f"healthz {health.status_code}")
        counts = client.get("/api/v1/counts", params={"site": SITE, "thread": list(THREADS)})
        for thread in THREADS:
            listed = client.get(
                "/api/v1/comments", params={"site": SITE, "thread": thread, "limit": 100}
            ).json()
            top = len([c for c in listed["comments"] if c["depth"] == 0])
            if counts.json()["counts"][thread] != listed["thread"]["count"]:
                problems.append(f"{thread}: counts and listing disagree")
            if top == 0 and listed["thread"]["count"]:
                problems.append(f"{thread}: count {listed['thread']['count']} but nothing listed")
    return problems


def run_kill_loop(
    target: Target,
    *,
    kills: int = 20,
    writers: int = 4,
    seed: int = 1,
    min_seconds: float = 0.5,
    max_seconds: float = 2.0,
    log: Callable[[str], None] = print,
) -> KillReport:
    prepare(target, {SITE: POLICY})
    rng = random.Random(seed)  # noqa: S311 (kill timing, not secrets)
    ledger = Ledger()
    server = Server(target, settings={"rate_limit_reads": "0", "rate_limit_writes": "0"})
    for round_ in range(kills):
        server.start()
        stop = threading.Event()
        crew = [
            Writer(n, server.url, ledger, stop, seed * 1000 + round_ * 10 + n)
            for n in range(writers)
        ]
        before = ledger.requests
        for w in crew:
            w.start()
        # Kill mid-stream, not during the first (cold) requests after a start.
        deadline = time.monotonic() + 30
        while ledger.requests < before + 2 * writers and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(min_seconds, max_seconds))
        server.kill()
        stop.set()
        for w in crew:
            w.join(timeout=30)
        log(
            f"  kill {round_ + 1}/{kills} [{target.kind}]: {ledger.requests} requests so far, "
            f"{ledger.acked.get('post', 0)} posts acknowledged"
        )
    problems = [f"unexpected answer {u}" for u in ledger.unexpected]
    server.start()
    try:
        problems += api_problems(server, target)
    finally:
        server.stop()
    checked, found = ledger_problems(target, ledger)
    problems += found
    problems += consistency_problems(target)
    problems += storage_problems(target)
    return KillReport(
        database=target.kind,
        kills=kills,
        requests=ledger.requests,
        acked=dict(ledger.acked),
        cut_off=dict(ledger.unknown),
        comments_checked=checked,
        problems=problems,
        ledger=ledger,
    )
