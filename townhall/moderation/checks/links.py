"""Links: too many hold a comment, a blocked domain rejects it, a new author's links wait.

Counted: Markdown links ``[text](url)``, autolinks ``<https://…>``, bare URLs
(``https://…``, ``www.…``) and bare domains (``example.com``, ``example.com/x``). Spammers
hide domains from plain searches, so the text is folded first (look-alike letters,
zero-width characters, full-width dots) and ``example[.]com`` counts as ``example.com``.
Allow- and block-list entries match their subdomains too.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from townhall.moderation.checks.authors import approved_count
from townhall.moderation.normalise import fold_text
from townhall.moderation.pipeline import CheckContext, CheckResult, Submission, registry
from townhall.types import Verdict

_MD_LINK = re.compile(r"\[(?:[^\[\]\n]|\[[^\]\n]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<([a-z][a-z0-9+.-]{1,31}:[^>\s]+)>")
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"'`\[\]{}|\\^]+")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(
    rf"(?<![\w@.-])((?:{_LABEL}\.)+([a-z]{{2,24}}|xn--[a-z0-9-]+))(?::\d{{1,5}})?(/[^\s<>\"']*)?(?![\w-])"
)
_HIDDEN_DOT = re.compile(r"\s*(?:\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\})\s*")
_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?(?://)?(?:[^@/?#]*@)?([^/?#:\s]+)")

# Top-level domains that make a bare "word.tld" a link even without a path. Those that are
# also common English words ("in", "it", "is", "me", "to", "us", "so") are left out: with a
# path ("t.me/x") or a scheme they still count.
# fmt: off
_BARE_TLDS = frozenset((
    "com", "net", "org", "info", "biz", "edu", "gov", "mil", "int", "io", "co", "uk", "de", "fr",
    "ru", "cn", "jp", "kr", "br", "au", "ca", "ch", "nl", "se", "dk", "fi", "pl", "es", "pt", "cz",
    "sk", "hu", "ro", "bg", "gr", "tr", "ua", "by", "kz", "il", "ir", "eu", "xyz", "top", "online",
    "site", "club", "shop", "store", "app", "dev", "ly", "gl", "tk", "ml", "ga", "cf", "gq", "pw",
    "cc", "tv", "ws", "su", "vip", "icu", "buzz", "porn", "xxx", "casino",
))
# Country codes and generic domains that count as a link when a path follows the domain.
_PATH_TLDS = _BARE_TLDS | frozenset((
    "me", "to", "us", "it", "is", "at", "be", "do", "so", "am", "as", "no", "in", "la", "ai", "gg",
    "fm", "im", "sh", "ac", "ag", "ax", "id", "ie", "li", "lt", "lu", "lv", "mx", "my", "nz", "ph",
    "pk", "sg", "si", "th", "tw", "vn", "za", "ar", "cl", "pe", "ve", "ec", "uy", "hr", "rs", "ba",
    "mk", "al", "mt", "cy", "ee", "ge", "md", "news", "today", "world", "life", "live", "fun",
    "space", "page", "art", "link", "click", "win", "bid", "loan", "email", "cloud", "tech",
    "website", "blog", "bet", "sex",
))
# fmt: on


@dataclass(frozen=True)
class Link:
    url: str
    host: str


def _host(url: str) -> str:
    m = _HOST.match(url.strip().lower())
    host = m.group(1) if m else ""
    host = host.strip(".")
    return host[4:] if host.startswith("www.") else host


def normalise_domain(entry: str) -> str:
    """A list entry as a bare host: "https://www.Example.com/x" → "example.com"."""
    return _host(fold_text(entry.strip()))


def domain_matches(host: str, domains: tuple[str, ...]) -> str | None:
    """The list entry ``host`` falls under (itself or a subdomain of it), if any."""
    for d in domains:
        if d and (host == d or host.endswith("." + d)):
            return d
    return None


def find_links(text: str, known: tuple[str, ...] = ()) -> list[Link]:
    """Every link in a comment, in order of kind (Markdown, autolinks, URLs, bare domains).
    A bare domain under one of the ``known`` domains counts whatever its top-level domain."""
    folded = _HIDDEN_DOT.sub(".", fold_text(text))
    links: list[Link] = []

    def take(rx: re.Pattern[str], group: int) -> None:
        nonlocal folded
        for m in rx.finditer(folded):
            url = m.group(group)
            if url.startswith("mailto:"):
                continue
            links.append(Link(url=url, host=_host(url)))
        # Blank what was found (same length), so a URL is not counted again as a domain.
        folded = rx.sub(lambda m: " " * len(m.group()), folded)

    take(_MD_LINK, 1)
    take(_AUTOLINK, 1)
    take(_URL, 0)
    for m in _DOMAIN.finditer(folded):
        tld, path = m.group(2), m.group(3)
        host = _host(m.group(1))
        if (
            tld in _BARE_TLDS
            or (path and tld in _PATH_TLDS)
            or tld.startswith("xn--")
            or domain_matches(host, known)
        ):
            links.append(Link(url=m.group(0), host=host))
    return [link for link in links if link.host]


@registry.register("links")
def links(sub: Submission, ctx: CheckContext) -> CheckResult | None:
    policy = ctx.policy
    blocked_list = _domains(tuple(policy.link_blocklist))
    allowed_list = _domains(tuple(policy.link_allowlist))
    found = find_links(sub.text, blocked_list + allowed_list)
    if not found:
        return None
    hosts = sorted({link.host for link in found})
    blocked = sorted({d for h in hosts if (d := domain_matches(h, blocked_list))})
    details: dict[str, object] = {"count": len(found), "hosts": hosts}
    if blocked:
        return CheckResult(
            "links",
            Verdict.REJECT,
            "Links to a blocked domain: " + ", ".join(blocked) + ".",
            details={**details, "blocked": blocked},
            spam=True,
        )
    counted = [link for link in found if not domain_matches(link.host, allowed_list)]
    details["counted"] = len(counted)
    if len(counted) > policy.max_links:
        return CheckResult(
            "links",
            Verdict.HOLD,
            f"Has {len(counted)} link{'s' if len(counted) != 1 else ''}; more than "
            f"{policy.max_links} {'are' if policy.max_links != 1 else 'is'} held for review.",
            details=details,
        )
    if counted and policy.hold_new_author_links and approved_count(sub, ctx) == 0:
        return CheckResult(
            "links",
            Verdict.HOLD,
            "Has links, and the author has no approved comment yet.",
            details=details,
        )
    return None


@functools.lru_cache(maxsize=256)
def _domains(entries: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({normalise_domain(e) for e in entries} - {""}))
