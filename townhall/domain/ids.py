"""Ids as clients send them: strings of digits (or numbers), checked before any query."""

from __future__ import annotations

from typing import Any

from townhall.domain.errors import InvalidInput

MAX_ID = 2**31  # the id columns are INTEGER: 32 bits on PostgreSQL (a bigger id was a 500)


def parse_id(value: Any, field: str, what: str = "a comment id as returned by the API") -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isdigit() and len(value) < 19:
        number = int(value)
    else:
        raise InvalidInput(f"{field} must be {what}", field=field)
    if not 0 < number < MAX_ID:
        raise InvalidInput(f"{field} must be {what}", field=field)
    return number
