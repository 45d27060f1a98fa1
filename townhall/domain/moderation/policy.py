"""Reading and changing a site's content policy."""

from __future__ import annotations

from typing import Any

from townhall.domain.errors import InvalidInput
from townhall.domain.moderation.common import (
    MAX_REASON,
    actor_name,
    bounded_text,
    site_id_of,
    utc_now,
)
from townhall.domain.services import Services
from townhall.moderation.policy import Policy, PolicyError
from townhall.moderation.policy import update_policy as policy_with
from townhall.store import comments as comment_store
from townhall.store import sites as site_store


def get_policy(services: Services, site: str) -> Policy:
    site_id = site_id_of(services, site)
    with services.db.read() as conn:
        row = site_store.site_by_id(conn, site_id)
    assert row is not None
    return policy_with(row["policy"] or {}, {})


def update_policy(
    services: Services, actor: str, site: str, changes: Any, reason: str = ""
) -> Policy:
    """Change some policy fields of a site; the whole result is validated first, so a bad
    value is a clear error and the site keeps its old policy."""
    who = actor_name(actor)
    why = bounded_text(reason, "reason", MAX_REASON)
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput("changes must be an object of policy fields", field="policy")
    site_id = site_id_of(services, site)
    now = utc_now()
    with services.db.write() as conn:
        row = site_store.site_by_id(conn, site_id)
        assert row is not None
        try:
            policy = policy_with(row["policy"] or {}, changes)
        except PolicyError as exc:
            raise InvalidInput(f"policy: {exc}", field="policy") from None
        site_store.update_site(conn, site_id, policy=policy.to_json())
        comment_store.log_action(
            conn,
            site_id=site_id,
            actor=who,
            action="update_policy",
            now=now,
            reason=why,
            details={"changes": {k: v for k, v in policy.to_json().items() if k in changes}},
        )
    services.sites.forget(site)
    return policy
