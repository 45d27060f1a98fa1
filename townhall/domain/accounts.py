"""Moderator and admin accounts: creation, argon2 passwords, lockout, sessions, roles, the
sites a moderator may act on, API tokens; and the access checks every moderator request
passes (``access_*`` return what was asked for only after the check).

Roles (issue 5): an admin acts on every site and manages settings and users; a moderator acts
on the sites they were given. Passwords are argon2id hashes (argon2-cffi's RFC 9106 defaults);
a hash made with older parameters is replaced at the next sign-in.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError

from townhall.domain import comments as comment_domain
from townhall.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from townhall.domain.ids import parse_id
from townhall.domain.moderation import can_moderate
from townhall.domain.services import Services
from townhall.domain.sites import Site, list_sites, update_site
from townhall.moderation.policy import merge_policy
from townhall.store import accounts as store
from townhall.store import comments as comment_store
from townhall.store.database import Database
from townhall.types import Role

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; this bounds the work one request can ask for
MAX_FAILURES = 5  # consecutive wrong passwords before the account locks
LOCK_MINUTES = 15
TOKEN_PREFIX = "th_"  # noqa: S105 (marks townhall API tokens, not a secret)
TOKEN_TOUCH_SECONDS = 300  # last_used_at is written at most this often per token
EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,255}$")

PASSWORDS = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so a wrong email takes as long as a wrong password.
    Made on first use: hashing at import cost every process (and CLI command) ~50 ms and
    the hasher's memory."""
    return PASSWORDS.hash("townhall-no-such-user")


class LoginFailed(Unauthorized):
    code = "login_failed"


class AccountLocked(Forbidden):
    code = "account_locked"


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: Role
    site_ids: frozenset[int]
    session_version: int
    failed_logins: int
    locked_until: dt.datetime | None
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def may_moderate(self, site_id: int) -> bool:
        return can_moderate(self.role, sorted(self.site_ids), site_id)

    def locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    @classmethod
    def from_row(cls, row: Any, site_ids: Sequence[int]) -> User:
        return cls(
            id=row["id"],
            email=row["email"],
            role=Role(row["role"]),
            site_ids=frozenset(site_ids),
            session_version=row["session_version"],
            failed_logins=row["failed_logins"],
            locked_until=row["locked_until"],
            created_at=row["created_at"],
            last_login_at=row["last_login_at"],
        )


@dataclass(frozen=True)
class TokenView:
    id: int
    user_id: int
    user_email: str
    name: str
    created_by: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _log(conn: Any, actor: str, action: str, now: dt.datetime, **details: Any) -> None:
    """Account changes go to the audit log beside moderation decisions (site: none)."""
    comment_store.log_action(
        conn, site_id=None, actor=actor, action=action, now=now, details=details or None
    )


# --- checking input ----------------------------------------------------------------------------


def check_email(email: Any) -> str:
    if not isinstance(email, str) or len(email.strip()) > 320 or not EMAIL.match(email.strip()):
        raise InvalidInput("email must be an address like name@example.org", field="email")
    return email.strip().lower()


def check_password(password: Any, email: str | None = None, field: str = "password") -> str:
    if not isinstance(password, str):
        raise InvalidInput("password must be text", field=field)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters", field=field)
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"password must be at most {MAX_PASSWORD} characters", field=field)
    if email is not None and password.strip().lower() == email.lower():
        raise InvalidInput("password must not be the email address", field=field)
    return password


def check_role(role: Any) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput("role must be admin or moderator", field="role") from None


def _site_ids(conn: Any, keys: Sequence[str]) -> list[int]:
    found = store.site_ids_by_key(conn, list(keys))
    missing = sorted(set(keys) - set(found))
    if missing:
        raise NotFound(f"unknown site {missing[0]!r}", field="sites")
    return sorted(set(found.values()))


