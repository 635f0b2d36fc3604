"""What each part may import: the core no infrastructure, the independent validator
nothing of Créneau's at all (not even the document decoding)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0] if node.level == 0 else ".")
    return names


def test_the_validator_imports_the_standard_library_only() -> None:
    found = imported(ROOT / "adapters" / "validator.py")
    assert "." not in found
    outside = {n for n in found if n not in sys.stdlib_module_names and n != "__future__"}
    assert outside == set()


def test_the_core_imports_no_adapter_store_solver_or_framework() -> None:
    forbidden = {"ortools", "sqlite3", "psycopg", "events_store", "adapters", "solver",
                 "babel", "litestar", "jinja2"}  # fmt: skip
    for path in (ROOT / "scheduler").rglob("*.py"):
        assert not imported(path) & forbidden, path.name
