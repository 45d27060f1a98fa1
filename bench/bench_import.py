"""Import throughput and peak memory of `townhall import disqus`, and of Isso's importer on the
same file when it can be installed.

    python bench/bench_import.py                       # 100k comments, SQLite
    python bench/bench_import.py --comments 1000000    # 1M (about 0.9 GB of XML)
    python bench/bench_import.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
    python bench/bench_import.py --no-peer             # townhall only

The Disqus file is generated once by bench/gen_disqus.py into bench/.cache/. Each importer
runs as its own process under /usr/bin/time, which reports wall time, CPU time and peak RSS
(the resident set high-water mark of that process alone); on a busy machine the CPU time is
the steadier number. comments/s counts the posts in the
file, whatever became of them (imported, skipped as spam/deleted), over the command's whole
wall time: start-up, reading, writing.

The peer is Isso's own importer (`isso import -t disqus --empty-id`), installed from PyPI into
a virtualenv under bench/.cache/ (an existing bench/.cache/isso-venv is reused). It parses the
whole file into memory with ElementTree and writes one comment per statement.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache"
sys.path.insert(0, str(BENCH))

from gen_disqus import generate  # noqa: E402


def timed(
    cmd: list[str], *, stdin: str | None = None, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run a command under /usr/bin/time: wall seconds, peak RSS (MiB), exit code, output."""
    fd, stats = tempfile.mkstemp(prefix="bench-time-")
    os.close(fd)
    try:
        proc = subprocess.run(
            ["/usr/bin/time", "-o", stats, "-f", "%e %M %U %S", *cmd],
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            check=False,
        )
        wall, peak_kb, user, system = Path(stats).read_text().split()[-4:]
    finally:
        Path(stats).unlink(missing_ok=True)
    return {
        "seconds": float(wall),
        "cpu_seconds": float(user) + float(system),
        "peak_rss_mib": int(peak_kb) / 1024,
        "returncode": proc.returncode,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
    }


def run_townhall(data: Path, database_url: str | None, work: Path) -> dict[str, Any]:
    url = database_url or f"sqlite:///{work / 'townhall.db'}"
    common = ["--database-url", url, "--data-dir", str(work)]
    env = {"TOWNHALL_SECRET_KEY": "bench-secret-key-0123456789"}
    cli = [sys.executable, "-m", "townhall"]
    subprocess.run(
        [*cli, "site", "add", "bench", "--name", "Bench", "--origin", "https://news.example",
         *common],
        check=True, capture_output=True, env={**os.environ, **env},
    )  # fmt: skip
    result = timed([*cli, "import", "disqus", str(data), "--site", "bench", *common], env=env)
    if result["returncode"] != 0:
        raise SystemExit(f"townhall import failed:\n{result['stderr'][-2000:]}")
    return result


def isso_python() -> Path | None:
    """Isso's importer in a virtualenv of its own (created once), or None if not installable."""
    for name in ("isso-venv", "isso-import-venv"):
        python = CACHE / name / "bin" / "python"
        if (
            python.exists()
            and subprocess.run(
                [str(python), "-c", "import isso"], capture_output=True, check=False
            ).returncode
            == 0
        ):
            return python
    target = CACHE / "isso-import-venv"
    shutil.rmtree(target, ignore_errors=True)
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "isso"], capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        print(f"(Isso could not be installed: {done.stderr.strip()[-300:]})", file=sys.stderr)
        return None
    return python


def run_isso(python: Path, data: Path, work: Path) -> dict[str, Any]:
    config = work / "isso.cfg"
    config.write_text(f"[general]\ndbpath = {work / 'isso.db'}\nhost = https://news.example/\n")
    isso = python.parent / "isso"
    # --empty-id: without it Isso's Disqus importer skips every thread (QUIRKS.md); TZ=UTC so
    # its local-time date parsing does not shift anything. It asks for confirmation: "y".
    return timed(
        [str(isso), "-c", str(config), "import", "-t", "disqus", "--empty-id", str(data)],
        stdin="y\n",
        env={"TZ": "UTC"},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--file", type=Path, help="a Disqus export to use instead")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--no-peer", action="store_true", help="skip Isso's importer")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    CACHE.mkdir(exist_ok=True)
    data = args.file or CACHE / f"disqus-{args.comments}.xml"
    if not data.exists():
        print(f"generating {data} ...", file=sys.stderr)
        generate(args.comments, data)
    size_mb = data.stat().st_size / 1e6
    posts = args.comments
    if args.file:
        posts = len(re.findall(rb"<post[\s>]", data.read_bytes()))

    results: dict[str, Any] = {"file": str(data), "file_mb": round(size_mb, 1), "posts": posts}
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        work = Path(tmp)
        townhall = run_townhall(data, args.database_url, work / "townhall")
        summary = [line.strip() for line in townhall["stdout"].splitlines() if line.strip()]
        results["townhall"] = {
            "seconds": townhall["seconds"],
            "cpu_seconds": round(townhall["cpu_seconds"], 1),
            "comments_per_second": round(posts / townhall["seconds"]),
            "peak_rss_mib": round(townhall["peak_rss_mib"], 1),
            "report": summary[1:4],
        }
        if not args.no_peer:
            python = isso_python()
            if python is not None:
                (work / "isso").mkdir()
                isso = run_isso(python, data, work / "isso")
                results["isso"] = {
                    "seconds": isso["seconds"],
                    "cpu_seconds": round(isso["cpu_seconds"], 1),
                    "comments_per_second": round(posts / isso["seconds"]),
                    "peak_rss_mib": round(isso["peak_rss_mib"], 1),
                    "returncode": isso["returncode"],
                }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{posts} Disqus posts, {size_mb:.1f} MB: {data}")
    for name in ("townhall", "isso"):
        if name in results:
            r = results[name]
            print(
                f"  {name:9} {r['seconds']:8.1f} s wall ({r['cpu_seconds']:.1f} s CPU)  "
                f"{r['comments_per_second']:>8,} comments/s  peak RSS {r['peak_rss_mib']:7.1f} MiB"
            )
    for line in results["townhall"]["report"]:
        print(f"    {line}")


if __name__ == "__main__":
    main()
