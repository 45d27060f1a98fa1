"""``townhall import auto``: recognise a file's format from its first bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from townhall.importers.files import read_head
from townhall.importers.isso import SQLITE_MAGIC
from townhall.importers.records import UnreadableFile

_HEAD = 1 << 16
_XML_SKIP = re.compile(rb"\s*(<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.S)
_ROOT = re.compile(rb"\s*<([A-Za-z_][\w:.-]*)")


def _xml_root(data: bytes) -> str | None:
    pos = 0
    while True:
        match = _XML_SKIP.match(data, pos)
        if not match:
            break
        pos = match.end()
    root = _ROOT.match(data, pos)
    return root.group(1).decode("ascii", "replace") if root else None


def detect_format(path: Path) -> str:
    head = read_head(path, _HEAD)
    if head.startswith(SQLITE_MAGIC):
        return "isso"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise UnreadableFile("the file is empty")
    first_tag = text.find(b"<")
    if 0 <= first_tag <= 8 and (text[first_tag:].startswith(b"<?xml") or first_tag == 0):
        root = _xml_root(text[first_tag:])
        name = (root or "").rpartition(":")[2]
        if name == "disqus":
            return "disqus"
        if name == "rss" and re.search(rb"wordpress\.org/export/", head):
            return "wordpress"
        raise UnreadableFile(
            f"an XML file with root element <{root}>: neither a Disqus export (<disqus>) nor a "
            "WordPress WXR export (<rss> with the wordpress.org/export namespace)"
        )
    if text.startswith(b"["):
        return "generic"
    if text.startswith(b"{"):
        first_line = text.split(b"\n", 1)[0]
        try:
            first = json.loads(first_line)
        except ValueError:
            first = None
        if isinstance(first, dict):
            if first.get("type") == "header" and first.get("format") == "townhall-export":
                return "townhall"
            if "version" in first and ("users" in first or "posts" in first):
                return "remark42"
        if b'"commentHex"' in head or b'"commenters"' in head:
            return "commento"
    raise UnreadableFile(
        "the format is not recognised: give it explicitly (disqus, wordpress, isso, commento, "
        "remark42, generic, townhall)"
    )
