"""Memory stays flat as files grow: an eight times larger export must not need much more."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = """
import json, pathlib, resource, sys
from townhall.domain.identity import Hasher
from townhall.domain.sites import create_site
from townhall.importers import import_file
from townhall.store.database import Database

path, url = pathlib.Path(sys.argv[1]), sys.argv[2]
db = Database(url)
db.migrate()
create_site(db, key="news", name="News", origins=["https://news.example"])
report = import_file(db, Hasher(b"k"), path, format="disqus", site_key="news")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"imported": report.comments_imported, "peak_kib": peak}))
"""


def _export(path: Path, posts: int, *, one_thread: bool = False) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(
            '<?xml version="1.0"?><disqus xmlns="http://disqus.com" '
            'xmlns:dsq="http://disqus.com/disqus-internals">\n'
        )
        threads = 1 if one_thread else max(1, posts // 25)
        for t in range(threads):
            f.write(
                f'<thread dsq:id="{t}"><link>https://news.example/{t}/</link>'
                f"<title>Story {t}</title></thread>\n"
            )
        for n in range(posts):
            parent = f'<parent dsq:id="{n - 1}"/>' if n % 25 and n % 3 else ""
            f.write(
                f'<post dsq:id="{n}"><message><![CDATA[<p>{"Words of comment " * 20}{n}</p>]]>'
                f"</message><createdAt>2020-01-01T00:00:00Z</createdAt>"
                "<isDeleted>false</isDeleted><isSpam>false</isSpam>"
                f"<author><name>Reader {n % 997}</name><email>r{n % 997}@mail.example</email>"
                f"</author><ipAddress>198.51.100.{n % 250}</ipAddress>"
                f'<thread dsq:id="{0 if one_thread else n // 25}"/>'
                f"{parent}</post>\n"
            )
        f.write("</disqus>\n")


def _peak(tmp_path: Path, posts: int, *, one_thread: bool = False) -> tuple[int, int]:
    name = f"{posts}-{'one' if one_thread else 'many'}"
    export = tmp_path / f"{name}.xml"
    _export(export, posts, one_thread=one_thread)
    url = f"sqlite:///{tmp_path / f'{name}.db'}"
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(export), url],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return int(data["imported"]), int(data["peak_kib"])


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small_count, small_peak = _peak(tmp_path, 5_000)
    large_count, large_peak = _peak(tmp_path, 40_000)
    assert (small_count, large_count) == (5_000, 40_000)
    # 8x the comments (about 20 MB more XML); allow a few MiB of caches, not the file.
    assert large_peak - small_peak < 12 * 1024, (small_peak, large_peak)


@pytest.mark.slow
def test_one_huge_thread_keeps_no_bodies_in_memory(tmp_path: Path) -> None:
    """A thread is planned from ids, parents and states only (a few hundred bytes per
    comment); bodies are read back a batch at a time."""
    small_count, small_peak = _peak(tmp_path, 5_000, one_thread=True)
    large_count, large_peak = _peak(tmp_path, 40_000, one_thread=True)
    assert (small_count, large_count) == (5_000, 40_000)
    assert large_peak - small_peak < 35 * 1024, (small_peak, large_peak)
