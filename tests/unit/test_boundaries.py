"""What each part may import: the core no infrastructure, the independent validator
nothing of Créneau's at all (not even the document decoding)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    """The top-level modules a file imports; Créneau's own as ``creneau.<part>``."""
    names: set[str] = set()

    def add(module: str) -> None:
        parts = module.split(".")
        names.add(".".join(parts[:2]) if parts[0] == "creneau" else parts[0])

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for a in node.names:
                add(a.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.add(".")
            else:
                add(node.module or "")
    return names


def test_the_validator_imports_the_standard_library_only() -> None:
    found = imported(ROOT / "adapters" / "validator.py")
    assert "." not in found
    outside = {n for n in found if n not in sys.stdlib_module_names and n != "__future__"}
    assert outside == set()


def test_the_core_imports_no_adapter_store_solver_or_framework() -> None:
    forbidden = {"ortools", "sqlite3", "psycopg", "creneau.events_store", "creneau.adapters",
                 "creneau.solver", "babel", "litestar", "jinja2", "uvicorn", "procrastinate",
                 "cryptography"}  # fmt: skip
    for path in (ROOT / "scheduler").rglob("*.py"):
        assert not imported(path) & forbidden, path.name


def test_the_solver_reads_the_core_through_its_public_names() -> None:
    for path in (ROOT / "solver").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "creneau.scheduler."
            ):
                raise AssertionError(f"{path.name} reaches into {node.module}")


def test_no_module_imports_creneau_parts_by_bare_names() -> None:
    bare = {"scheduler", "solver", "events_store", "adapters"}
    for folder in ("scheduler", "solver", "events_store", "adapters", "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            assert not imported(path) & bare, path
