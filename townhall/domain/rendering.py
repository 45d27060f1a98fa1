"""Markdown to sanitised HTML, done once when a comment is written.

markdown-it-py parses CommonMark with raw HTML off (so typed tags show as text), then nh3
(ammonia) keeps only an allow-list of tags and attributes as a second, independent guard.
"""

from __future__ import annotations

import functools
import re

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "del",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"


@functools.cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
    # Headings, images, tables and horizontal rules have no place in a comment.
    md.disable(["heading", "lheading", "image", "hr", "html_block", "html_inline"])
    md.enable("strikethrough")
    return md


def render_markdown(text: str) -> str:
    """Render comment Markdown to HTML that is safe to insert into any page."""
    html = _plain_paragraphs(text)
    return sanitise_html(_parser().render(text) if html is None else html)


# Most comments are prose in which no character can start Markdown syntax: letters, digits,
# spaces, newlines and a few punctuation marks, no line starting with a digit, "-", "+" or "="
# (lists, headings) and none with spaces around it (code blocks, hard breaks). For those the
# parse (a third of a post's rendering and sanitising) is skipped and the paragraphs written as
# markdown-it writes them; tests/domain/test_rendering.py checks the two agree on generated
# texts. The sanitiser still runs on the result.
_PLAIN = re.compile(r"(?:[^\W_]|[ \n.,;:?!'\"()%/=+\-’‘“”–—…])+")
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")


def _plain_paragraphs(text: str) -> str | None:
    """markdown-it's HTML for ``text`` if it is plain prose as above, else None."""
    if not _PLAIN.fullmatch(text):
        return None
    out = []
    for block in _PARAGRAPH_BREAK.split(text.strip("\n")):
        lines = block.split("\n")
        for line in lines:
            if not line or line[0] in " -+=" or line[0].isdigit() or line[-1] == " ":
                return None
        out.append("<p>" + "<br />\n".join(lines).replace('"', "&quot;") + "</p>\n")
    return "".join(out)


_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel=LINK_REL,
    strip_comments=True,
)


def sanitise_html(html: str) -> str:
    """Keep only the allow-list; used for rendered Markdown and for imported HTML alike."""
    return str(_CLEANER.clean(html)).strip()


def plain_text(html: str) -> str:
    """The text of sanitised HTML, for snippets in mail and feeds."""
    return nh3.clean(html, tags=set()).strip()
