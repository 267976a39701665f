"""``tenantry plugins new KEY``: write a complete, working plugin distribution to start from.

The files come from ``core/scaffold/template/`` (``string.Template`` placeholders such as
``$key``, ``$package``, ``$table``): pyproject with the entry point and package data, the
hookimpls, a tenant table (model and the first migration of the module's own branch), schema,
service, API routes, a console page, tests through the test kit, and a README. Generated as it
is, it installs (``pip install -e .``), migrates (``tenantry migrate-all``), passes ``tenantry db
check`` and its own tests — a test in Tenantry's suite does exactly that.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "template"
KEY = re.compile(r"^[a-z][a-z0-9_]{1,29}$")
# Keys the built-in modules and core's routes already use.
TAKEN = {"billing", "cases", "catalog", "pos", "purchasing", "reports", "sales", "stock",
         "users", "platform", "tenant", "auth", "api", "console", "login", "logout",
         "settings", "admin", "health", "metrics", "bootstrap"}


class ScaffoldError(ValueError):
    """The plugin cannot be written as asked (the message says why)."""


def _values(key: str, name: str | None) -> dict[str, str]:
    if not KEY.match(key):
        raise ScaffoldError(f"{key!r} is not a module key: 2 to 30 characters, lower-case "
                            "letters, digits and _, starting with a letter")
    if key in TAKEN:
        raise ScaffoldError(f"{key!r} is taken by Tenantry itself; choose another key")
    title = name or key.replace("_", " ").title()
    return {
        "key": key, "name": title, "package": f"tenantry_{key}",
        "distribution": f"tenantry-{key.replace('_', '-')}", "table": f"{key}_items",
        "items_label": "items", "items_title": "Items",
        "revision": f"{key[:4]}{secrets.token_hex(4)}",
        "date": datetime.now(UTC).date().isoformat(),
    }


def _target(relative: Path, values: dict[str, str]) -> Path:
    parts = []
    for part in relative.parts:
        part = {"package": values["package"], "key": values["key"]}.get(part, part)
        parts.append(part.removesuffix(".tmpl"))
    target = Path(*parts)
    if target.name == "revision.py":
        target = target.with_name(
            f"{values['date'].replace('-', '')}_{values['revision']}_{values['key']}_tables.py")
    if target.name == "test_plugin.py":
        target = target.with_name(f"test_{values['key']}.py")
    return target


def create_plugin(key: str, directory: Path, name: str | None = None) -> list[Path]:
    """Write the distribution into ``directory`` (which must not exist or be empty); returns
    the files written."""
    values = _values(key, name)
    if directory.exists() and any(directory.iterdir()):
        raise ScaffoldError(f"{directory} is not empty")
    written = []
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        target = directory / _target(source.relative_to(TEMPLATE), values)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(string.Template(source.read_text()).substitute(values))
        written.append(target)
    return written
