"""Comment bodies of other systems to townhall's sanitised HTML.

Every path ends in ``rendering.sanitise_html``, the allow-list new comments go through, so an
imported comment can carry no more markup than a new one. The source text is kept as it was
(in ``comments.text``); only ``html`` is derived.
"""

from __future__ import annotations

import functools
import itertools
import re

from markdown_it import MarkdownIt

from townhall.domain.rendering import render_markdown, sanitise_html
from townhall.importers.records import BodyFormat

_BLOCK = re.compile(
    r"^\s*</?(p|div|ul|ol|li|blockquote|pre|h[1-6]|table|thead|tbody|tr|td|th|dl|dt|dd|hr|"
    r"figure|figcaption|address|section|article|aside|header|footer)[\s>/]",
    re.IGNORECASE,
)
_BLOCK_END = re.compile(
    r"</(p|div|ul|ol|li|blockquote|pre|h[1-6]|table|tr|td|th|dl|dd|figure)>\s*$|<(br|hr)\s*/?>\s*$",
    re.IGNORECASE,
)
_PARAGRAPHS = re.compile(r"\n\s*\n")


@functools.cache
def _markdown_with_html() -> MarkdownIt:
    # Isso renders Markdown with inline HTML allowed and sanitises afterwards; townhall's own
    # parser has HTML off. Same rules otherwise (see domain/rendering.py).
    md = MarkdownIt("commonmark", {"html": True, "linkify": False, "breaks": True})
    md.disable(["heading", "lheading", "image", "hr"])
    md.enable("strikethrough")
    return md


def wpautop(text: str) -> str:
    """WordPress' newline rules, simplified: blank lines separate paragraphs, a single
    newline is a line break, except next to block-level tags."""
    out = []
    for block in _PARAGRAPHS.split(text.strip()):
        block = block.strip()
        if not block:
            continue
        lines = block.split("\n")
        joined = lines[0]
        for previous, line in itertools.pairwise(lines):
            if _BLOCK_END.search(previous) or _BLOCK.match(line) or "<pre" in joined.lower():
                joined += "\n" + line
            else:
                joined += "<br>\n" + line
        out.append(joined if _BLOCK.match(joined) else f"<p>{joined}</p>")
    return "\n".join(out)


def to_html(body: str, body_format: BodyFormat) -> str:
    """Sanitised HTML of a body; "" for an empty one."""
    text = body.strip()
    if not text:
        return ""
    if body_format is BodyFormat.HTML:
        return sanitise_html(text)
    if body_format is BodyFormat.WORDPRESS:
        return sanitise_html(wpautop(text))
    if body_format is BodyFormat.MARKDOWN_HTML:
        return sanitise_html(_markdown_with_html().render(text))
    return render_markdown(text)
