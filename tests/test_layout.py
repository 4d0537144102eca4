"""The shape of the code itself: what CI holds every change to, beside the import contracts in
pyproject.toml (make lint)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("clients", "contracts", "billing", "offers", "tickets", "consultancy")
MIGRATIONS = sorted(p for app in APPS for p in (ROOT / app / "migrations").glob("0*.py"))
# Files of our own a reader opens: code, tests, templates, our JavaScript and CSS.
OWN_FILES = sorted(
    path
    for folder in (*APPS, "tests", "templates", "static/js", "static/css")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in {".py", ".html", ".txt", ".js", ".css"}
    and "migrations" not in path.parts
    and "__pycache__" not in path.parts
)
MAX_LINES = 500


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_migration_imports_no_app_code(path: Path) -> None:
    # A migration runs for years after it was written: if it imported a service, a later change
    # to that service would change what an old migration does. It carries what it needs. The
    # one exception is a field's validators, which Django records by import path: they live in
    # <app>/validators.py, which imports nothing of the app's.
    app_code = {m for m in _imported_modules(path) if m.split(".")[0] in {*APPS, "tests"}}
    assert app_code <= {f"{app}.validators" for app in APPS}


def test_validators_that_migrations_name_import_nothing_of_ours() -> None:
    for path in ROOT.glob("*/validators.py"):
        assert not _imported_roots(path) & {*APPS, "tests"}


def test_every_app_has_its_migrations_checked() -> None:
    assert {p.parent.parent.name for p in MIGRATIONS} == set(APPS)


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_of_our_own_outgrows_a_reading(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{lines} lines: split it by concept"
