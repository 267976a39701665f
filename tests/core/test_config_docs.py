"""The README "Configuration" table tells the truth about the config loader.

Every setting and every environment variable the code reads
(``os.environ`` in core, plugins, deploy, dev.py, the test fixtures) has a row, and every row
names one of them. Each row's "Required" and "Default" cells match the code, and its "Accepted"
cell states every rule the parser enforces. The rules are found by calling the parse functions
with boundary values (and ``load_settings`` for production-only refusals), not copied here, so a
changed minimum or a new choice fails this test until the README says so. The settings are
core's and those the plugins declare (``core.config.all_settings()``).
"""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import (
    DEFAULT_INSTANCE_PATH,
    ConfigError,
    Setting,
    all_settings,
    load_settings,
)

# Core's settings and those the built-in plugins declare (tenantry_settings): all have rows.
SETTINGS = all_settings()
SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

# Where the product (not the benchmark harness, which documents itself) reads the environment.
ENVIRONMENT_READERS = ("core", "plugins", "migrations", "deploy", "dev.py", "tests/fixtures",
                       "tests/conftest.py")

NO_DEFAULT = "\N{EN DASH}"  # what a row's Default cell says when there is none

# A setting whose default is None falls back to something the Setting cannot express; these
# fall-backs live in core/engine.py (connect_database) and are what the row must say.
FALLBACKS = {
    "DATABASE_URL": "embedded",  # no DATABASE_URL: the embedded PostgreSQL (development)
    "MIGRATION_DATABASE_URL": "`DATABASE_URL`",
}

# A production configuration the loader accepts; single values are swapped in to probe it.
VALID_PRODUCTION = {
    "TENANTRY_ENV": "production",
    "DATABASE_URL": "postgresql://app:pw@db/tenantry",
    "JWT_SECRET": "s" * 40,
    "ROOT_DOMAIN": "example.com",
    "PLATFORM_HOSTS": "admin.example.com",
    "RESERVED_SUBDOMAINS": "www,api",
    "FIRST_OWNER_EMAIL": "root@example.com",
    "FIRST_OWNER_PASSWORD": "long-enough",
}

URL_SCHEME_CANDIDATES = ("postgresql://", "postgres://", "postgresql+psycopg://",
                         "postgresql+psycopg2://", "postgresql+asyncpg://", "mysql://",
                         "sqlite://", "http://")


# --- reading the README -----------------------------------------------------------------------

def _configuration_rows() -> dict[str, dict[str, str]]:
    text = README.read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows: dict[str, dict[str, str]] = {}
    for line in lines[2:]:  # after the header and the |---| line
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == len(header), f"README table row has {len(cells)} cells: {line}"
        row = dict(zip(header, cells, strict=True))
        name = row["Variable"].strip("`")
        assert name not in rows, f"README lists {name} twice"
        rows[name] = row
    return rows


ROWS = _configuration_rows()


# --- reading the code -------------------------------------------------------------------------

def _is_environ(node: ast.AST) -> bool:
    """``os.environ`` or a variable called ``environ`` (load_settings takes one)."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ")


def _environment_reads() -> dict[str, list[str]]:
    """Variable name -> literal defaults given where it is read (``environ.get(NAME, default)``)."""
    reads: dict[str, list[str]] = {}
    paths: list[Path] = []
    for entry in ENVIRONMENT_READERS:
        path = ROOT / entry
        paths.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            name = default = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                    (node.func.attr == "get" and _is_environ(node.func.value))
                    or node.func.attr == "getenv") and node.args:
                name = node.args[0]
                default = node.args[1] if len(node.args) > 1 else None
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and (
                    _is_environ(node.value)):
                name = node.slice
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found = reads.setdefault(name.value, [])
                if isinstance(default, ast.Constant) and default.value not in (None, ""):
                    found.append(str(default.value))
    return reads


ENVIRONMENT_READS = _environment_reads()


def _accepts(setting: Setting, value: object) -> bool:
    try:
        setting.parse(value)
    except (TypeError, ValueError):
        return False
    return True


def _minimum(setting: Setting) -> int | None:
    """The smallest integer the parser accepts, or None when it is not an integer setting."""
    try:
        if not isinstance(setting.parse("7"), int):
            return None
    except (TypeError, ValueError):
        try:
            if not isinstance(setting.parse("1000000"), int):
                return None
        except (TypeError, ValueError):
            return None
    low, high = -10**9, 10**6  # high is accepted; find the first accepted value by bisection
    if _accepts(setting, str(low)):
        return None
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if _accepts(setting, str(middle)) else (middle, high)
    return high


def _minimum_length(setting: Setting) -> int | None:
    """The shortest text the parser accepts, when any long enough text is accepted."""
    if _minimum(setting) is not None or not _accepts(setting, "x" * 256):
        return None
    return next(length for length in range(257) if _accepts(setting, "x" * length)) or None


def _choices(setting: Setting) -> list[str]:
    """Values named by the parser's own error message that it really accepts."""
    try:
        setting.parse("no-such-value-anywhere")
    except (TypeError, ValueError) as exc:
        message = str(exc)
    else:
        return []
    listed = re.sub(r"^must be (one of )?", "", message)
    candidates = [part.strip() for part in re.split(r",| or ", listed) if part.strip()]
    accepted = [candidate for candidate in candidates if _accepts(setting, candidate)]
    return accepted if len(accepted) >= 2 else []


