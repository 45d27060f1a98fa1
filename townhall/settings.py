"""One frozen settings object, every setting declared once.

Each :class:`Setting` carries its default and help text; the same list feeds validation,
``townhall init`` (the commented config file), ``--help`` and ``docs/config.md``.
Precedence is one way: command line > environment (``TOWNHALL_*``) > config file > default.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.datastructures import Secret


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message says which and why."""


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str
    secret: bool = False

    @property
    def env_var(self) -> str:
        return "TOWNHALL_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./townhall-data", "Folder for the SQLite database and the secret key."),
    Setting(
        "database_url",
        "",
        "SQLAlchemy URL of the database. Empty: SQLite file `townhall.db` in data_dir. "
        "PostgreSQL: postgresql+psycopg://user@host/dbname",
    ),
    Setting("host", "127.0.0.1", "Address `townhall serve` listens on."),
    Setting("port", 8080, "Port `townhall serve` listens on.", int),
    Setting("workers", 1, "uvicorn worker processes (use PostgreSQL for more than one).", int),
    Setting(
        "public_url",
        "",
        "The URL readers reach this server at (used in links and the demo). "
        "Empty: derived from each request.",
    ),
    Setting(
        "secret_key",
        "",
        "Signs tokens and keys IP hashes. Empty: generated once and kept in data_dir/secret.key.",
        str,
        secret=True,
    ),
    Setting("max_body_bytes", 65536, "Largest request body accepted, in bytes.", int),
    Setting("max_comment_chars", 10000, "Longest comment text, in characters.", int),
    Setting("max_name_chars", 80, "Longest author name, in characters.", int),
    Setting("page_size", 20, "Top-level comments per page when a client asks for none.", int),
    Setting(
        "replies_per_subtree",
        50,
        "Replies shown under a top-level comment before 'show more'.",
        int,
    ),
    Setting("ip_retention_days", 90, "Days after which IP hashes are erased from comments.", int),
    Setting("thread_cache_entries", 2048, "Rendered thread pages kept in memory per process.", int),
    Setting(
        "thread_cache_mb",
        32,
        "Memory for rendered thread pages and thread snapshots, in MB per process (pages get "
        "three quarters); the least recently read go first.",
        int,
    ),
    Setting(
        "trust_forwarded_for",
        False,
        "Take the client address from X-Forwarded-For, its last entry (the one your proxy "
        "appends); only behind a trusted proxy.",
        bool,
    ),
    Setting("smtp_host", "", "SMTP server for notification mail. Empty: no mail."),
    Setting("smtp_port", 25, "Port of the SMTP server.", int),
    Setting("mail_from", "townhall@localhost", "Sender address of notification mail."),
    Setting(
        "rate_limit_reads",
        1200,
        "Read requests one address may make per minute (0: no limit).",
        int,
    ),
    Setting(
        "rate_limit_writes",
        120,
        "Write requests (post, edit, vote, flag) one address may make per minute (0: no limit).",
        int,
    ),
    Setting(
        "redis_url",
        "",
        "Redis URL (redis://host:6379/0) to share request rate limits between nodes. "
        "Empty: each process counts on its own. Nodes with the same secret key share counts; "
        "other installations on the same Redis keep their own.",
    ),
    Setting("log_level", "info", "Log level: debug, info, warning or error."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, value: Any, source: str) -> Any:
    if setting.kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise SettingsError(f"{setting.name} (from {source}) must be true or false, not {value!r}")
    if setting.kind is int:
        if isinstance(value, bool):
            raise SettingsError(f"{setting.name} (from {source}) must be a whole number")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SettingsError(
                f"{setting.name} (from {source}) must be a whole number, not {value!r}"
            ) from None
    return str(value)


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./townhall-data")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    public_url: str = ""
    secret_key: Secret = dataclasses.field(default_factory=lambda: Secret(""))
    max_body_bytes: int = 65536
    max_comment_chars: int = 10000
    max_name_chars: int = 80
    page_size: int = 20
    replies_per_subtree: int = 50
    ip_retention_days: int = 90
    thread_cache_entries: int = 2048
    thread_cache_mb: int = 32
    trust_forwarded_for: bool = False
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = "townhall@localhost"
    rate_limit_reads: int = 1200
    rate_limit_writes: int = 120
    redis_url: str = ""
    log_level: str = "info"
    demo: bool = False

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'townhall.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def secret_bytes(self) -> bytes:
        return str(self.secret_key).encode()


def load_settings(
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge default < config file < environment < overrides into one frozen object."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    if config_file is None and environ.get("TOWNHALL_CONFIG"):
        config_file = Path(environ["TOWNHALL_CONFIG"])
    if config_file is not None:
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"config file {config_file} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {config_file} is not valid TOML: {exc}") from None
        for key, value in data.items():
            if key not in _BY_NAME:
                raise SettingsError(f"config file {config_file}: unknown setting {key!r}")
            values[key] = _coerce(_BY_NAME[key], value, str(config_file))
    for setting in SETTINGS:
        if setting.env_var in environ:
            values[setting.name] = _coerce(setting, environ[setting.env_var], setting.env_var)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "demo":
            values["demo"] = bool(value)
            continue
        values[key] = _coerce(_BY_NAME[key], value, "command line")
    for name in ("max_body_bytes", "max_comment_chars", "max_name_chars", "page_size"):
        if values[name] <= 0:
            raise SettingsError(f"{name} must be greater than 0")
    if not 1 <= values["port"] <= 65535:
        raise SettingsError("port must be between 1 and 65535")
    data_dir = Path(values.pop("data_dir"))
    secret = values.pop("secret_key") or ""
    return Settings(data_dir=data_dir, secret_key=Secret(secret), **values)


def ensure_secret(settings: Settings) -> Settings:
    """Give the settings a secret key, generating and keeping one in data_dir if none is set."""
    if str(settings.secret_key):
        return settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key_file = settings.data_dir / "secret.key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        key_file.chmod(0o600)
    return dataclasses.replace(
        settings, secret_key=Secret(key_file.read_text(encoding="utf-8").strip())
    )


def render_config_file() -> str:
    """The fully commented config file `townhall init` writes."""
    lines = [
        "# townhall configuration (TOML).",
        "# Every setting can also be given as an environment variable TOWNHALL_<NAME>,",
        "# which wins over this file; command-line options win over both.",
        "",
    ]
    for setting in SETTINGS:
        lines.append(f"# {setting.help}")
        lines.append(f"# environment: {setting.env_var}")
        default = setting.default
        if isinstance(default, bool):
            rendered = "true" if default else "false"
        elif isinstance(default, int):
            rendered = str(default)
        else:
            rendered = '"' + str(default).replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines.append(f"# {setting.name} = {rendered}")
        lines.append("")
    return "\n".join(lines)


def render_reference() -> str:
    """The config reference in Markdown (docs/config.md is generated from this)."""
    out = [
        "# Configuration reference",
        "",
        "Generated from `townhall/settings.py` by `townhall config-reference`.",
        "Precedence: command line > environment > config file (`--config` or `TOWNHALL_CONFIG`)"
        " > default.",
        "",
        "| setting | environment | default | meaning |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        out.append(f"| `{s.name}` | `{s.env_var}` | `{s.default!r}` | {s.help} |")
    return "\n".join(out) + "\n"
