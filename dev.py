#!/usr/bin/env python3
"""Quick-start entry point: ``python3 dev.py serve`` or ``python3 dev.py test``.

It needs nothing but Python 3.11+: it creates ``.venv-tools`` with tox on first use and hands
over to the tox environment of the same name (see tox.ini), which installs Tenantry itself.
Extra arguments are passed to the environment's command, e.g. ``python3 dev.py test -k rls``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".venv-tools"
ENVIRONMENTS = {"serve", "test", "lint", "bench"}


def _tools_python() -> Path:
    return TOOLS / ("Scripts" if os.name == "nt" else "bin") / "python"


def _ensure_tox() -> Path:
    python = _tools_python()
    if not python.exists():
        print("dev.py: creating .venv-tools with tox (first run only)", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
        subprocess.run(  # noqa: S603 - fixed arguments, our own venv
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             "tox>=4.11,<5"],
            check=True,
        )
    return python


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before anything checks it
        print("dev.py: Tenantry needs Python 3.11 or newer", file=sys.stderr)
        return 2
    if not argv or argv[0] not in ENVIRONMENTS:
        choices = "|".join(sorted(ENVIRONMENTS))
        print(f"usage: python3 dev.py {{{choices}}} [args...]", file=sys.stderr)
        return 2
    env, rest = argv[0], argv[1:]
    python = _ensure_tox()
    command = [str(python), "-m", "tox", "run", "-e", env, "--"] if rest else [
        str(python), "-m", "tox", "run", "-e", env]
    return subprocess.call([*command, *rest], cwd=ROOT)  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
