"""`townhall user ...`: create accounts from a prompt or standard input, list, reset a
password, unlock, and create an API token."""

from __future__ import annotations

from pathlib import Path

import httpx
from click.testing import CliRunner, Result

from townhall.cli import main
from townhall.domain import accounts
from townhall.domain.services import Services
from townhall.domain.sites import Site


def run(tmp_path: Path, database_url: str, *args: str, stdin: str | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(
        main,
        [*args, "--data-dir", str(tmp_path), "--database-url", database_url],
        input=stdin,
    )


def test_user_create_from_stdin_and_prompt(
    tmp_path: Path, database_url: str, services: Services, site: Site
) -> None:
    r = run(
        tmp_path, database_url, "user", "create", "Boss@Example.org", "--role", "admin",
        "--password-stdin", stdin="a long admin password\n",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "created boss@example.org\tadmin\tevery site" in r.output
    r = run(
        tmp_path, database_url, "user", "create", "mod@example.org", "--role", "moderator",
        "--site", "news", stdin="moderator password\nmoderator password\n",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "mod@example.org\tmoderator\tnews" in r.output
    user = accounts.authenticate(services.db, "mod@example.org", "moderator password")
    assert user.site_ids == {site.id}
    r = run(tmp_path, database_url, "user", "list")
    assert r.output.splitlines() == [
        "boss@example.org\tadmin\tevery site",
        "mod@example.org\tmoderator\tnews",
    ]


def test_user_create_errors(
    tmp_path: Path, database_url: str, services: Services, site: Site
) -> None:
    cases = [
        (["--role", "moderator"], "a long password", "needs at least one site"),
        (["--role", "moderator", "--site", "nope"], "a long password", "unknown site 'nope'"),
        (["--role", "admin"], "short", "at least 10 characters"),
        (["--role", "boss"], "a long password", "Invalid value for '--role'"),
        (["--role", "admin"], "", "no password on standard input"),
    ]
    for options, password, message in cases:
        r = run(
            tmp_path, database_url, "user", "create", "x@example.org", *options,
            "--password-stdin", stdin=password + "\n" if password else "",
        )  # fmt: skip
        assert r.exit_code != 0, options
        assert message in r.output, (options, r.output)
    r = run(
        tmp_path, database_url, "user", "create", "not-an-email", "--role", "admin",
        "--password-stdin", stdin="a long password\n",
    )  # fmt: skip
    assert "email must be an address" in r.output
    accounts.create_user(services.db, email="x@example.org", password="p" * 12, role="admin")
    r = run(
        tmp_path, database_url, "user", "create", "X@example.org", "--role", "admin",
        "--password-stdin", stdin="a long password\n",
    )  # fmt: skip
    assert "exists already" in r.output


async def test_password_unlock_and_token(
    tmp_path: Path, database_url: str, services: Services, client: httpx.AsyncClient
) -> None:
    user = accounts.create_user(services.db, email="m@example.org", password="p" * 12, role="admin")
    for _ in range(accounts.MAX_FAILURES):
        try:
            accounts.authenticate(services.db, "m@example.org", "wrong")
        except accounts.LoginFailed:
            pass
        except accounts.AccountLocked:
            break
    assert (accounts.get_user(services.db, user.id) or user).locked_until is not None
    r = run(tmp_path, database_url, "user", "unlock", "m@example.org")
    assert r.exit_code == 0 and "unlocked m@example.org" in r.output
    r = run(
        tmp_path, database_url, "user", "password", "m@example.org", "--password-stdin",
        stdin="a brand new password\n",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert accounts.authenticate(services.db, "m@example.org", "a brand new password")
    r = run(tmp_path, database_url, "user", "token", "m@example.org", "--name", "bot")
    token = r.output.strip()
    assert token.startswith("th_")
    me = await client.get("/api/v1/moderation/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["role"] == "admin"
    r = run(tmp_path, database_url, "user", "unlock", "nobody@example.org")
    assert r.exit_code != 0 and "no account" in r.output
