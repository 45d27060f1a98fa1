"""The widget's weight budget (issue 3): embed.js with its CSS at most 15 KB gzipped,
count.js at most 2 KB gzipped. No browser needed."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "townhall" / "static"
KB = 1000  # the stricter reading of "15 KB": holds for KiB too


def gzipped(name: str) -> int:
    return len(gzip.compress((STATIC / name).read_bytes(), compresslevel=9, mtime=0))


@pytest.mark.parametrize(("name", "budget"), [("embed.js", 15 * KB), ("count.js", 2 * KB)])
def test_gzipped_size_within_budget(name: str, budget: int) -> None:
    size = gzipped(name)
    assert size <= budget, f"{name} is {size} bytes gzipped, over its budget of {budget}"


def test_no_separate_stylesheet_to_fetch() -> None:
    # The CSS is inlined into embed.js: one request, and the budget above covers it.
    assert not list(STATIC.glob("*.css"))
    assert ":host" in (STATIC / "embed.js").read_text(encoding="utf-8")


def test_reader_text_reaches_innerhtml_only_as_server_html() -> None:
    """Only the server-sanitised `html` (comment body, preview) may go to innerHTML."""
    source = (STATIC / "embed.js").read_text(encoding="utf-8")
    sinks = re.findall(r"(\w+(?:\.\w+)*)\.innerHTML\s*=\s*([^;]+);", source)
    assert sorted(value for _, value in sinks) == ["c.html", "data.html"]
    for bad in ("insertAdjacentHTML", "outerHTML =", "document.write", "eval(", "new Function"):
        assert bad not in source
