"""Exports at the size of national editions: each format of a published programme, from
the state to the bytes written (the renderers `creneau export` calls); and importing
FOSDEM 2024's schedule.xml into a new store, as `creneau import` does.

    .venv/bin/python benchmarks/export_bench.py [--write]

Targets (issue "The programme leaves the engine"): each feed and calendar ≤ 1 s, the
whole PDF programme ≤ 10 s, importing the FOSDEM 2024 XML ≤ 2 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402

from benchmarks._readme import keep_table, run_line  # noqa: E402
from benchmarks.national import generate  # noqa: E402
from creneau.adapters._exporting import Export, render  # noqa: E402
from creneau.adapters._i18n import words  # noqa: E402
from creneau.adapters.cli import main as creneau  # noqa: E402
from creneau.events_store import MemoryEventStore  # noqa: E402
from creneau.scheduler import (  # noqa: E402
    AcceptSchedule,
    EditionService,
    ImportEdition,
    SolveProgramme,
)
from creneau.solver import CpSatSolver  # noqa: E402

FOSDEM = ROOT / "tests" / "fixtures" / "feeds" / "fosdem-2024.xml"
# name: (target in seconds, runs timed); the run sheets (a page per session and per door)
# have no target in the issue: their time is reported.
FORMATS = {"frab-xml": (1, 5), "c3voc-json": (1, 5), "ics": (1, 5), "xcal": (1, 5),
           "csv": (1, 5), "xlsx": (1, 5), "xlsx-edition": (1, 5), "html": (1, 5),
           "pdf": (10, 3), "run-sheets": (None, 3)}  # fmt: skip


def median_seconds(work: object, runs: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        size = len(work())  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times), size


def import_fosdem() -> bytes:
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()) as out:
        code = creneau(["import", str(FOSDEM), "--store", f"{tmp}/fosdem.db", "--actor", "b"])
    assert code == 0
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    rows = []
    for scale in (1.0, 5.0):
        edition = generate(scale)
        service = EditionService(MemoryEventStore(), actor="bench")
        service.execute(ImportEdition(snapshot=edition))
        _, schedule = service.solve(edition.id, CpSatSolver(),
                                    SolveProgramme(time_limit=30 * scale, seed=1))  # fmt: skip
        service.execute(AcceptSchedule(schedule_id=schedule), edition_id=edition.id)
        state = service.load(edition.id)
        assert state.programme, "no programme to export"
        export = Export(state, state.snapshot(), state.programme, words("fr"), {})
        for name, (target, runs) in FORMATS.items():
            seconds, size = median_seconds(lambda n=name, x=export: render(n, x), runs)
            rows.append((f"national ×{scale:g}", len(state.programme), name, seconds, size,
                         target, runs))  # fmt: skip
    seconds, _ = median_seconds(import_fosdem, 3)
    rows.append(("FOSDEM 2024", 674, "import schedule.xml", seconds, FOSDEM.stat().st_size, 2, 3))
    table = [
        run_line("median of 5 runs (3 for the PDFs and the import)."),
        "",
        "| edition | runs | export | seconds | bytes | target |",
        "|---|---:|---|---:|---:|---|",
        *(
            f"| {what} | {n} | {name} | {seconds:.3f} | {size:,} | "
            + (f"≤ {target} s |" if target else "— |")
            for what, n, name, seconds, size, target, _ in rows
        ),
    ]
    print("\n".join(table))
    missed = [r for r in rows if r[5] is not None and r[3] > r[5]]
    if missed:
        print("missed:", ", ".join(f"{r[0]} {r[2]}" for r in missed))
    if args.write:
        keep_table("export-bench", "\n".join(table), "Exports — `benchmarks/export_bench.py`")


if __name__ == "__main__":
    main()