def _is_email(setting: Setting) -> bool:
    return _accepts(setting, "someone@example.com") and not any(
        _accepts(setting, text) for text in ("someone-at-example.com", "x" * 256))


def _url_schemes(setting: Setting) -> list[str]:
    if _accepts(setting, "x" * 256) or _accepts(setting, "someone@example.com"):
        return []  # free text or an e-mail address, not a URL
    return [scheme for scheme in URL_SCHEME_CANDIDATES
            if _accepts(setting, f"{scheme}user:pw@host/db")]


def _refused_in_production(setting: Setting, value: str, tmp_path: Path) -> bool:
    try:
        load_settings(environ={**VALID_PRODUCTION, setting.name: value}, instance_path=tmp_path)
    except ConfigError as exc:
        return f"{setting.name}:" in str(exc)
    return False


def _render(value: object) -> str:
    if isinstance(value, bool):  # as a person writes it in the environment
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ",".join(str(item) for item in value)
    return str(value)


def _row(name: str) -> dict[str, str]:
    assert name in ROWS, f"README's Configuration table has no row for {name}"
    return ROWS[name]


# --- the table against the code ---------------------------------------------------------------

def test_every_setting_and_environment_variable_has_a_row_and_every_row_is_real():
    documented = set(ROWS)
    expected = set(SETTINGS_BY_NAME) | set(ENVIRONMENT_READS)
    assert not expected - documented, f"README Configuration lacks rows for {expected - documented}"
    assert not documented - expected, (
        f"README Configuration documents {documented - expected}, which nothing reads")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_required_column_matches_the_setting(setting):
    assert _row(setting.name)["Required"] == ("yes" if setting.required else "no")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_default_column_matches_the_setting(setting, tmp_path):
    cell = _row(setting.name)["Default"]
    if setting.default is not None:
        assert _accepts(setting, setting.default)  # a default the parser itself would refuse
        rendered = _render(setting.default)
        if rendered:
            assert f"`{rendered}`" in cell, f"{setting.name}: default is {rendered!r}"
        else:
            assert cell.startswith(NO_DEFAULT), f"{setting.name}: default is empty"
        return
    development = load_settings(environ={"TENANTRY_ENV": "development"},
                                instance_path=tmp_path)[setting.name]
    if development is not None:
        expected = "generated" if setting.secret else f"`{_render(development)}`"
        assert expected in cell and "(dev)" in cell, (
            f"{setting.name}: development mode fills in {expected}")
    else:
        assert cell.startswith(FALLBACKS.get(setting.name, NO_DEFAULT)), (
            f"{setting.name}: no default; the row must say so ({NO_DEFAULT}) or name the fall-back")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_accepted_column_states_every_rule_the_parser_enforces(setting, tmp_path):
    cell = _row(setting.name)["Accepted"]
    minimum = _minimum(setting)
    if minimum is not None:
        assert re.search(rf"integer ≥ {minimum}\b", cell), (
            f"{setting.name}: the parser refuses integers below {minimum}; write 'integer ≥ "
            f"{minimum}'")
    length = _minimum_length(setting)
    if length is not None:
        assert f"{length}+ characters" in cell, (
            f"{setting.name}: the parser refuses texts shorter than {length} characters")
    for choice in _choices(setting):
        assert f"`{choice}`" in cell, f"{setting.name}: the parser accepts {choice!r}"
        if _refused_in_production(setting, choice, tmp_path):
            assert re.search(rf"`{re.escape(choice)}` refused in production", cell), (
                f"{setting.name}={choice} stops a production start; the row must say so")
    if _is_email(setting):
        assert "e-mail" in cell, f"{setting.name}: the parser demands an e-mail address"
    for scheme in _url_schemes(setting):
        assert f"`{scheme}`" in cell, f"{setting.name}: the parser accepts {scheme}"
    if not any((minimum is not None, length, _choices(setting), _is_email(setting),
                _url_schemes(setting))):
        assert cell, f"{setting.name}: say what is accepted (e.g. 'text', 'comma-separated')"