def _load(conn: Any, user_id: int) -> User | None:
    row = store.user_by_id(conn, user_id)
    if row is None:
        return None
    return User.from_row(row, store.site_ids_of(conn, [user_id])[user_id])


# --- users -------------------------------------------------------------------------------------


def create_user(
    db: Database,
    *,
    email: str,
    password: str,
    role: str | Role,
    site_keys: Sequence[str] = (),
    actor: str = "cli",
) -> User:
    """A new account. Moderators need at least one site; admins act on every site."""
    clean = check_email(email)
    check_password(password, clean)
    chosen = check_role(role)
    if chosen is Role.MODERATOR and not site_keys:
        raise InvalidInput("a moderator needs at least one site (--site KEY)", field="sites")
    hashed = PASSWORDS.hash(password)
    now = _now()
    try:
        with db.write() as conn:
            site_ids = _site_ids(conn, site_keys)
            user_id = store.insert_user(
                conn,
                email=clean,
                password_hash=hashed,
                role=chosen,
                failed_logins=0,
                created_at=now,
                session_version=1,
            )
            store.set_sites(conn, user_id, site_ids)
            _log(conn, actor, "user_create", now, email=clean, role=chosen.value)
    except IntegrityError:
        raise Conflict(f"an account for {clean} exists already", field="email") from None
    user = get_user(db, user_id)
    assert user is not None
    return user


def get_user(db: Database, user_id: int) -> User | None:
    with db.read() as conn:
        return _load(conn, user_id)


def user_by_email(db: Database, email: str) -> User:
    with db.read() as conn:
        row = store.user_by_email(conn, email.strip().lower())
        if row is None:
            raise NotFound(f"no account for {email}", field="email")
        return User.from_row(row, store.site_ids_of(conn, [row["id"]])[row["id"]])


def list_users(db: Database) -> list[User]:
    with db.read() as conn:
        rows = store.all_users(conn)
        sites = store.site_ids_of(conn, [r["id"] for r in rows])
    return [User.from_row(r, sites[r["id"]]) for r in rows]


def update_user(
    db: Database,
    actor: User,
    user_id: int,
    *,
    role: str | Role | None = None,
    site_keys: Sequence[str] | None = None,
) -> User:
    """Change a user's role or sites (admins only). An admin cannot demote themself, so a
    server always keeps an admin who can undo mistakes."""
    require_admin(actor)
    chosen = check_role(role) if role is not None else None
    now = _now()
    with db.write() as conn:
        current = _load(conn, user_id)
        if current is None:
            raise NotFound(f"user {user_id} does not exist", field="id")
        if chosen is not None and chosen is not current.role:
            if current.id == actor.id:
                raise Conflict("you cannot change your own role; ask another admin", field="role")
            store.update_user(conn, user_id, role=chosen)
        final_role = chosen or current.role
        if site_keys is not None:
            site_ids = _site_ids(conn, site_keys)
            if final_role is Role.MODERATOR and not site_ids:
                raise InvalidInput("a moderator needs at least one site", field="sites")
            store.set_sites(conn, user_id, site_ids)
        _log(
            conn,
            actor.email,
            "user_update",
            now,
            email=current.email,
            role=final_role.value,
            sites=None if site_keys is None else sorted(site_keys),
        )
        after = _load(conn, user_id)
    assert after is not None
    return after


def delete_user(db: Database, actor: User, user_id: int) -> None:
    require_admin(actor)
    if user_id == actor.id:
        raise Conflict("you cannot delete your own account", field="id")
    with db.write() as conn:
        current = _load(conn, user_id)
        if current is None:
            raise NotFound(f"user {user_id} does not exist", field="id")
        store.delete_user(conn, user_id)
        _log(conn, actor.email, "user_delete", _now(), email=current.email)


def unlock(db: Database, actor: str, user_id: int) -> User:
    with db.write() as conn:
        current = _load(conn, user_id)
        if current is None:
            raise NotFound(f"user {user_id} does not exist", field="id")
        store.update_user(conn, user_id, failed_logins=0, locked_until=None)
        _log(conn, actor, "user_unlock", _now(), email=current.email)
        after = _load(conn, user_id)
    assert after is not None
    return after


