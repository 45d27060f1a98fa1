"""Widget benchmark: what the reader's browser downloads, and how long until a 1,000-comment
thread is on screen, for townhall's embed.js and for Isso's (the peer), in the same run.

    python bench/bench_widget.py [--runs 7] [--no-isso] [--json out.json]

1. Sizes: raw and gzipped (level 9, as the server sends them) of townhall's embed.js (CSS
   inlined) and count.js, beside Isso 0.14.0's embed.min.js (CSS inlined too) and
   count.min.js from the PyPI package (installed in bench/.cache/isso-venv by the harness).
2. Time to a rendered thread in headless Debian chromium, median of --runs cold page loads
   (new browser context each time, so nothing cached): from the moment the host page's
   inline script before the widget's <script> runs, to the first animation frame where all
   the thread's comments are in the DOM. The host page is on another origin than the
   comment server, as on a publisher's site. Thread: 1,000 comments, 100 top-level, each
   with 9 replies up to depth 3; the same texts, names and times for both systems.
   - townhall, full thread: data-townhall-page-size="100" -> one request, 1,000 comments.
   - townhall, first view (default page size 20): 200 comments, the rest behind
     "Load more comments".
   - Isso, full thread: data-isso-max-comments-nested="inf" (its default shows 5 replies
     per comment), 1,000 comments in one request (Isso stores two levels).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import http.server
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

import uvicorn  # noqa: E402

from townhall.app import create_app  # noqa: E402
from townhall.domain.rendering import render_markdown  # noqa: E402
from townhall.domain.services import Services  # noqa: E402
from townhall.domain.sites import create_site  # noqa: E402
from townhall.settings import load_settings  # noqa: E402
from townhall.store import comments as comment_store  # noqa: E402
from townhall.store import threads as thread_store  # noqa: E402
from townhall.types import CommentStatus  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
THREAD = "/bench/thread"
STATIC = REPO / "townhall" / "static"
WORDS = [
    "the", "council", "bypass", "meadow", "traffic", "lorries", "road", "vote", "budget",
    "flood", "school", "residents", "cyclists", "bridge", "consultation", "grant", "station",
    "town", "plan", "years", "people", "evidence", "fair", "point",
]  # fmt: skip


# --------------------------------------------------------------------------- sizes


def sizes(path: Path) -> dict[str, int]:
    body = path.read_bytes()
    return {"raw": len(body), "gzip": len(gzip.compress(body, compresslevel=9, mtime=0))}


def isso_files(no_isso: bool) -> tuple[Path | None, str]:
    """Isso's venv (the harness installs isso==0.14.0 from PyPI into bench/.cache)."""
    if no_isso:
        return None, "skipped (--no-isso)"
    try:
        from harness import servers

        venv = BENCH / ".cache" / "isso-venv"
        venv.parent.mkdir(parents=True, exist_ok=True)
        servers.ensure_isso(venv, BENCH / ".cache" / "isso-install.log")
        found = sorted(venv.glob("lib/python*/site-packages/isso"))
        return (venv if found else None), ("ok" if found else "isso not found in its venv")
    except Exception as exc:  # a missing peer must not hide our own numbers
        return None, f"unavailable: {exc.__class__.__name__}: {exc}"


# --------------------------------------------------------------------------- the thread


def make_thread(seed: int = 7) -> list[dict[str, Any]]:
    """1,000 comments: 100 top-level, each with 9 replies: 3 answers, 5 answers to those,
    and 1 at depth 3. Listed in creation order (oldest first)."""
    rnd = random.Random(seed)
    out: list[dict[str, Any]] = []

    def add(parent: int | None) -> int:
        words = [rnd.choice(WORDS) for _ in range(rnd.randint(12, 60))]
        text = " ".join(words).capitalize() + "."
        if rnd.random() < 0.2:
            text += "\n\nA second paragraph with **emphasis** and a [link](https://example.org)."
        out.append(
            {
                "parent": parent,
                "name": f"Reader {rnd.randint(1, 400)}",
                "text": text,
                "minute": len(out),
                "likes": rnd.randint(0, 30),
            }
        )
        return len(out) - 1

    for _ in range(100):
        top = add(None)
        answers = [add(top) for _ in range(3)]
        deep = add(answers[0])
        add(answers[0])
        add(answers[1])
        add(answers[1])
        add(answers[2])
        add(deep)
    assert len(out) == 1000, len(out)
    return out


