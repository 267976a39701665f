"""Settings: defaults, then ``instance/config.py``, then environment variables, then overrides.

Core declares its own settings in ``SETTINGS``; each plugin declares the settings it reads
with the ``tenantry_settings`` hook (``Setting`` objects using the parsers below), and the loader
checks them exactly like core's, in the same one error (``all_settings``).

Production (``TENANTRY_ENV=production``, the default whenever ``DATABASE_URL`` is set) demands
every required variable and reports all missing or malformed ones in one ``ConfigError``.
Development (no ``DATABASE_URL``) runs on the embedded PostgreSQL and fills the gaps with safe
generated values kept in ``instance/`` so that they survive restarts.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"

DEV_OWNER_EMAIL = "owner@tenantry.localhost"


class ConfigError(RuntimeError):
    """One or more settings are missing or malformed; the message names every one."""


def _csv(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple | set | frozenset) else str(value).split(",")
    return tuple(item.strip().lower() for item in items if str(item).strip())


def integer_at_least(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        number = int(value)
        if number < minimum:
            raise ValueError(f"must be >= {minimum}")
        return number

    return parse


def _log_level(value: Any) -> str:
    level = str(value).upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


def _database_url(value: Any) -> str:
    url = str(value)
    if not url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        raise ValueError("must be a PostgreSQL URL such as postgresql+psycopg://user:pass@host/db")
    # SQLAlchemy needs the driver named; runbook URLs may omit it.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret(value: Any) -> str:
    text = str(value)
    if len(text) < 32:
        raise ValueError("must be at least 32 characters (use: python -c 'import secrets; "
                         "print(secrets.token_urlsafe(48))')")
    return text


def _email(value: Any) -> str:
    text = str(value).strip().lower()
    if "@" not in text or text.startswith("@") or text.endswith("@"):
        raise ValueError("must be an e-mail address")
    return text


def _password(value: Any) -> str:
    text = str(value)
    if len(text) < 8:
        raise ValueError("must be at least 8 characters")
    return text


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).lower()
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text

    return parse


def plain_text(value: Any) -> str:
    return str(value)


def absolute_folder(value: Any) -> str:
    """A folder's absolute path, or empty for the setting's default."""
    text = str(value).strip()
    if text and not os.path.isabs(text):
        raise ValueError("must be an absolute path")
    return text


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


def networks(value: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``"127.0.0.1/32, 10.0.0.0/8"``: address ranges (CIDR), e.g. private ranges that webhook
    deliveries may reach (core/webhooks/targets.py)."""
    try:
        return tuple(ipaddress.ip_network(str(item), strict=False) for item in _csv(value))
    except ValueError as exc:
        raise ValueError(f"must be comma-separated address ranges (10.0.0.0/8): {exc}") from None


def seconds_schedule(value: Any) -> tuple[int, ...]:
    """``"5,300,1800"``: waits in seconds before each retry (at least one)."""
    items = value if isinstance(value, list | tuple) else _csv(value)
    try:
        waits = tuple(int(item) for item in items)
    except ValueError:
        raise ValueError("must be whole seconds separated by commas") from None
    if not waits or min(waits) < 0:
        raise ValueError("must list at least one wait, none negative")
    return waits


QUOTA_KINDS = ("tenant", "api_key", "user")


class Quotas(dict):
    """Requests per window by kind of key; written back as the setting is written."""

    def __str__(self) -> str:
        return ",".join(f"{kind}={count}" for kind, count in self.items())


