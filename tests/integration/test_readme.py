"""The README's tour and embedding example run as written, and every link of the README
and the docs resolves inside the repository, which points nowhere outside itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SKIP = {".git", ".venv", ".demo", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache",
        "__pycache__", ".benchmarks", "build"}  # fmt: skip


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def workspace(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path


def test_tour_runs(tmp_path: Path) -> None:
    tour = "\n".join(b for b in blocks("sh") if "creneau import" in b or "creneau solve" in b)
    cwd = workspace(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("CRENEAU_LANG", None)
    env["LANG"] = "C.UTF-8"
    script = "set -euo pipefail\n" + tour.replace('export PATH="$PWD/.venv/bin:$PATH"', "")
    result = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "schedule-1 publié : 21 placements" in out
    assert "liste d'attente" not in out and out.count("confirmé\n") == 2
    # The re-import says what it would change, then changes it; the log says it too.
    assert "modification de salle wolking-ghost-hall : places assises : 200 → 250" in out
    assert "(simulation : rien n'a été enregistré)" in out
    assert "salle modifiée" in out and "places assises : 200 → 250" in out.split("position")[-1]
    assert "OK :" in out and "valide : 21 placements" in out


def test_embedding_example_runs(tmp_path: Path) -> None:
    (example,) = blocks("python")
    cwd = workspace(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", example],
        cwd=cwd,
        capture_output=True,
        text=True,
        # The installed package, as an embedding application has it: not the repository.
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert result.returncode == 0, result.stderr
    first, *progress, solved, places, last = result.stdout.splitlines()
    assert (first, solved, places, last) == ("8 58", "optimal 21 0", "accueil 200 0",
                                             "schedule.accepted")  # fmt: skip
    # The job's progress: elapsed time, objective and the women's share, as it goes.
    assert progress and all(re.fullmatch(r"\d+\.\d s \d+(\.\d+)? 0\.\d+", p) for p in progress)


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
            ROOT / "benchmarks" / "README.md"]  # fmt: skip


def test_every_link_resolves_inside_the_repository() -> None:
    for doc in documents():
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (doc.parent / target.split("#")[0]).resolve()
            assert path.exists(), f"{doc.relative_to(ROOT)} links to {target}, which is not there"
            assert ROOT in path.parents or path == ROOT, f"{doc.name}: {target} is outside"


def test_nothing_in_the_repository_points_outside_it() -> None:
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in SKIP and not d.endswith(".egg-info")]
        for name in filenames:
            path = Path(dirpath) / name
            if path.suffix in (".mo", ".db", ".png", ".pdf", ".pyc") or path == Path(__file__):
                continue
            text = path.read_text(errors="ignore")
            assert "../shared" not in text and "shared/notes" not in text, path
