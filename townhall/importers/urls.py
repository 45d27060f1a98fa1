"""Thread URLs and keys.

The rule (documented in docs/importing.md): ``--remap`` rules rewrite a thread's URL first;
the thread key is then the URL's path, with its query when it has one (``/2014/test/``,
``/?p=4``), which is what the widget uses when a page gives no ``data-townhall-thread``.
With ``--thread-key identifier`` the source system's own article id is the key instead
(Disqus ``<id>``, WordPress ``post_id``), falling back to the path when it is empty; and a
thread without URL falls back to its identifier the other way round.
Threads of several hosts with the same path (dev hosts leak into Disqus exports) become one
townhall thread; a URL on a public host is preferred for it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from townhall.importers.cleaning import KEY_MAX, URL_MAX

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DEV_SUFFIXES = (".local", ".localhost", ".test", ".internal", ".lan")


class RemapError(ValueError):
    """A --remap value that cannot be used; the message says how to write it."""


@dataclass(frozen=True)
class Remap:
    """``OLD=NEW``: OLD with a scheme is a URL prefix (``http://localhost:4000/blog``);
    without, a host[:port] (``localhost:4000``). NEW replaces what OLD matched."""

    old: str
    new: str

    @classmethod
    def parse(cls, text: str) -> Remap:
        old, sep, new = text.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise RemapError(
                f"{text!r}: write OLD=NEW, e.g. localhost:4000=www.example.com or "
                "http://localhost:4000/=https://www.example.com/"
            )
        if "://" in new:
            parts = urlsplit(new)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise RemapError(f"{text!r}: NEW must be http(s)://host[/path] or a host")
        elif "/" in new or " " in new:
            raise RemapError(f"{text!r}: NEW without a scheme must be a host[:port]")
        if "://" not in old and ("/" in old or " " in old):
            raise RemapError(f"{text!r}: OLD without a scheme must be a host[:port]")
        return cls(old=old, new=new)

    def apply(self, url: str) -> str | None:
        """The rewritten URL, or None when this rule does not match."""
        if "://" in self.old:
            if url.lower().startswith(self.old.lower()):
                return self.new + url[len(self.old) :]
            return None
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.netloc.lower().rpartition("@")[2] != self.old.lower():
            return None
        if "://" in self.new:
            target = urlsplit(self.new)
            return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))
        return urlunsplit((parts.scheme, self.new, parts.path, parts.query, parts.fragment))


@dataclass
class Remapper:
    rules: tuple[Remap, ...] = ()

    def __post_init__(self) -> None:
        self.used = [0] * len(self.rules)

    def apply(self, url: str) -> str:
        for index, rule in enumerate(self.rules):
            out = rule.apply(url)
            if out is not None:
                self.used[index] += 1
                return out
        return url


def clean_url(url: str) -> str:
    """An http(s) URL that fits the column, or ""."""
    url = _CONTROL.sub("", url).strip()
    if not url or len(url) > URL_MAX:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return url


def key_from_url(url: str) -> str:
    """The thread key of a page URL: path plus query (fragment dropped); "" if no URL.
    A bare path ("/blog/post/1", Commento and Isso store those) is its own key."""
    text = _CONTROL.sub("", url).strip()
    if not text:
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        return ""
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    key = path + (f"?{parts.query}" if parts.query else "")
    return key[:KEY_MAX]


def clean_key(identifier: str) -> str:
    return _CONTROL.sub("", identifier).strip()[:KEY_MAX]


def host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower().rpartition("@")[2]
    except ValueError:
        return ""


def is_dev_host(netloc: str) -> bool:
    """Hosts that no reader reaches: localhost, private addresses, odd ports, test TLDs."""
    if not netloc:
        return False
    try:
        parts = urlsplit("//" + netloc)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return True
    if port not in (None, 80, 443):
        return True
    if host in ("localhost", "0.0.0.0") or host.endswith(_DEV_SUFFIXES):  # noqa: S104
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_unspecified
