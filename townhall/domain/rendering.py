"""Markdown to sanitised HTML, done once when a comment is written.

markdown-it-py parses CommonMark with raw HTML off (so typed tags show as text), then nh3
(ammonia) keeps only an allow-list of tags and attributes as a second, independent guard.
"""

from __future__ import annotations

import functools

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
    return sanitise_html(_parser().render(text))


def sanitise_html(html: str) -> str:
    """Keep only the allow-list; used for rendered Markdown and for imported HTML alike."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    ).strip()


def plain_text(html: str) -> str:
    """The text of sanitised HTML, for snippets in mail and feeds."""
    return nh3.clean(html, tags=set()).strip()
