"""Créneau installs under one import name: the built wheel, in a fresh virtual
environment, beside the PyPI packages named ``scheduler`` and ``adapters`` — both import,
each from its own files, and no module of Créneau stands under a bare top-level name."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_installs_beside_scheduler_and_adapters(tmp_path: Path) -> None:
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--quiet", "--no-deps", str(ROOT), "-w", str(tmp_path)],
                   check=True, capture_output=True)  # fmt: skip
    (wheel,) = tmp_path.glob("creneau-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"creneau"}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*install, str(wheel), "scheduler"], check=True, capture_output=True)
    # The PyPI `adapters` needs transformers to import: its files are enough to show that
    # they stand apart from Créneau's.
    subprocess.run([*install, "--no-deps", "adapters"], check=True, capture_output=True)
    probe = (
        "import importlib.util, creneau, scheduler\n"
        "from creneau.adapters.cli import main\n"
        "print(creneau.__version__)\n"
        "print(scheduler.__file__)\n"
        "print(importlib.util.find_spec('adapters').origin)\n"
        "print(importlib.util.find_spec('solver'), importlib.util.find_spec('events_store'))\n"
    )
    done = subprocess.run([str(python), "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True, check=True)  # fmt: skip
    version, scheduler_file, adapters_file, rest = done.stdout.splitlines()
    assert version.startswith("0.")
    site = str(venv / "lib")
    assert scheduler_file.startswith(site) and "/creneau/" not in scheduler_file
    assert adapters_file.startswith(site) and "/creneau/" not in adapters_file
    assert rest == "None None"
    ran = subprocess.run([str(venv / "bin" / "creneau"), "--version"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    assert ran.stdout.startswith("creneau 0.")