# --- passwords and sessions --------------------------------------------------------------------


def authenticate(db: Database, email: Any, password: Any) -> User:
    """The account behind an email and password. Wrong either way: :class:`LoginFailed`, with
    the same message and about the same time. After ``MAX_FAILURES`` wrong passwords in a row
    the account is locked for ``LOCK_MINUTES`` (then :class:`AccountLocked`, even with the
    right password, so guessing cannot continue)."""
    if not isinstance(email, str) or not isinstance(password, str) or not password:
        raise LoginFailed("wrong email or password")
    if len(password) > MAX_PASSWORD:
        raise LoginFailed("wrong email or password")
    address = email.strip().lower()
    with db.read() as conn:
        row = store.user_by_email(conn, address)
    if row is None:
        _verify(_dummy_hash(), password)
        raise LoginFailed("wrong email or password")
    now = _now()
    if row["locked_until"] is not None and row["locked_until"] > now:
        raise _locked(row["locked_until"], now)
    ok = _verify(row["password_hash"], password)
    with db.write() as conn:
        current = store.user_by_id_for_update(conn, row["id"])
        if current is None:
            raise LoginFailed("wrong email or password")
        if not ok:
            failures = current["failed_logins"] + 1
            values: dict[str, Any] = {"failed_logins": failures}
            if failures >= MAX_FAILURES:
                values.update(
                    failed_logins=0, locked_until=now + dt.timedelta(minutes=LOCK_MINUTES)
                )
                _log(conn, "system", "user_locked", now, email=address, failures=failures)
            store.update_user(conn, row["id"], **values)
        else:
            values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
            if PASSWORDS.check_needs_rehash(current["password_hash"]):
                values["password_hash"] = PASSWORDS.hash(password)
            store.update_user(conn, row["id"], **values)
            user = _load(conn, row["id"])
    if not ok:
        if failures >= MAX_FAILURES:
            raise _locked(now + dt.timedelta(minutes=LOCK_MINUTES), now)
        raise LoginFailed("wrong email or password")
    assert user is not None
    return user


def _verify(hashed: str, password: str) -> bool:
    try:
        return PASSWORDS.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _locked(until: dt.datetime, now: dt.datetime) -> AccountLocked:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return AccountLocked(
        f"too many wrong passwords: this account is locked for {minutes} more minute"
        + ("s" if minutes != 1 else "")
        + "; an admin can unlock it with `townhall user unlock`"
    )


def session_user(db: Database, user_id: Any, version: Any) -> User | None:
    """The user a session cookie names, if the session is still valid (not ended by a
    password change or "sign out everywhere", account not deleted or locked)."""
    if not isinstance(user_id, int) or not isinstance(version, int):
        return None
    user = get_user(db, user_id)
    if user is None or user.session_version != version or user.locked(_now()):
        return None
    return user


def change_password(db: Database, user: User, current: Any, new: Any, confirm: Any) -> User:
    """Change one's own password; every other session of the account ends."""
    if not isinstance(current, str) or not current:
        raise InvalidInput("enter your current password", field="current")
    check_password(new, user.email, field="new")
    if new != confirm:
        raise InvalidInput("the new passwords differ", field="confirm")
    with db.read() as conn:
        row = store.user_by_id(conn, user.id)
    if row is None:
        raise Unauthorized("your account no longer exists")
    if not _verify(row["password_hash"], current):
        raise InvalidInput("the current password is wrong", field="current")
    if new == current:
        raise InvalidInput("the new password is the current one", field="new")
    now = _now()
    with db.write() as conn:
        store.update_user(conn, user.id, password_hash=PASSWORDS.hash(new))
        store.bump_session_version(conn, user.id)
        _log(conn, user.email, "password_change", now)
        after = _load(conn, user.id)
    assert after is not None
    return after


