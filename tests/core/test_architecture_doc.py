"""docs/architecture.md is the map the code and docs cite, and the map stays true.

- Nothing cites the design contract that is not in the repository (it was replaced by
  docs/architecture.md).
- Every path the page names exists, and every module of ``core`` has a row in "Where is X", so
  a new or renamed core file fails here until the map says where it is.
- Links into the page from other documents land on one of its headings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
SEARCHED = ("core", "plugins", "migrations", "tests", "docs", "deploy", "bench", "README.md",
            "dev.py", "pyproject.toml", "tox.ini", "setup.cfg")
SUFFIXES = {".py", ".md", ".toml", ".ini", ".cfg", ".yaml", ".yml", ".txt", ".sql", ".mako"}
# Spelled in pieces so that this file does not cite it itself.
OLD_CONTRACT = re.compile("DESIGN" + r"(\.md|\s*§)")


def _files():
    for entry in SEARCHED:
        path = ROOT / entry
        candidates = [path] if path.is_file() else path.rglob("*")
        for candidate in candidates:
            if candidate.is_file() and candidate.suffix in SUFFIXES and (
                    "__pycache__" not in candidate.parts):
                yield candidate


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _where_is_rows() -> str:
    text = ARCHITECTURE.read_text()
    return text.split("\n## Where is X\n", 1)[1].split("\n## ", 1)[0]


def test_nothing_cites_the_old_design_contract():
    citing = [f"{path.relative_to(ROOT)}:{number}"
              for path in _files()
              for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
              if OLD_CONTRACT.search(line)]
    assert not citing, f"cite docs/architecture.md instead: {citing}"


def test_every_path_the_page_names_exists():
    named = set(re.findall(r"`((?:core|plugins|migrations|tests|docs|deploy|bench)/[\w./-]*)`",
                           ARCHITECTURE.read_text()))
    assert len(named) > 30  # the pattern sees the map
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_where_is_x_has_every_core_module():
    rows = _where_is_rows()
    listed = set(re.findall(r"`(core/[\w/]+(?:\.py|/))`", rows))
    modules = {str(path.relative_to(ROOT)) for path in (ROOT / "core").rglob("*.py")
               if path.name != "__init__.py" or path.parent == ROOT / "core"}
    folders_listed = {entry for entry in listed if entry.endswith("/")}
    unlisted = sorted(module for module in modules if module not in listed
                      and not any(module.startswith(folder) for folder in folders_listed))
    # core/auth/__init__.py and core/platform/* are covered by their folder rows or files.
    assert not unlisted, f"docs/architecture.md 'Where is X' has no row for {unlisted}"


@pytest.mark.parametrize("document", [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"],
                         ids=lambda path: path.name)
def test_links_into_the_page_land_on_a_heading(document):
    anchors = {_slug(line.lstrip("#")) for line in ARCHITECTURE.read_text().splitlines()
               if line.startswith("#")}
    pattern = r"\]\(#([\w-]+)\)" if document == ARCHITECTURE else r"architecture\.md#([\w-]+)"
    for anchor in re.findall(pattern, document.read_text()):
        assert anchor in anchors, f"{document.name} links to a missing heading #{anchor}"


def _table_answers(section: str) -> list[tuple[str, str]]:
    """(question, answer cell) of every row of a two-column table in ``section``."""
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 2 and not set(cells[1]) <= {"-", " "} \
                and cells[1] != "File":
            rows.append((cells[0], cells[1]))
    return rows


def _one_guess_rows() -> list[tuple[str, str]]:
    text = ARCHITECTURE.read_text()
    return _table_answers(text.split("\n### One guess\n", 1)[1].split("\n#", 1)[0])


def test_every_where_is_x_answer_is_one_file_or_folder():
    rows = _table_answers(_where_is_rows().split("\n### One guess\n", 1)[0])
    assert len(rows) > 60
    several = [question for question, answer in rows if len(re.findall(r"`[^`]+`", answer)) != 1]
    assert not several, f"'Where is X' rows must answer with one path: {several}"


def test_the_one_guess_table_answers_with_one_existing_file_each():
    rows = _one_guess_rows()
    assert len(rows) >= 15
    for question, answer in rows:
        paths = re.findall(r"`([^`]+)`", answer)
        assert len(paths) == 1, question
        assert (ROOT / paths[0]).is_file(), f"{question}: {paths[0]} is not a file"


def test_a_two_file_answer_is_reported():
    assert len(re.findall(r"`[^`]+`", "`core/a.py`, `core/b.py`")) == 2
