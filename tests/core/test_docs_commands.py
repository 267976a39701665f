"""Docs that cannot lie: every command README.md and docs/*.md show (fenced shell blocks and
inline code spans starting with ``tenantry``, ``flask``, ``python -m core``, or the benchmark's
``python3 dev.py bench`` / ``python -m bench.run``, after any ``NAME=value`` settings) exists
with the options it uses, checked through the real command line in a subprocess
(``<command> --help`` exits 0 and lists every option; ``dev.py bench`` hands its arguments to
``python -m bench.run``, whose help is checked without building tox's environment).
A bare ``flask <command>`` is checked as typed, with no FLASK_APP: the README once showed
``flask setup-db`` and ``flask migrate-all``, which answered "No such command" and "Could not
locate a Flask application".

Also: the ``tenantry db heads`` listing in docs/operations.md is today's real output.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from tests.core.commandline import FLASK, PYTHON, TENANTRY, app_env, run, tenantry

DOC_FILES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"", "bash", "sh", "shell", "console", "text"}
COMMAND_START = re.compile(r"^([A-Z][A-Z0-9_]*=\S*\s+)*"
                           r"(tenantry|flask|python3? -m (core(\.cli)?|bench\.run)"
                           r"|python3? dev\.py bench)(\s|$)")
BENCH = "bench.run"
FENCE = re.compile(r"^\s*```(\S*)\s*$")
INLINE = re.compile(r"(?<!`)`([^`]+)`(?!`)")


@dataclass(frozen=True)
class DocCommand:
    where: str  # file:line
    text: str


def _fenced_commands(path: Path, lines: list[str]) -> Iterable[DocCommand]:
    language = None  # None: outside a fence
    pending, start = "", 0
    for number, line in enumerate(lines, 1):
        fence = FENCE.match(line)
        if fence:
            language = fence.group(1).lower() if language is None else None
            continue
        if language is None or language not in SHELL_LANGUAGES:
            continue
        text = line.strip().removeprefix("$ ")
        if not pending:
            start = number
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        text, pending = pending + text, ""
        if COMMAND_START.match(text):
            yield DocCommand(f"{path.name}:{start}", text)


def _inline_commands(path: Path, lines: list[str]) -> Iterable[DocCommand]:
    inside = False
    prose: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        if FENCE.match(line):
            inside = not inside
            continue
        if not inside:
            prose.append((number, line))
    # A code span may wrap onto the next line (Markdown reads the line break as a space).
    text = "\n".join(line for _, line in prose)
    for match in INLINE.finditer(text):
        span = " ".join(match.group(1).split())
        if COMMAND_START.match(span):
            line_number = prose[text.count("\n", 0, match.start())][0]
            yield DocCommand(f"{path.name}:{line_number}", span)


def documented_commands() -> list[DocCommand]:
    found: list[DocCommand] = []
    for path in DOC_FILES:
        lines = path.read_text().splitlines()
        found += [*_fenced_commands(path, lines), *_inline_commands(path, lines)]
    return found


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Invocation:
    """A documented command: what to run, its positional words, the options it uses."""

    entry: tuple[str, ...]  # the executable and its global options (flask --app core)
    variants: tuple[tuple[str, ...], ...]  # positional words, one tuple per `a|b` alternative
    options: tuple[str, ...]

    def help_commands(self) -> list[tuple[str, ...]]:
        """``<entry> <positional words> --help`` per variant. Click handles --help eagerly,
        before arguments are checked, so this shows the help of the deepest command the words
        name, or fails when a word names no command. Options and their values are left out:
        a value such as ``--owner-password ...`` could swallow the ``--help``."""
        return [(*self.entry, *words, "--help") for words in self.variants]


def parse(text: str) -> Invocation:
    tokens = [token.strip("[]") for token in shlex.split(text, comments=True)]
    tokens = [token for token in tokens if token and token != "..."]
    while re.match(r"[A-Z][A-Z0-9_]*=", tokens[0]):  # settings for this one command
        tokens = tokens[1:]
    if tokens[1:3] == ["dev.py", "bench"]:  # tox's bench environment runs bench.run
        entry, rest = [PYTHON, "-m", BENCH], tokens[3:]
    elif tokens[0] == "tenantry":
        entry, rest = [TENANTRY], tokens[1:]
    elif tokens[0] == "flask":
        entry, rest = [FLASK], tokens[1:]
        while rest and rest[0] in ("--app", "-A"):
            entry += rest[:2]
            rest = rest[2:]
    else:  # python -m core[.cli]
        entry, rest = [PYTHON, "-m", tokens[2]], tokens[3:]
    words, options = [], []
    for token in rest:
        if token.startswith("-"):
            options.append(token.split("=", 1)[0])
        elif not options:  # positional words come before the first option
            words.append(token)
    variants: list[tuple[str, ...]] = [()]
    for word in words:
        if word.startswith("<") and word.endswith(">"):  # a placeholder such as <command>
            break
        variants = [(*variant, alternative) for variant in variants
                    for alternative in word.split("|")]
    return Invocation(tuple(entry), tuple(variants), tuple(options))


class HelpPages:
    """``--help`` pages, each fetched once, in a subprocess, from a folder with no app.py,
    .env or .flaskenv (so a bare ``flask`` finds no app, as on an operator's machine)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd, self.pages = env, cwd, {}

    def get(self, command: tuple[str, ...]):
        if command not in self.pages:
            # The benchmark is not installed with Tenantry: it runs from the checkout.
            env = {**self.env, "PYTHONPATH": str(PROJECT_ROOT)} if BENCH in command \
                else self.env
            self.pages[command] = run(list(command), env, cwd=self.cwd)
        return self.pages[command]

    def problems(self, invocation: Invocation) -> list[str]:
        found = []
        for command in invocation.help_commands():
            page = self.get(command)
            shown = " ".join(Path(command[0]).name.split() + list(command[1:]))
            if page.returncode != 0:
                found.append(f"`{shown}` exits {page.returncode}: "
                             f"{(page.stderr or page.stdout).strip()[-300:]}")
                continue
            found += [f"`{shown}` lists no option {option}" for option in invocation.options
                      if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", page.stdout)]
        return found


@pytest.fixture(scope="module")
def help_pages(database, tmp_path_factory) -> HelpPages:
    """Every documented command's help page, fetched up front a few at a time."""
    cwd = tmp_path_factory.mktemp("docs-commands")
    env = app_env(database, cwd / "instance")
    assert "FLASK_APP" not in env
    pages = HelpPages(env, cwd)
    commands = {command for doc in documented_commands()
                for command in parse(doc.text).help_commands()}
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(pages.get, commands))
    return pages


COMMANDS = documented_commands()


def test_the_docs_show_commands_at_all():
    texts = {command.text for command in COMMANDS}
    assert any(text.startswith("tenantry setup-db --admin-url") for text in texts)
    assert any(text.startswith("tenantry db revision --module") for text in texts)
    assert any(text.startswith("tenantry platform-admins") for text in texts)
    assert any(text.startswith("python3 dev.py bench --cost") for text in texts)
    assert {command.where.split(":")[0] for command in COMMANDS} >= {"README.md",
                                                                    "operations.md",
                                                                    "benchmarks.md"}


@pytest.mark.parametrize("command", COMMANDS, ids=[f"{c.where} {c.text}" for c in COMMANDS])
def test_documented_command_exists_with_its_options(command, help_pages):
    assert help_pages.problems(parse(command.text)) == [], f"{command.where}: {command.text}"


@pytest.mark.parametrize("text, problem", [
    ("flask migrate-all", "exits"),  # no FLASK_APP: what the README once said
    ("tenantry no-such-command --help", "exits"),
    ("tenantry db revision --module catalog --no-such-option", "no option --no-such-option"),
    ("tenantry db check --module catalog", "no option --module"),
    ("tenantry tenants create|remove SLUG", "exits"),  # `remove` is not a tenants command
    ("python3 dev.py bench --no-such-flag", "no option --no-such-flag"),
    ("RATE_LIMIT_ENABLED=false python -m bench.run --cost --colder", "no option --colder"),
])
def test_the_checker_catches_what_does_not_exist(text, problem, help_pages):
    assert any(problem in found for found in help_pages.problems(parse(text))), text


def test_the_checker_expands_alternatives_and_leaves_option_values_out():
    invocation = parse("tenantry tenants create|list SLUG [--owner-email E --owner-password ...]")
    assert invocation.help_commands() == [
        (TENANTRY, "tenants", "create", "SLUG", "--help"),
        (TENANTRY, "tenants", "list", "SLUG", "--help")]
    assert invocation.options == ("--owner-email", "--owner-password")
    assert parse("flask --app core <command>").help_commands() == [
        (FLASK, "--app", "core", "--help")]


def test_db_heads_in_the_docs_is_the_real_output(app, database, tmp_path):
    lines = (PROJECT_ROOT / "docs" / "operations.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "`tenantry db heads` today" in line)
    fence = next(i for i in range(start, len(lines)) if FENCE.match(lines[i]))
    end = next(i for i in range(fence + 1, len(lines)) if FENCE.match(lines[i]))
    documented = lines[fence + 1:end]
    real = tenantry("db", "heads", env=app_env(database, tmp_path))
    assert real.returncode == 0, real.stderr
    assert documented == real.stdout.splitlines()