def set_password(db: Database, actor: str, user_id: int, password: str) -> User:
    """Set a password (the CLI, for a forgotten one); the account's sessions end."""
    with db.read() as conn:
        current = _load(conn, user_id)
    if current is None:
        raise NotFound(f"user {user_id} does not exist", field="id")
    check_password(password, current.email)
    hashed = PASSWORDS.hash(password)
    with db.write() as conn:
        store.update_user(conn, user_id, password_hash=hashed, failed_logins=0, locked_until=None)
        store.bump_session_version(conn, user_id)
        _log(conn, actor, "password_reset", _now(), email=current.email)
        after = _load(conn, user_id)
    assert after is not None
    return after


def end_sessions(db: Database, user: User) -> None:
    """Sign out everywhere: every session cookie of this account stops working."""
    with db.write() as conn:
        store.bump_session_version(conn, user.id)


# --- API tokens --------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_view(row: Any) -> TokenView:
    return TokenView(
        id=row["id"],
        user_id=row["user_id"],
        user_email=row["user_email"],
        name=row["name"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def create_token(db: Database, actor: User | str, user_id: int, name: Any) -> tuple[TokenView, str]:
    """A new API token acting as ``user_id``; the token itself is returned once and only its
    hash is kept. Admins create tokens (the CLI acts as an admin)."""
    if isinstance(actor, User):
        require_admin(actor)
    who = actor.email if isinstance(actor, User) else actor
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise InvalidInput("name the token (1-100 characters): what will use it?", field="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = _now()
    with db.write() as conn:
        owner = _load(conn, user_id)
        if owner is None:
            raise NotFound(f"user {user_id} does not exist", field="user")
        token_id = store.insert_token(
            conn,
            user_id=user_id,
            name=name.strip(),
            token_hash=_token_hash(token),
            created_by=who,
            created_at=now,
        )
        _log(conn, who, "token_create", now, token_id=token_id, user=owner.email)
        row = next(r for r in store.tokens(conn, user_id) if r["id"] == token_id)
    return _token_view(row), token


def user_for_token(db: Database, token: str) -> User | None:
    """The account behind an ``Authorization: Bearer`` token, if it is valid and not revoked."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with db.read() as conn:
        row = store.token_by_hash(conn, _token_hash(token))
        user = _load(conn, row["user_id"]) if row is not None else None
    if row is None or user is None:
        return None
    now = _now()
    last = row["last_used_at"]
    if last is None or (now - last).total_seconds() > TOKEN_TOUCH_SECONDS:
        with db.write() as conn:
            store.touch_token(conn, row["id"], now)
    return user


def list_tokens(db: Database, actor: User) -> list[TokenView]:
    require_admin(actor)
    with db.read() as conn:
        return [_token_view(r) for r in store.tokens(conn)]


def revoke_token(db: Database, actor: User, token_id: int) -> None:
    require_admin(actor)
    now = _now()
    with db.write() as conn:
        row = store.token_by_id(conn, token_id)
        if row is None:
            raise NotFound(f"token {token_id} does not exist", field="id")
        if row["revoked_at"] is not None:
            raise Conflict(f"token {token_id} was revoked already")
        store.revoke_token(conn, token_id, now)
        _log(conn, actor.email, "token_revoke", now, token_id=token_id)


# --- access checks -----------------------------------------------------------------------------


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("only an admin may do this", code="admin_only")


def _refuse(site_key: str) -> Forbidden:
    return Forbidden(f"you do not moderate site {site_key!r}", code="not_your_site")


def moderated_sites(services: Services, user: User) -> list[Site]:
    """The sites a user may moderate, by key."""
    return [s for s in list_sites(services.db) if user.may_moderate(s.id)]


def site_scope(user: User, requested: Sequence[str], all_sites: Sequence[Site]) -> list[str]:
    """The site keys a listing may show: those asked for (all the user's when none), each
    checked. Unknown keys are a 404, other people's sites a 403."""
    by_key = {s.key: s for s in all_sites}
    for key in requested:
        site = by_key.get(key)
        if site is None:
            raise NotFound(f"unknown site {key!r}", field="site")
        if not user.may_moderate(site.id):
            raise _refuse(key)
    if requested:
        return list(dict.fromkeys(requested))
    return [s.key for s in all_sites if user.may_moderate(s.id)]


def access_site(services: Services, user: User, key: Any) -> Site:
    if not isinstance(key, str) or not key:
        raise InvalidInput("site is required", field="site")
    site = services.sites.get(key)
    if not user.may_moderate(site.id):
        raise _refuse(site.key)
    return site


def access_comment(services: Services, user: User, comment_id: Any) -> Site:
    """The site of a comment the user may moderate."""
    site = comment_domain.site_of_comment(services, comment_id)
    if not user.may_moderate(site.id):
        raise _refuse(site.key)
    return site


@dataclass(frozen=True)
class ThreadInfo:
    id: int
    site_id: int
    site_key: str
    site_name: str
    key: str
    title: str
    url: str
    closed: bool
    count: int
    premoderation_override: bool | None
    premoderated: bool


def access_thread(services: Services, user: User, thread_id: Any) -> ThreadInfo:
    tid = parse_id(thread_id, "thread", "an id")
    with services.db.read() as conn:
        row = store.thread_with_site(conn, tid)
    if row is None:
        raise NotFound(f"thread {tid} does not exist", field="thread")
    if not user.may_moderate(row["site_id"]):
        raise _refuse(row["site_key"])
    override = (row["policy"] or {}).get("premoderation")
    return ThreadInfo(
        id=row["id"],
        site_id=row["site_id"],
        site_key=row["site_key"],
        site_name=row["site_name"],
        key=row["key"],
        title=row["title"],
        url=row["url"],
        closed=bool(row["closed"]),
        count=row["comment_count"],
        premoderation_override=override if isinstance(override, bool) else None,
        premoderated=merge_policy(row["site_policy"] or {}, row["policy"]).premoderation,
    )


def access_ban(services: Services, user: User, ban_id: Any) -> int:
    """The id of a ban the user may lift: one on their site; a ban on every site is an
    admin's."""
    bid = parse_id(ban_id, "ban", "an id")
    with services.db.read() as conn:
        exists, site_id = store.ban_site_id(conn, bid)
        keys = store.site_keys(conn)
    if not exists:
        raise NotFound(f"ban {bid} does not exist", field="ban")
    if site_id is None:
        if not user.is_admin:
            raise Forbidden("only an admin may lift a ban on every site", code="admin_only")
    elif not user.may_moderate(site_id):
        raise _refuse(keys.get(site_id, "?"))
    return bid


def update_site_settings(
    services: Services,
    user: User,
    key: str,
    *,
    name: str | None = None,
    origins: list[str] | None = None,
    edit_window_seconds: int | None = None,
) -> Site:
    """Change a site's name, origins or edit window: an admin's setting (policy changes go
    through :func:`townhall.domain.moderation.update_policy`, which moderators may use)."""
    require_admin(user)
    before = services.sites.get(key)
    site = update_site(
        services.db,
        key,
        name=name,
        origins=origins,
        edit_window_seconds=edit_window_seconds,
    )
    services.sites.forget(key)
    changes: dict[str, Any] = {}
    if site.name != before.name:
        changes["name"] = site.name
    if site.origins != before.origins:
        changes["origins"] = list(site.origins)
    if site.edit_window_seconds != before.edit_window_seconds:
        changes["edit_window_seconds"] = site.edit_window_seconds
    if changes:
        with services.db.write() as conn:
            comment_store.log_action(
                conn,
                site_id=site.id,
                actor=user.email,
                action="update_site",
                now=_now(),
                details={"changes": changes},
            )
    return site