def quotas(value: Any) -> Quotas:
    """``"tenant=6000,api_key=3000,user=3000"``: requests per window for each kind of key."""
    if isinstance(value, dict):
        items = value.items()
    else:
        items = [part.split("=", 1) if "=" in part else (part, "")
                 for part in str(value).replace(" ", "").split(",") if part]
    parsed = Quotas()
    for kind, count in items:
        if kind not in QUOTA_KINDS:
            raise ValueError(f"unknown kind {kind!r}: use {', '.join(QUOTA_KINDS)}")
        parsed[kind] = integer_at_least(1)(count)
    if set(parsed) != set(QUOTA_KINDS):
        raise ValueError(f"give all of {', '.join(QUOTA_KINDS)}, e.g. tenant=6000,api_key=3000,"
                         "user=3000")
    return Quotas((kind, parsed[kind]) for kind in QUOTA_KINDS)


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[Any], Any]
    default: Any = None
    required: bool = False  # required in production mode
    secret: bool = False
    help: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", _database_url, required=True,
            help="PostgreSQL URL of the unprivileged app role"),
    Setting("MIGRATION_DATABASE_URL", _database_url,
            help="PostgreSQL URL of the schema owner role used by migrations"),
    Setting("JWT_SECRET", _secret, required=True, secret=True,
            help="HS256 signing secret, 32+ characters"),
    Setting("JWT_PREVIOUS_SECRET", _secret, secret=True,
            help="the secret before the last rotation; tokens it signed stay valid"),
    Setting("JWT_TTL_SECONDS", integer_at_least(60), default=3600, help="lifetime of issued JWTs"),
    Setting("JWT_ISSUER", plain_text, default="tenantry", help="iss claim of issued JWTs"),
    Setting("ROOT_DOMAIN", lambda v: str(v).strip().lower(), required=True,
            help="tenants live at <slug>.<ROOT_DOMAIN>"),
    Setting("PLATFORM_HOSTS", _csv, required=True,
            help="comma-separated host names that serve the platform API"),
    Setting("RESERVED_SUBDOMAINS", _csv, required=True,
            help="comma-separated labels that never name a tenant"),
    Setting("FIRST_OWNER_EMAIL", _email, required=True, help="first platform admin"),
    Setting("FIRST_OWNER_PASSWORD", _password, required=True, secret=True,
            help="first platform admin's password"),
    Setting("BOOTSTRAP_TOKEN", _secret, secret=True,
            help="accepted as platform bearer and by POST /bootstrap while set"),
    Setting("BOOTSTRAP_MODULES", _csv, default=("cases",),
            help="modules POST /bootstrap and `flask bootstrap` enable for the new tenant"),
    Setting("PASSWORD_HASH_PROFILE", _choice("standard", "test"), default="standard",
            help="argon2id cost; 'test' is cheap and refused in production"),
    # Password hashing and login abuse (docs/security.md, "Login abuse").
    Setting("PASSWORD_HASH_SLOTS", integer_at_least(0), default=0,
            help="argon2 hashes running at once on this machine, all workers together "
                 "(0 = half the CPUs, at least 1; 16 under the test profile)"),
    Setting("PASSWORD_HASH_SLOT_DIR", absolute_folder, default="",
            help="folder of the hashing slots' lock files; the processes that share it share "
                 "the slots (empty: <temp>/tenantry-hash-slots-<uid>, the whole machine)"),
    Setting("PASSWORD_HASH_WAIT_SECONDS", integer_at_least(0), default=0,
            help="longest wait for a hashing slot before a login answers 503; at most as many "
                 "logins wait as there are slots, the others get 503 at once (0, the default: "
                 "none waits, since a waiting sync worker serves nobody else)"),
    Setting("LOGIN_FREE_FAILURES", integer_at_least(1), default=5,
            help="failed logins of one account from one client address before each further "
                 "attempt waits (1 s, then doubling, at most 15 minutes)"),
    Setting("LOGIN_ACCOUNT_MAX_FAILURES", integer_at_least(1), default=50,
            help="failed logins of one account from all addresses in 15 minutes before "
                 "addresses that failed on it wait out the window"),
    Setting("LOGIN_CLIENT_MAX_FAILURES", integer_at_least(1), default=100,
            help="failed logins from one client address (any account) in 15 minutes before "
                 "it is refused without checking a password"),
    Setting("TRUSTED_PROXY_COUNT", integer_at_least(0), default=0,
            help="reverse proxies in front of the app whose X-Forwarded-For is trusted for "
                 "the client address (0 = the TCP peer is the client)"),
    # Request rate limits (core/rate_limits.py, docs/security.md "Rate limits").
    Setting("RATE_LIMIT_ENABLED", flag, default=True,
            help="count requests per tenant, API key, user and client address; 429 over quota"),
    Setting("RATE_LIMIT_WINDOW_SECONDS", integer_at_least(1), default=60,
            help="length of the fixed window the quotas count in"),
    Setting("RATE_LIMITS", quotas, default=quotas("tenant=6000,api_key=3000,user=3000"),
            help="requests per window for tenants on the paid plan or without a plan"),
    Setting("RATE_LIMITS_FREE", quotas, default=quotas("tenant=600,api_key=300,user=300"),
            help="requests per window for tenants on billing's free plan"),
    Setting("RATE_LIMIT_ANONYMOUS", integer_at_least(0), default=600,
            help="requests without credentials per client address and window (0: no limit)"),
    # Responses (core/fast_dump.py).
    Setting("FAST_DUMP_CHECK", flag, default=False,
            help="also dump every planned response with marshmallow and fail when they differ "
                 "(on in the test kit)"),
    Setting("LOG_LEVEL", _log_level, default="INFO"),
    Setting("LOG_FORMAT", _choice("text", "json"), default="text"),
    Setting("APP_HOST", plain_text, default="127.0.0.1"),
    Setting("APP_PORT", integer_at_least(1), default=8000),
    Setting("TENANT_CACHE_TTL", integer_at_least(0), default=5,
            help="seconds a worker may serve a cached migration state"),
    Setting("TENANT_STATE_CACHE_SECONDS", integer_at_least(0), default=300,
            help="seconds an unused tenant, toggle, credential or plan entry stays in a "
                 "worker's cache; each request checks its entry against the database's "
                 "state_version"),
    Setting("DISABLED_PLUGINS", _csv, default=()),
    Setting("MAX_CONTENT_LENGTH", integer_at_least(1024), default=1024 * 1024),
    Setting("REPORT_STATEMENT_TIMEOUT_MS", integer_at_least(1), default=10000),
    Setting("IDEMPOTENCY_RETENTION_HOURS", integer_at_least(1), default=24),
    Setting("TENANT_ERASURE_GRACE_DAYS", integer_at_least(0), default=30,
            help="days a tenant stays inactive before `tenantry tenants erase` may erase it"),
    Setting("AUDIT_RETENTION_DAYS", integer_at_least(1), default=400,
            help="days audit events are kept; `tenantry audit purge` deletes older ones"),
    # The database path in production (docs/operations.md, "Database connections").
    Setting("DATABASE_POOLER", _choice("none", "transaction"), default="none",
            help="'transaction' when DATABASE_URL goes through pgbouncer in transaction mode: "
                 "no server-side prepared statements, no session state"),
    Setting("DB_POOL_SIZE", integer_at_least(1), default=5,
            help="connections each worker process keeps open"),
    Setting("DB_MAX_OVERFLOW", integer_at_least(0), default=5,
            help="extra connections a worker may open under load beyond DB_POOL_SIZE"),
    Setting("DB_POOL_TIMEOUT", integer_at_least(1), default=5,
            help="seconds a request waits for a pooled connection before answering 503"),
    Setting("STATEMENT_TIMEOUT_MS", integer_at_least(0), default=5000,
            help="longest statement of a request (0 = no limit); reports use "
                 "REPORT_STATEMENT_TIMEOUT_MS"),
    Setting("LOCK_TIMEOUT_MS", integer_at_least(0), default=2000,
            help="longest wait for a row or table lock (0 = no limit)"),
    Setting("CONSOLE_SESSION_HOURS", integer_at_least(1), default=12,
            help="hours a console sign-in lasts (logout ends it at once)"),
    Setting("METRICS_TOKEN", _secret, secret=True,
            help="bearer token /metrics requires when set"),
    Setting("WEBHOOK_SIGNING_KEY", _secret, secret=True,
            help="key every webhook endpoint's signing secret is derived from (webhooks are "
                 "refused until it is set)"),
    Setting("WEBHOOK_ALLOWED_NETWORKS", networks, default=(),
            help="private/loopback ranges webhook deliveries may reach (none by default)"),
    Setting("WEBHOOK_RETRY_SCHEDULE", seconds_schedule,
            default=seconds_schedule("5,300,1800,7200,18000,36000,36000"),
            help="seconds before each retry of a failed delivery; then it is dead"),
    Setting("WEBHOOK_RETENTION_DAYS", integer_at_least(1), default=30,
            help="days delivered and dead webhook messages are kept; then webhooks purge"),
    Setting("WEBHOOK_TIMEOUT_SECONDS", integer_at_least(1), default=10,
            help="seconds a receiver has to answer one delivery"),
)

SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}


def all_settings(disabled: Iterable[str] = (), extra: Iterable[tuple[str, object]] = (),
                 ) -> tuple[Setting, ...]:
    """Core's ``SETTINGS``, then every setting the installed plugins declare with
    ``tenantry_settings`` (a plugin blocked by ``DISABLED_PLUGINS`` takes its settings with
    it). ``extra``: plugins given to ``create_app`` as ``EXTRA_PLUGINS`` (tests)."""
    from core.plugins import PluginError, declared_settings  # plugins need this module first

    found = list(SETTINGS)
    owners = {setting.name: "core" for setting in SETTINGS}
    for plugin, setting in declared_settings(disabled=disabled, extra=extra):
        if not isinstance(setting, Setting):
            raise PluginError(f"plugin {plugin!r}: tenantry_settings() must return "
                              f"core.config.Setting objects, not {setting!r}")
        if setting.name in owners:
            raise PluginError(f"setting {setting.name} is declared twice: by "
                              f"{owners[setting.name]!r} and by plugin {plugin!r}")
        owners[setting.name] = plugin
        found.append(setting)
    return tuple(found)


def _merged(names: Iterable[str], file_values: Mapping[str, Any], environ: Mapping[str, str],
            overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Raw values: the instance file, then the environment, then overrides (for ``names``)."""
    names = set(names)
    raw = dict(file_values)
    raw.update({name: environ[name] for name in names if environ.get(name)})
    raw.update({k: v for k, v in overrides.items() if k in names and v is not None})
    return raw

DEVELOPMENT_DEFAULTS: Mapping[str, Any] = {
    "ROOT_DOMAIN": "localhost",
    "PLATFORM_HOSTS": "localhost,127.0.0.1,platform.localhost",
    "RESERVED_SUBDOMAINS": "www,api,admin,platform,static",
    "FIRST_OWNER_EMAIL": DEV_OWNER_EMAIL,
}


def _load_instance_file(instance_path: Path) -> dict[str, Any]:
    path = instance_path / "config.py"
    if not path.exists():
        return {}
    namespace: dict[str, Any] = {"__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - operator's file
    return {key: value for key, value in namespace.items() if key.isupper()}


def _development_secrets(instance_path: Path) -> dict[str, str]:
    """Generated once per instance folder and kept there (mode 0600)."""
    path = instance_path / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "JWT_SECRET": secrets.token_urlsafe(48),
        "FIRST_OWNER_PASSWORD": secrets.token_urlsafe(12),
        "BOOTSTRAP_TOKEN": secrets.token_urlsafe(32),
    }
    instance_path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    values["_generated"] = "1"
    return values


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None,
                  instance_path: Path | None = None) -> dict[str, Any]:
    """Merge every source and validate; raise one ConfigError naming every problem."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    instance_path = Path(overrides.pop("INSTANCE_PATH", None) or instance_path or environ.get(
        "TENANTRY_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH)

    file_values = _load_instance_file(instance_path)
    # Which plugins are installed decides which settings exist: read DISABLED_PLUGINS first
    # (its parser accepts any text), then collect the plugins' settings, then read them all.
    disabled = _merged(["DISABLED_PLUGINS"], file_values, environ, overrides).get(
        "DISABLED_PLUGINS")
    declared = all_settings(
        disabled=SETTINGS_BY_NAME["DISABLED_PLUGINS"].parse(disabled) if disabled else (),
        extra=overrides.get("EXTRA_PLUGINS") or ())
    known = {setting.name: setting for setting in declared}
    raw = _merged(known, file_values, environ, overrides)

    mode = str(overrides.get("TENANTRY_ENV") or environ.get("TENANTRY_ENV") or raw.get(
        "TENANTRY_ENV") or ("production" if raw.get("DATABASE_URL") else "development")).lower()
    if mode not in {"production", "development", "test"}:
        raise ConfigError("TENANTRY_ENV: must be production, development or test")

    generated_secrets = False
    if mode != "production":
        for name, value in DEVELOPMENT_DEFAULTS.items():
            raw.setdefault(name, value)
        missing_secrets = [n for n in ("JWT_SECRET", "FIRST_OWNER_PASSWORD") if n not in raw]
        if missing_secrets:
            dev = _development_secrets(instance_path)
            generated_secrets = dev.pop("_generated", None) is not None
            for name in ("JWT_SECRET", "FIRST_OWNER_PASSWORD", "BOOTSTRAP_TOKEN"):
                raw.setdefault(name, dev[name])

    settings: dict[str, Any] = {}
    problems: list[str] = []
    for setting in declared:
        value = raw.get(setting.name)
        if value is None or value == "":
            if setting.required and not (mode != "production" and setting.name == "DATABASE_URL"):
                problems.append(f"{setting.name}: missing ({setting.help})")
            settings[setting.name] = setting.default
            continue
        try:
            settings[setting.name] = setting.parse(value)
        except (TypeError, ValueError) as exc:
            problems.append(f"{setting.name}: {exc}")
    if mode == "production" and settings.get("PASSWORD_HASH_PROFILE") == "test":
        problems.append("PASSWORD_HASH_PROFILE: 'test' is not allowed in production")
    if problems:
        raise ConfigError("Tenantry configuration is invalid:\n  " + "\n  ".join(problems))

    settings["TENANTRY_ENV"] = mode
    settings["INSTANCE_PATH"] = instance_path
    settings["DEV_SECRETS_GENERATED"] = generated_secrets
    # Keys that are not settings (Flask's own, test switches) pass through untouched.
    settings.update({k: v for k, v in overrides.items() if k not in known})
    return settings


def public_view(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings safe to print or log: secrets masked."""
    return {
        name: "***" if SETTINGS_BY_NAME[name].secret and settings.get(name)
        else settings.get(name)
        for name in SETTINGS_BY_NAME
    }