def seed_townhall(services: Services, site_id: int, thread: list[dict[str, Any]]) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ids: list[int] = []
    meta: list[tuple[int, int | None]] = []
    with services.db.write() as conn:
        row = thread_store.get_or_create_thread(
            conn,
            site_id=site_id,
            key=THREAD,
            title="Bench",
            url="http://localhost" + THREAD,
            now=start,
        )
        for c in thread:
            p = c["parent"]
            depth = meta[p][0] + 1 if p is not None else 0
            root = (meta[p][1] or ids[p]) if p is not None else None
            ids.append(
                comment_store.insert_comment(
                    conn,
                    thread_id=row["id"],
                    parent_id=ids[p] if p is not None else None,
                    root_id=root,
                    depth=depth,
                    status=CommentStatus.PUBLISHED,
                    shadow=False,
                    author_name=c["name"],
                    author_website=None,
                    reader_id=None,
                    text=c["text"],
                    html=render_markdown(c["text"]),
                    created_at=start + dt.timedelta(minutes=c["minute"]),
                    likes=c["likes"],
                    dislikes=0,
                    flag_count=0,
                    toxicity=None,
                    moderation=None,
                )
            )
            meta.append((depth, root))
        thread_store.bump(conn, row["id"], count_delta=len(thread), last_comment_at=start)


def seed_isso(venv: Path, config: Path, work: Path, thread: list[dict[str, Any]]) -> None:
    import subprocess

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()
    roots: list[int] = []
    for i, c in enumerate(thread):  # Isso folds every reply onto its top-level comment
        roots.append(i if c["parent"] is None else roots[c["parent"]])
    payload = {
        "threads": [{"id": 1, "uri": THREAD, "title": "Bench"}],
        "comments": [
            {
                "id": i + 1,
                "tid": 1,
                "parent": None if c["parent"] is None else roots[i] + 1,
                "created": start + 60 * c["minute"],
                "text": c["text"],
                "author": c["name"],
                "email": None,
                "website": None,
                "likes": c["likes"],
                "dislikes": 0,
                "remote_addr": "10.0.0.0",
            }
            for i, c in enumerate(thread)
        ],
    }
    data = work / "isso-thread.json"
    data.write_text(json.dumps(payload), encoding="utf-8")
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            str(BENCH / "harness" / "isso_seed.py"),
            str(config),
            str(data),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )


# --------------------------------------------------------------------------- servers


class HostPages:
    """The publisher's pages, on http://localhost:<port> (another origin than both servers)."""

    def __init__(self) -> None:
        pages = self.pages = {}  # type: dict[str, str]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0], "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.origin = f"http://localhost:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Uvicorn:
    def __init__(self, app: Any) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Uvicorn:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def page(widget: str) -> str:
    filler = "<p>" + "Article text. " * 80 + "</p>"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bench</title>
