"""Fixtures shared by the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_helpers import METZ, run


@pytest.fixture
def metz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A store holding Metz, solved and published."""
    store = str(tmp_path / "metz.db")
    for argv in (["import", str(METZ)], ["solve", "--seed", "1"], ["accept"]):
        assert run(capsys, *argv, "--store", store)[0] == 0
    return store
