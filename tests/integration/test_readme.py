"""The README's tour and embedding example run as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def workspace(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path


def test_tour_runs(tmp_path: Path) -> None:
    tour = "\n".join(b for b in blocks("sh") if "creneau import" in b or "creneau solve" in b)
    cwd = workspace(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    script = "set -euo pipefail\n" + tour.replace('export PATH="$PWD/.venv/bin:$PATH"', "")
    result = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "salle modifiée" in result.stdout  # the re-imported change, in the log
    assert "OK :" in result.stdout


def test_embedding_example_runs(tmp_path: Path) -> None:
    (example,) = blocks("python")
    cwd = workspace(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", example],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["8", "58", "optimal", "21", "schedule.accepted"]
