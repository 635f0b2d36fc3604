"""Ctrl-C during a solve: the command says it was interrupted, keeps the best schedule
found so far only when there is one (marked ``interrupted``, its status ``feasible``),
exits 130, and never prints a traceback — whatever the phase it was in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.national import generate
from creneau.adapters.edition_document import document_bytes
from creneau.events_store import SQLiteEventStore
from creneau.scheduler import EditionService

ROOT = Path(__file__).resolve().parents[2]


def creneau(*argv: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "creneau.adapters.cli", *argv], cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CRENEAU_LANG": "fr"},
    )  # fmt: skip


def interrupt(process: subprocess.Popen[str], after: float) -> tuple[int, str, str]:
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def test_interrupted_during_the_search_keeps_the_best_schedule(tmp_path: Path) -> None:
    edition = tmp_path / "national.json"
    edition.write_bytes(document_bytes(generate(1.0, full=True)))
    output = tmp_path / "schedule.json"
    process = creneau("solve", str(edition), "--output", str(output), "--time-limit", "120",
                      cwd=tmp_path)  # fmt: skip
    started = time.perf_counter()
    code, _, err = interrupt(process, after=8.0)
    assert time.perf_counter() - started < 30  # it stopped, long before its time limit
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "interrompu : voici le meilleur planning trouvé avant l'arrêt" in err
    document = json.loads(output.read_text())
    assert document["interrupted"] is True and document["status"] == "feasible"
    assert document["assignments"] and 0 < document["first_solution_seconds"] < 8


def test_interrupted_before_any_schedule_records_nothing(tmp_path: Path) -> None:
    store = tmp_path / "national.db"
    edition = tmp_path / "national.json"
    edition.write_bytes(document_bytes(generate(5.0)))
    importing = creneau("import", str(edition), "--store", str(store), cwd=tmp_path)
    assert importing.wait(timeout=120) == 0
    before = SQLiteEventStore(store).stream_version("edition-nec-national-x5")
    assert before > 1000
    # Early: the edition is being read and its model built.
    code, _, err = interrupt(creneau("solve", "--store", str(store), "--time-limit", "300",
                                     cwd=tmp_path), after=1.5)  # fmt: skip
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "interrompu" in err
    store_now = SQLiteEventStore(store)
    assert store_now.stream_version("edition-nec-national-x5") == before  # nothing recorded
    assert not EditionService(store_now, actor="tester").load("nec-national-x5").schedules
