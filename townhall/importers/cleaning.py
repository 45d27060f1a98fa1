"""Turning the loose values of export files into what townhall stores: UTC times, names,
addresses and URLs that fit their columns. Every function returns None (or a safe default)
for a value it cannot use; it never raises on bad input."""

from __future__ import annotations

import datetime as dt
import html
import ipaddress
import re
from urllib.parse import urlsplit

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_MISSING = frozenset({"", "undefined", "null", "none", "nil"})
_EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,255}$")

# Column sizes (store/schema.py); PostgreSQL rejects longer values, so cut or drop first.
NAME_MAX = 200
EMAIL_MAX = 320
URL_MAX = 2048
TITLE_MAX = 500
KEY_MAX = 512
SOURCE_ID_MAX = 200
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)  # before the web had comment systems


def parse_time(text: str | None, zone: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """An ISO 8601 / RFC 3339 time as aware UTC. A time without zone is read in ``zone``
    (never in the machine's local zone: Isso's importer does that and shifts every date).
    Zero dates (``0000-00-00 00:00:00``, Go's ``0001-01-01T00:00:00Z``) are missing."""
    if not text:
        return None
    text = text.strip()
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    try:
        value = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None
    if value < EARLIEST:
        return None
    return value


def from_unix(seconds: object) -> dt.datetime | None:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    try:
        value = dt.datetime.fromtimestamp(float(seconds), tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return value if value >= EARLIEST else None


def raw_text(value: object) -> str:
    """A string field of a JSON record as it is (not stripped), or "" for anything else."""
    return value if isinstance(value, str) else ""


def text_value(value: object) -> str:
    """A string field of a JSON record, or "" for anything else."""
    return value.strip() if isinstance(value, str) else ""


def clean_name(value: str | None, *, unescape: bool = False) -> str:
    text = value or ""
    if unescape:
        text = html.unescape(text)
    text = _SPACES.sub(" ", _CONTROL.sub("", text)).strip()
    if text.lower() in _MISSING:
        return ""
    return text[:NAME_MAX]


def clean_email(value: str | None) -> str | None:
    text = (value or "").strip()
    if text.lower() in _MISSING or len(text) > EMAIL_MAX or not _EMAIL.match(text):
        return None
    return text


def clean_website(value: str | None) -> str | None:
    text = _CONTROL.sub("", value or "").strip()
    if text.lower() in _MISSING or " " in text:
        return None
    if "://" not in text:
        if "." not in text:
            return None
        text = "http://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return text if len(text) <= URL_MAX else None


_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_PLAIN_IPV4 = re.compile(rf"^{_OCTET}(\.{_OCTET}){{3}}$")


def clean_ip(value: str | None) -> str | None:
    """A valid IP address in its canonical form (IPv4-mapped IPv6 unwrapped), else None."""
    text = (value or "").strip()
    if not text:
        return None
    if _PLAIN_IPV4.match(text):  # the common case, without ipaddress' cost
        return None if text == "0.0.0.0" else text  # noqa: S104 (0.0.0.0: unknown)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_unspecified:  # 0.0.0.0: the source did not know it
        return None
    return str(address)


def clean_title(value: str | None, *, unescape: bool = False) -> str:
    text = value or ""
    if unescape:
        text = html.unescape(text)
    return _SPACES.sub(" ", _CONTROL.sub("", text)).strip()[:TITLE_MAX]


def clean_line_text(value: str | None) -> str:
    """A body: Windows newlines unified, NUL and other control characters removed."""
    return _CONTROL.sub("", (value or "").replace("\r\n", "\n").replace("\r", "\n"))


_URL_ENCODED_TITLE = re.compile(r"%[0-9A-Fa-f]{2}|\w\+\w")


def maybe_url_decoded_title(value: str) -> str:
    """Titles that arrive URL-encoded (Isso's generic format: ``Nat+%26+Miguel``) are decoded;
    a title with spaces, or without ``+`` between words or ``%XX``, is left alone."""
    from urllib.parse import unquote_plus

    if " " in value or not _URL_ENCODED_TITLE.search(value):
        return value
    return unquote_plus(value)


def boolean(value: str | None) -> bool | None:
    """ "true"/"false" (any case, surrounding space) as a bool; anything else None."""
    text = (value or "").strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    return None