</head><body><h1>Bench article</h1>{filler}
<script>window.__t0 = performance.now()</script>
{widget}
</body></html>"""


# --------------------------------------------------------------------------- measuring

TOWNHALL_DONE = """n => { const r = document.getElementById('townhall-thread').shadowRoot;
  return r && r.querySelectorAll('article').length >= n ? performance.now() - window.__t0 : 0 }"""
ISSO_DONE = """n => document.querySelectorAll('#isso-thread .isso-comment').length >= n
  ? performance.now() - window.__t0 : 0"""


def measure(browser: Any, url: str, done: str, expect: int, runs: int) -> dict[str, Any]:
    times: list[float] = []
    for _ in range(runs + 1):  # the first run warms the servers' caches and is dropped
        ctx = browser.new_context(viewport={"width": 1100, "height": 900})
        p = ctx.new_page()
        p.goto(url)
        handle = p.wait_for_function(done, arg=expect, polling="raf", timeout=60_000)
        times.append(float(handle.json_value()))
        ctx.close()
    times = times[1:]
    return {
        "comments": expect,
        "median_ms": round(statistics.median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "runs": len(times),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="measured page loads per case")
    ap.add_argument("--no-isso", action="store_true", help="skip the Isso peer")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)

    venv, isso_status = isso_files(args.no_isso)
    result: dict[str, Any] = {"sizes": {}, "render": {}, "isso": isso_status}
    result["sizes"]["townhall embed.js (CSS inlined)"] = sizes(STATIC / "embed.js")
    result["sizes"]["townhall count.js"] = sizes(STATIC / "count.js")
    if venv is not None:
        isso_js = next(venv.glob("lib/python*/site-packages/isso/js"))
        result["sizes"]["Isso 0.14.0 embed.min.js (CSS inlined)"] = sizes(isso_js / "embed.min.js")
        result["sizes"]["Isso 0.14.0 count.min.js"] = sizes(isso_js / "count.min.js")

    from playwright.sync_api import sync_playwright

    thread = make_thread()
    host = HostPages()
    with tempfile.TemporaryDirectory(prefix="townhall-bench-widget-") as tmp:
        work = Path(tmp)
        settings = load_settings(
            environ={},
            overrides={
                "data_dir": work,
                "database_url": f"sqlite:///{work / 'th.db'}",
                "secret_key": "bench-secret-key-0123456789",
            },
        )
        services = Services.from_settings(settings)
        services.db.migrate()
        site = create_site(services.db, key="bench", name="Bench", origins=[host.origin])
        seed_townhall(services, site.id, thread)
        with Uvicorn(create_app(settings, services=services)) as th, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            tag = (
                f'<div id="townhall-thread"></div><script src="{th.url}/embed.js" '
                f'data-townhall-site="bench" data-townhall-thread="{THREAD}"'
            )
            host.pages["/th-full"] = page(tag + ' data-townhall-page-size="100"></script>')
            host.pages["/th-first"] = page(tag + "></script>")
            result["render"]["townhall, full thread (page size 100)"] = measure(
                browser, host.origin + "/th-full", TOWNHALL_DONE, 1000, args.runs
            )
            result["render"]["townhall, first view (default page size 20)"] = measure(
                browser, host.origin + "/th-first", TOWNHALL_DONE, 200, args.runs
            )
            if venv is not None:
                result["render"]["Isso 0.14.0, full thread"] = run_isso(
                    browser, venv, work, host, thread, args.runs
                )
            browser.close()
        services.db.dispose()
    host.close()
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def run_isso(
    browser: Any, venv: Path, work: Path, host: HostPages, thread: list[dict[str, Any]], runs: int
) -> dict[str, Any]:
    from harness import servers

    port = servers.free_port()
    config = work / "isso.cfg"
    servers.isso_config(config, work / "isso.db", port, host.origin)
    seed_isso(venv, config, work, thread)
    server = servers.isso_server(venv, config, port, work / "isso.log", pin=[])
    with servers.running(server):
        url = f"http://127.0.0.1:{port}"
        host.pages[THREAD] = page(
            f'<script data-isso="{url}/" data-isso-max-comments-nested="inf" '
            f'data-isso-max-comments-top="inf" data-isso-reply-notifications="false" '
            f'data-isso-gravatar="false" data-isso-avatar="false" '
            f'src="{url}/js/embed.min.js"></script><section id="isso-thread"></section>'
        )
        return measure(browser, host.origin + THREAD, ISSO_DONE, 1000, runs)


def report(result: dict[str, Any]) -> None:
    print("\nDownload size (bytes)            raw     gzip -9")
    for name, s in result["sizes"].items():
        print(f"  {name:<40} {s['raw']:>7,} {s['gzip']:>8,}")
    print(f"  (Isso: {result['isso']})")
    print("\nScript start to rendered thread (headless chromium, cold loads)")
    for name, r in result["render"].items():
        print(
            f"  {name:<46} {r['comments']:>5} comments  median {r['median_ms']:>7.1f} ms"
            f"  (min {r['min_ms']:.1f}, max {r['max_ms']:.1f}, {r['runs']} runs)"
        )


if __name__ == "__main__":
    main()
