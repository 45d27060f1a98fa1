"""Moderation benchmark: what the pipeline costs per comment, and posting throughput.

    python bench/bench_moderation.py [--quick] [--json out.json]

Measured in one run, on one machine, against peers measured the same way:

1. Per-comment pipeline time (``moderate`` with the real SQLite-backed history) with every
   built-in check on, beside the toxicity check alone, the text-only checks, and each check
   by itself.
2. The word-list matcher against the usual peer, one case-insensitive ``\\b(?:w1|w2|…)\\b``
   regular expression over the raw text: time per comment, and how many obfuscated spellings
   each finds (Isso, the other self-hosted system we compare with, has no word filter to
   measure).
3. Posting throughput through ``submit_comment`` on SQLite (one transaction per comment),
   with every check on and with the pipeline switched off (``checks: []``). Goal: 500/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from townhall.domain.comments import NewComment, submit_comment
from townhall.domain.identity import Reader
from townhall.domain.services import Services
from townhall.domain.sites import create_site, update_site
from townhall.moderation.checks.toxicity import load_model
from townhall.moderation.normalise import compile_words, fold
from townhall.moderation.pipeline import (
    CheckContext,
    Submission,
    load_plugins,
    moderate,
    registry,
)
from townhall.moderation.policy import parse_policy
from townhall.settings import load_settings

ORIGIN = "https://news.example"
BANNED = [
    "idiot*", "moron*", "stupid*", "bullshit", "fuck*", "shit*", "cunt*", "asshole*", "bastard*",
    "retard*", "dickhead*", "wanker*", "twat*", "bitch*", "scum*", "kill yourself", "go die",
    "loser*", "imbecile*", "cretin*",
]  # fmt: skip
SUSPECT = [
    "scam*", "fraud*", "liar*", "traitor*", "crook*", "corrupt*", "propaganda", "shill*",
    "sheep*", "clown*", "pathetic", "disgrace*", "hoax", "fake news", "brainwash*",
    "puppet*", "coward*", "hypocrit*", "lunatic*", "nutjob*",
]  # fmt: skip
POLICY: dict[str, Any] = {
    "banned_words": BANNED,
    "suspect_words": SUSPECT,
    "max_links": 2,
    "link_allowlist": ["news.example", "wikipedia.org"],
    "link_blocklist": ["spam.example", "pills.example"],
    "hold_new_author_links": True,
    "first_time_hold": 1,
    "duplicate_window_minutes": 60,
    "flood_window_minutes": 10,
    "rate_burst": 1_000_000,
    "rate_sustained": 1_000_000,
    "thread_rate": 1_000_000,
}
# fmt: off
WORDS = [
    "the", "council", "budget", "plan", "bus", "timetable", "village", "school", "road", "bridge",
    "minister", "election", "vote", "policy", "tax", "housing", "rent", "market", "price", "water",
    "river", "park", "library", "police", "court", "report", "data", "figure", "article",
    "reporter", "editor", "week", "year", "today", "evening", "morning", "town", "city", "county",
    "decision", "agree", "disagree", "think", "believe", "wrong", "right", "fair", "unfair",
    "clear", "unclear", "cost", "money", "people", "residents", "families", "workers", "children",
    "local", "national", "and", "but", "because", "so", "which", "that", "with", "for", "about",
    "from", "after", "before", "should", "would", "could", "will", "must", "is", "was", "are",
    "were", "has", "have",
]
# fmt: on
OBFUSCATED = [
    "b*llsh!t",
    "i d i o t",
    "1d10t",
    "stuuupid",
    "id\u200biot",
    "\u0456d\u0456\u043et",
    "m0r0n",
    "f**k",
    "sh!t",
    "a$$hole",
    "r e t a r d",
    "st\u00fcpid",
    "MORON",
    "Idiots!",
    "l0ser",
    "scumbag",
    "f.u.c.k",
    "bu11sh1t",
    "cr3tin",
    "imb3cile",
]  # fmt: skip


def make_texts(n: int, seed: int = 7) -> list[str]:
    """Comments of 10-80 words; one in ten has a link, one in twenty an obfuscated insult."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        words = [rnd.choice(WORDS) for _ in range(rnd.randint(10, 80))]
        if i % 10 == 3:
            words.insert(
                rnd.randrange(len(words)), rnd.choice(["example.org/x", "https://a.net/b"])
            )
        if i % 20 == 7:
            words.insert(rnd.randrange(len(words)), rnd.choice(OBFUSCATED))
        text = " ".join(words).capitalize() + "."
        out.append(text)
    return out


