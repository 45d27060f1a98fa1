"""Personal data that expires: IP hashes are kept only for ``ip_retention_days`` (they serve
rate limits, bans and spam signals, which need recent history only)."""

from __future__ import annotations

import datetime as dt

from townhall.domain.services import Services
from townhall.store import comments as comment_store


def erase_expired_ip_hashes(services: Services, now: dt.datetime | None = None) -> int:
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=services.settings.ip_retention_days)
    with services.db.write() as conn:
        return comment_store.erase_ip_hashes(conn, cutoff)
