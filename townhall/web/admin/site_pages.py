"""Site settings: origins, edit window and name (admins), the moderation policy (admins and
the site's moderators). Every field is checked and a wrong one is named next to its input;
nothing is saved until the whole form is valid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from townhall.domain import accounts, moderation
from townhall.domain.errors import InvalidInput
from townhall.domain.sites import Site, normalise_origin
from townhall.moderation.policy import Policy, PolicyError, update_policy
from townhall.web.admin.render import read_form, redirect, render
from townhall.web.state import web_state


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # bool, int, score (0-1 or empty: off), words (one per line)
    label: str
    help: str
    group: str


FIELDS = (
    Field("premoderation", "bool", "Pre-moderation",
          "Hold every new comment for review.", "Holding"),
    Field("first_time_hold", "int", "Hold first comments",
          "Hold a reader's comments until this many were approved (0: off).", "Holding"),
    Field("flags_to_hold", "int", "Flags to hold",
          "Reader flags that put a published comment back in the queue (0: never).", "Holding"),
    Field("toxicity_nudge", "score", "Toxicity: ask to reconsider",
          "Score from which the author is asked to edit before posting (empty: off).",
          "Toxicity model"),
    Field("toxicity_hold", "score", "Toxicity: hold",
          "Score from which a comment is held for review (empty: off).", "Toxicity model"),
    Field("toxicity_reject", "score", "Toxicity: reject",
          "Score from which a comment is rejected outright (empty: off).", "Toxicity model"),
    Field("banned_words", "words", "Banned words",
          "One word or pattern per line (* is a wildcard); a match rejects the comment.",
          "Words"),
    Field("suspect_words", "words", "Suspect words",
          "One word or pattern per line; a match holds the comment for review.", "Words"),
    Field("max_links", "int", "Most links",
          "More links than this hold a comment.", "Links"),
    Field("hold_new_author_links", "bool", "Hold links from new readers",
          "Hold comments with links from readers with no approved comment yet.", "Links"),
    Field("link_allowlist", "words", "Trusted domains",
          "One domain per line; links to them never count against a comment.", "Links"),
    Field("link_blocklist", "words", "Blocked domains",
          "One domain per line; a link to one rejects the comment.", "Links"),
    Field("rate_burst", "int", "Comments per minute",
          "Comments one reader (or address) may post per minute.", "Rate limits"),
    Field("rate_sustained", "int", "Comments per hour",
          "Comments one reader (or address) may post per hour.", "Rate limits"),
    Field("thread_rate", "int", "Thread flood guard",
          "Comments one thread accepts per minute from everybody (0: off).", "Rate limits"),
    Field("duplicate_window_minutes", "int", "Duplicate window (minutes)",
          "The same reader posting near-identical text within this time is spam.",
          "Rate limits"),
    Field("flood_window_minutes", "int", "Copy-paste window (minutes)",
          "Near-identical text from several readers in a thread within this time is held "
          "(0: off).", "Rate limits"),
)  # fmt: skip
GROUPS = tuple(dict.fromkeys(f.group for f in FIELDS))


def _parse(field: Field, form: FormData) -> Any:
    raw = str(form.get(field.name, "")).strip()
    if field.kind == "bool":
        return form.get(field.name) == "1"
    if field.kind == "int":
        if not raw.isdigit() or len(raw) > 9:
            raise ValueError("enter a whole number, 0 or more")
        return int(raw)
    if field.kind == "score":
        if not raw:
            return None
        try:
            value = float(raw.replace(",", "."))
        except ValueError:
            raise ValueError("enter a score between 0 and 1, like 0.7, or leave it empty") from None
        if not 0.0 <= value <= 1.0:
            raise ValueError("the score must be between 0 and 1")
        return value
    lines = [line.strip() for line in raw.splitlines()]
    return list(dict.fromkeys(line for line in lines if line))


def _field_of(message: str) -> str:
    for field in FIELDS:
        if field.name in message:
            return field.name
    return "policy"


@dataclass(frozen=True)
class SettingsForm:
    """What the form said, checked: the site fields an admin may change, the policy changes,
    and one message per wrong field."""

    name: str | None
    origins: list[str] | None
    edit_window_seconds: int | None
    policy: dict[str, Any]
    values: dict[str, Any]
    errors: dict[str, str]


def check_form(site: Site, current: Policy, form: FormData, is_admin: bool) -> SettingsForm:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for field in FIELDS:
        try:
            values[field.name] = _parse(field, form)
        except ValueError as exc:
            errors[field.name] = str(exc)
            values[field.name] = str(form.get(field.name, ""))
    name = origins = window = None
    if is_admin:
        name = str(form.get("name", "")).strip()
        if not 1 <= len(name) <= 200:
            errors["name"] = "the name must be 1-200 characters"
        origins = []
        for line in str(form.get("origins", "")).splitlines():
            if line.strip():
                try:
                    origins.append(normalise_origin(line) or "")
                except InvalidInput as exc:
                    errors["origins"] = exc.message
        raw = str(form.get("edit_window", "")).strip()
        if not raw.isdigit() or not 0 <= int(raw) <= 7 * 24 * 60:
            errors["edit_window"] = "enter minutes between 0 and 10080 (a week)"
        else:
            window = int(raw) * 60
    old = current.to_json()
    changes = {k: v for k, v in values.items() if k not in errors and v != old.get(k)}
    if not errors:
        try:
            update_policy(site.policy, changes)
        except PolicyError as exc:
            errors[_field_of(str(exc))] = str(exc)
    return SettingsForm(name, origins, window, changes, values, errors)


async def sites_page(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    sites = await run_in_threadpool(accounts.moderated_sites, services, user)
    return render(request, "admin/sites.html", sites=sites)


def _page(
    request: Request, site: Site, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    return render(
        request,
        "admin/site.html",
        status,
        site=site,
        fields=FIELDS,
        groups=GROUPS,
        values=values,
        errors=errors,
    )


async def site_form(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    key = request.path_params["key"]

    def run() -> tuple[Site, Policy]:
        site = accounts.access_site(services, user, key)
        return site, moderation.get_policy(services, key)

    site, policy = await run_in_threadpool(run)
    return _page(request, site, policy.to_json(), {})


async def site_save(request: Request, user: accounts.User) -> Response:
    services = web_state(request).services
    key = request.path_params["key"]
    form = await read_form(request)

    def run() -> tuple[Site, SettingsForm]:
        site = accounts.access_site(services, user, key)
        checked = check_form(site, moderation.get_policy(services, key), form, user.is_admin)
        if checked.errors:
            return site, checked
        if user.is_admin:
            site = accounts.update_site_settings(
                services,
                user,
                key,
                name=checked.name,
                origins=checked.origins,
                edit_window_seconds=checked.edit_window_seconds,
            )
        if checked.policy:
            moderation.update_policy(
                services, user.email, key, checked.policy, str(form.get("reason", ""))
            )
        return site, checked

    site, checked = await run_in_threadpool(run)
    if checked.errors:
        shown = dict(checked.values)
        shown.update(
            name=form.get("name", site.name),
            origins=form.get("origins", ""),
            edit_window=form.get("edit_window", ""),
        )
        return _page(request, site, shown, checked.errors, 422)
    return redirect(request, f"/admin/sites/{key}", "Settings saved.")
