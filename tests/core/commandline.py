"""Running the real command line in a subprocess: the ``tenantry`` console script (and ``flask``,
``python -m core``) from the test environment's bin folder, with settings for a test database.

These tests prove the entry points an operator types; calling the click objects in-process
would not notice a missing console script or entry point.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from core.testing.app import (
    BOOTSTRAP_TOKEN,
    JWT_SECRET,
    PLATFORM_EMAIL,
    PLATFORM_PASSWORD,
    ROOT_DOMAIN,
)

BIN = Path(sys.executable).parent
TENANTRY = str(BIN / "tenantry")
FLASK = str(BIN / "flask")
PYTHON = sys.executable

# Variables of the developer's shell that would change what the command does.
_SCRUBBED_PREFIXES = ("FLASK_", "TENANTRY_")
_SCRUBBED = {"DATABASE_URL", "MIGRATION_DATABASE_URL", "ADMIN_DATABASE_URL", "JWT_SECRET",
             "JWT_PREVIOUS_SECRET", "ROOT_DOMAIN", "PLATFORM_HOSTS", "RESERVED_SUBDOMAINS",
             "FIRST_OWNER_EMAIL", "FIRST_OWNER_PASSWORD", "BOOTSTRAP_TOKEN", "OWNER_PASSWORD",
             "APP_PASSWORD", "PASSWORD_HASH_PROFILE", "DISABLED_PLUGINS", "METRICS_TOKEN",
             "WEBHOOK_SIGNING_KEY", "WEBHOOK_ALLOWED_NETWORKS", "WEBHOOK_RETRY_SCHEDULE"}


def base_env(**values: Any) -> dict[str, str]:
    """The current environment without Tenantry's settings, plus ``values``."""
    env = {key: value for key, value in os.environ.items()
           if key not in _SCRUBBED and not key.startswith(_SCRUBBED_PREFIXES)}
    env.update({key: str(value) for key, value in values.items() if value is not None})
    return env


def app_env(database, instance_path: Path, **overrides: Any) -> dict[str, str]:
    """Settings of a command-line run against ``database`` (test mode: cheap hashes)."""
    values: dict[str, Any] = {
        "TENANTRY_ENV": "test",
        "TENANTRY_INSTANCE_PATH": instance_path,
        "DATABASE_URL": database.app_url,
        "MIGRATION_DATABASE_URL": database.owner_url,
        "JWT_SECRET": JWT_SECRET,
        "ROOT_DOMAIN": ROOT_DOMAIN,
        "PLATFORM_HOSTS": f"platform.{ROOT_DOMAIN},localhost,127.0.0.1",
        "RESERVED_SUBDOMAINS": "www,api,admin,platform",
        "FIRST_OWNER_EMAIL": PLATFORM_EMAIL,
        "FIRST_OWNER_PASSWORD": PLATFORM_PASSWORD,
        "BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN,
        "PASSWORD_HASH_PROFILE": "test",
        "LOG_LEVEL": "WARNING",
    }
    values.update(overrides)
    return base_env(**values)


def run(args: list[str], env: dict[str, str], *, input: str | None = None,
        cwd: Path | str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, input=input, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def tenantry(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return run([TENANTRY, *args], env, **kwargs)


def stop_server(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Stop a server we started (gunicorn): SIGTERM for a graceful stop, SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
