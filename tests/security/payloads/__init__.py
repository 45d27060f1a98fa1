"""The XSS payload list (``xss.txt``, written for townhall) and an independent check that a
piece of HTML can carry no script: the second opinion on what nh3 lets through."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

PAYLOAD_FILE = Path(__file__).with_name("xss.txt")
MARKERS = {"⏎": "\n", "␉": "\t", "␍": "\r", "␀": "\x00"}


@dataclass(frozen=True)
class Payload:
    number: int
    klass: str
    text: str

    @property
    def short(self) -> str:
        return f"#{self.number} [{self.klass}] {self.text[:60]!r}"


def load_payloads(path: Path = PAYLOAD_FILE) -> list[Payload]:
    payloads: list[Payload] = []
    klass = "unclassified"
    seen: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## class:"):
            klass = line.split(":", 1)[1].strip()
            continue
        if not line or line.startswith("# ") or line == "#":
            continue
        if line in seen:
            raise ValueError(f"duplicate payload in {path.name}: {line!r}")
        seen.add(line)
        number = len(payloads) + 1
        text = line.replace("{n}", str(number))
        for marker, char in MARKERS.items():
            text = text.replace(marker, char)
        payloads.append(Payload(number, klass, text))
    return payloads


XSS_PAYLOADS = load_payloads()

# What rendered comment HTML may contain (townhall/domain/rendering.py's allow-list, restated
# here on purpose: a change there must be a conscious change here too).
SAFE_TAGS = frozenset(
    {"p", "br", "em", "strong", "del", "a", "ul", "ol", "li", "blockquote", "code", "pre"}
)
SAFE_ATTRIBUTES = {"a": frozenset({"href", "rel"}), "ol": frozenset({"start"})}
GENERIC_ATTRIBUTES = frozenset({"title", "lang"})  # nh3's defaults: plain text, never run
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)


def url_scheme(url: str) -> str | None:
    """The scheme a browser sees in an href attribute (the WHATWG URL parser: character
    references decoded by HTML, leading and trailing C0 controls and spaces stripped, tabs and
    newlines removed anywhere); None for a relative URL."""
    cleaned = html.unescape(url).strip("".join(map(chr, range(0x21))))
    cleaned = re.sub(r"[\t\n\r]", "", cleaned)
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SAFE_TAGS:
            self.problems.append(f"tag <{tag}>")
        allowed = SAFE_ATTRIBUTES.get(tag, frozenset()) | GENERIC_ATTRIBUTES
        for name, value in attrs:
            if name not in allowed:
                self.problems.append(f"attribute {name}= on <{tag}>")
            elif name == "href":
                scheme = url_scheme(value or "")
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"href with scheme {scheme}: {value!r}")
            elif name == "rel" and set((value or "").split()) != {"nofollow", "ugc", "noopener"}:
                self.problems.append(f"rel={value!r}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in SAFE_TAGS:
            self.problems.append(f"end tag </{tag}>")

    def handle_comment(self, data: str) -> None:
        self.problems.append("HTML comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration <!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction <?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"<![{data}]>")


def html_problems(fragment: str) -> list[str]:
    """Everything in ``fragment`` outside the allow-list; [] when it is safe to insert."""
    checker = _Checker()
    checker.feed(fragment)
    checker.close()
    if "\x00" in fragment:
        checker.problems.append("NUL byte")
    return checker.problems