def reader(n: int) -> Reader:
    return Reader(
        reader_id=hashlib.sha256(f"r{n}".encode()).hexdigest(),
        ip_hash=hashlib.sha256(f"i{n}".encode()).hexdigest(),
    )


def services_at(folder: Path) -> Services:
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": folder,
            "database_url": f"sqlite:///{folder / 'bench.db'}",
            "secret_key": "bench-secret-0123456789",
        },
    )
    svc = Services.from_settings(settings)
    svc.db.migrate()
    return svc


def timed(fn: Any, items: list[Any]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each call. On a shared machine the CPU time (this
    process's, SQLite included, as it runs in-process) is the steadier figure."""
    wall, cpu = [], []
    for item in items:
        w, c = time.perf_counter(), time.process_time()
        fn(item)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return wall, cpu


def summary(samples: tuple[list[float], list[float]]) -> dict[str, float]:
    wall, cpu = samples
    ordered = sorted(wall)
    return {
        "mean_us": statistics.fmean(wall) * 1e6,
        "p50_us": ordered[len(ordered) // 2] * 1e6,
        "p99_us": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6,
        "cpu_mean_us": statistics.fmean(cpu) * 1e6,
    }


def seed_history(svc: Services, texts: list[str]) -> None:
    """Comments from 200 readers on 20 threads, so history questions hit real rows."""
    set_policy(svc, {**POLICY, "checks": []})
    for i, text in enumerate(texts):
        submit_comment(
            svc,
            NewComment(
                site="news",
                thread=f"/story-{i % 20}",
                text=text + f" ({i})",
                author_name="Reader",
                thread_url=f"{ORIGIN}/story-{i % 20}",
            ),
            reader(i % 200),
        )


def set_policy(svc: Services, policy: dict[str, Any]) -> None:
    update_site(svc.db, "news", policy_changes=policy)
    svc.sites.forget()


def bench_pipeline(svc: Services, texts: list[str]) -> dict[str, Any]:
    load_plugins()
    now = dt.datetime.now(dt.UTC)
    subs = [
        Submission(
            site_id=1,
            thread_id=1 + i % 20,
            thread_closed=False,
            text=t,
            author_name="Reader",
            author_website=None,
            email_hash=None,
            reader_id=reader(i % 200).reader_id,
            ip_hash=reader(i % 200).ip_hash,
            now=now,
        )
        for i, t in enumerate(texts)
    ]
    configs: dict[str, list[str] | None] = {
        "all checks": None,
        "toxicity only": ["toxicity"],
        "text-only checks": ["banned_words", "suspect_words", "links", "toxicity"],
    }
    for name in registry.checks:
        configs[f"  {name}"] = [name]
    out = {}
    for label, checks in configs.items():
        policy = parse_policy({**POLICY, "checks": checks})
        ctx = CheckContext(policy=policy, history=svc.history)
        for sub in subs[:50]:  # warm caches: compiled lists, folded texts, the model
            moderate(sub, ctx)
        fold.cache_clear()  # but not the per-text folding: each comment arrives once
        out[label] = summary(timed(lambda s, c=ctx: moderate(s, c), subs))
    return out


def bench_matcher(texts: list[str]) -> dict[str, Any]:
    matcher = compile_words(BANNED)
    naive = re.compile(
        r"\b(?:" + "|".join(re.escape(w).replace(r"\*", r"\w*") for w in BANNED) + r")\b",
        re.IGNORECASE,
    )
    fold.cache_clear()
    ours = timed(matcher.find, texts)
    peer = timed(naive.search, texts)
    found_ours = sum(bool(matcher.find(f"you {w} there")) for w in OBFUSCATED)
    found_peer = sum(bool(naive.search(f"you {w} there")) for w in OBFUSCATED)
    return {
        "townhall matcher": {**summary(ours), "obfuscations_found": found_ours},
        "naive regex (peer)": {**summary(peer), "obfuscations_found": found_peer},
        "obfuscations_tried": len(OBFUSCATED),
    }


def bench_posting(folder: Path, texts: list[str], checks: list[str] | None) -> dict[str, float]:
    svc = services_at(folder)
    create_site(svc.db, key="news", name="News", origins=[ORIGIN])
    set_policy(svc, {**POLICY, "checks": checks, "first_time_hold": 0})
    load_model()
    start, cpu = time.perf_counter(), time.process_time()
    for i, text in enumerate(texts):
        submit_comment(
            svc,
            NewComment(
                site="news",
                thread=f"/story-{i % 50}",
                text=text,
                author_name="Reader",
                thread_url=f"{ORIGIN}/story-{i % 50}",
            ),
            reader(i),  # a new reader each time: nothing is a duplicate or over a limit
        )
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    svc.db.dispose()
    return {"wall": len(texts) / elapsed, "cpu": len(texts) / cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer comments, for a smoke run")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    n = 300 if args.quick else 2000
    texts = make_texts(n)
    model = load_model()
    report: dict[str, Any] = {
        "comments": n,
        "toxicity_model": model is not None,
        "python": sys.version.split()[0],
    }
    with tempfile.TemporaryDirectory() as tmp:
        svc = services_at(Path(tmp))
        create_site(svc.db, key="news", name="News", origins=[ORIGIN])
        seed_history(svc, make_texts(n, seed=11))
        report["pipeline"] = bench_pipeline(svc, texts)
        svc.db.dispose()
    report["matcher"] = bench_matcher(texts)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        all_on = bench_posting(Path(a), texts, None)
        off = bench_posting(Path(b), texts, [])
    report["posting_per_second"] = {"all checks": all_on, "no checks (peer)": off}

    print(f"townhall moderation benchmark: {n} comments, toxicity model: {model is not None}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("\nper-comment pipeline time (moderate, SQLite history): wall clock, and CPU time")
    for label, s in report["pipeline"].items():
        print(
            f"  {label:<24} mean {s['mean_us']:7.0f} µs  p50 {s['p50_us']:7.0f}  "
            f"p99 {s['p99_us']:7.0f}  cpu {s['cpu_mean_us']:6.0f} µs"
        )
    m = report["matcher"]
    print(f"\nword-list matcher vs naive regex ({len(BANNED)} banned patterns)")
    for label in ("townhall matcher", "naive regex (peer)"):
        s = m[label]
        print(
            f"  {label:<24} mean {s['mean_us']:7.1f} µs  cpu {s['cpu_mean_us']:6.1f} µs  "
            f"found {s['obfuscations_found']}/{m['obfuscations_tried']} obfuscations"
        )
    p = report["posting_per_second"]
    on, off = p["all checks"], p["no checks (peer)"]
    print("\nposting throughput, submit_comment on SQLite, one thread (goal 500/s)")
    print(f"  all checks        {on['wall']:6.0f}/s wall  {on['cpu']:6.0f}/s per CPU-second")
    print(f"  no checks (peer)  {off['wall']:6.0f}/s wall  {off['cpu']:6.0f}/s per CPU-second")
    print(
        f"  ratio             {on['wall'] / off['wall']:6.2f}       {on['cpu'] / off['cpu']:6.2f}"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
