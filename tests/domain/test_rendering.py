"""Rendering: the plain-prose shortcut writes exactly what markdown-it writes, and everything
that could be Markdown still goes through the parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from townhall.domain.rendering import _parser, _plain_paragraphs, render_markdown

# Characters the shortcut takes and characters that must send a text to the parser, in lines
# that may start or end with anything.
_ALPHABET = "ab Zé9 \n.,;:?!'\"()%/=+-’“”–…" + "*_`~[]<>&#\\|\t\r\u00a0１٣"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_the_plain_prose_shortcut_writes_what_markdown_it_writes(text: str) -> None:
    html = _plain_paragraphs(text)
    if html is not None:
        assert html == _parser().render(text)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abc XYZé.,;:?!'\"()%/=+-’‘“”–—…", min_size=1, max_size=30),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["\n", "\n\n", "\n\n\n"]),
)
def test_the_shortcut_takes_ordinary_paragraphs(lines: list[str], gap: str) -> None:
    text = gap.join(line.strip() or "x" for line in lines)
    html = _plain_paragraphs(text)
    if html is not None:
        assert html == _parser().render(text)


def test_common_comments_take_the_shortcut_and_markdown_does_not() -> None:
    prose = 'I disagree. The council said "no" twice (in 2024 and 2025) - 40% of us voted.'
    assert _plain_paragraphs("It’s “fine” – really…") is not None
    assert _plain_paragraphs(prose) is not None
    assert _plain_paragraphs("First line\nsecond line.\n\nNew paragraph!") is not None
    for markdown in ("**bold**", "- a list", "1. first", "    code", "a [link](x)", "x_y_"):
        assert _plain_paragraphs(markdown) is None
    assert render_markdown(prose) == (
        '<p>I disagree. The council said "no" twice (in 2024 and 2025) - 40% of us voted.</p>'
    )
    assert render_markdown("**bold** and <b>tags</b>") == (
        "<p><strong>bold</strong> and &lt;b&gt;tags&lt;/b&gt;</p>"
    )
