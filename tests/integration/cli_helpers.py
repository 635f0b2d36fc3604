"""What the command-line tests share: the examples, and running `creneau` in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from creneau.adapters.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
METZ = EXAMPLES / "nec-metz-2023.toml"
SUD_OUEST = EXAMPLES / "nec-sud-ouest-2023.toml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit code, standard output and standard error of one `creneau` command."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def publish(capsys: pytest.CaptureFixture[str], store: str, document: Path = METZ) -> str:
    """``document`` imported into ``store`` (any address), a programme solved and
    published: the address."""
    assert run(capsys, "import", str(document), "--store", store)[0] == 0
    assert run(capsys, "solve", "--store", store, "--time-limit", "10")[0] == 0
    assert run(capsys, "accept", "--store", store)[0] == 0
    return store


def published(capsys: pytest.CaptureFixture[str], tmp_path: Path, document: Path = METZ) -> str:
    """A SQLite store of ``document`` with a programme solved and published: its path."""
    return publish(capsys, str(tmp_path / f"{document.stem}.db"), document)