def test_the_probes_find_the_rules_they_claim_to(tmp_path):
    """The probes themselves can fail: they see the rules the issue lists."""
    assert _minimum(SETTINGS_BY_NAME["JWT_TTL_SECONDS"]) == 60
    assert _minimum(SETTINGS_BY_NAME["MAX_CONTENT_LENGTH"]) == 1024
    assert _minimum_length(SETTINGS_BY_NAME["BOOTSTRAP_TOKEN"]) == 32
    assert _choices(SETTINGS_BY_NAME["DATABASE_POOLER"]) == ["none", "transaction"]
    assert "postgres://" in _url_schemes(SETTINGS_BY_NAME["DATABASE_URL"])
    assert _is_email(SETTINGS_BY_NAME["FIRST_OWNER_EMAIL"])
    assert _refused_in_production(SETTINGS_BY_NAME["PASSWORD_HASH_PROFILE"], "test",
                                  tmp_path)
    assert not _refused_in_production(SETTINGS_BY_NAME["PASSWORD_HASH_PROFILE"], "standard",
                                      tmp_path)


@pytest.mark.parametrize("name", sorted(ENVIRONMENT_READS))
def test_literal_defaults_where_the_environment_is_read_are_in_the_row(name):
    cell = _row(name)["Default"]
    for default in ENVIRONMENT_READS[name]:
        assert f"`{default}`" in cell, f"{name} defaults to {default!r} where it is read"


def test_tenantry_env_row_names_every_mode(tmp_path):
    cell = _row("TENANTRY_ENV")["Accepted"]
    with pytest.raises(ConfigError) as excinfo:
        load_settings(environ={"TENANTRY_ENV": "no-such-mode"}, instance_path=tmp_path)
    listed = re.split(r",| or ", str(excinfo.value).split("must be ", 1)[1])
    modes = [mode.strip() for mode in listed if mode.strip()]
    assert len(modes) == 3
    for mode in modes:
        load_settings(environ={**VALID_PRODUCTION, "TENANTRY_ENV": mode}, instance_path=tmp_path)
        assert f"`{mode}`" in cell


def test_instance_path_row_names_the_default_folder():
    assert f"`{DEFAULT_INSTANCE_PATH.name}/`" in _row("TENANTRY_INSTANCE_PATH")["Default"]


# --- first boot with a short secret -----------------------------------------------------------

@pytest.mark.parametrize("name", [s.name for s in SETTINGS if _minimum_length(s) == 32])
def test_a_short_secret_is_named_with_the_command_that_makes_a_good_one(name, tmp_path):
    """BOOTSTRAP_TOKEN (and every 32+ secret) too short: the one error says which and how to
    generate one; that command, run as the message prints it, gives a value the loader takes."""
    short = "too-short-token"
    with pytest.raises(ConfigError) as excinfo:
        load_settings(environ={**VALID_PRODUCTION, name: short}, instance_path=tmp_path)
    message = str(excinfo.value)
    assert f"{name}: must be at least 32 characters" in message
    assert short not in message  # a rejected secret is not echoed
    command = re.search(r"use: (python .+?)\)?$", message, re.MULTILINE).group(1)
    argv = shlex.split(command)
    assert argv[0] == "python"
    generated = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True,
                               check=True, timeout=30).stdout.strip()
    settings = load_settings(environ={**VALID_PRODUCTION, name: generated},
                             instance_path=tmp_path)
    assert settings[name] == generated
    assert command in README.read_text(), "README should show the same generation command"


TENANTRY = Path(sys.executable).parent / "tenantry"  # the console script, beside this Python


@pytest.mark.parametrize("argv", [
    [str(TENANTRY), "migrate-all"],
    [sys.executable, "-m", "flask", "--app", "core:create_app", "routes"],
], ids=["tenantry migrate-all", "flask --app core routes"])
def test_a_short_bootstrap_token_stops_a_command_with_that_message(argv, tmp_path):
    """Through the real command line: the error reaches the operator, and the exit is not 0."""
    environ = {"PATH": str(Path(sys.executable).parent), "TENANTRY_INSTANCE_PATH": str(tmp_path),
               **VALID_PRODUCTION, "BOOTSTRAP_TOKEN": "too-short-token"}
    result = subprocess.run(argv, capture_output=True, text=True, env=environ, cwd=ROOT,
                            timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "BOOTSTRAP_TOKEN: must be at least 32 characters" in output
    assert "secrets.token_urlsafe" in output
    assert "too-short-token" not in output
