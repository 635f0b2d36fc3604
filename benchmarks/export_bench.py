"""Exports at the size of national editions: each feed of a published programme, from the
state to the bytes written.

    .venv/bin/python benchmarks/export_bench.py [--write]

Targets (issue "The programme leaves the engine"): each feed and calendar ≤ 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402

from benchmarks._readme import keep_table, run_line  # noqa: E402
from benchmarks.national import generate  # noqa: E402
from creneau.adapters._i18n import words  # noqa: E402
from creneau.adapters.calendars import ics  # noqa: E402
from creneau.adapters.feeds import c3voc_json, frab_xml  # noqa: E402
from creneau.scheduler import SolveParameters, derive_problem, schedule_document  # noqa: E402
from creneau.solver import CpSatSolver  # noqa: E402

EXPORTS = {
    "frab-xml": lambda ed, placements: frab_xml(ed, placements, "v1", "bench"),
    "c3voc-json": lambda ed, placements: json.dumps(
        c3voc_json(ed, placements, "v1", "bench"), ensure_ascii=False
    ).encode(),
    "ics": lambda ed, placements: ics(
        ed, placements, words("fr"), name=ed.name or ed.id, stamp=dt.datetime.now(dt.UTC)
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    rows = []
    for scale in (1.0, 5.0):
        edition = generate(scale)
        problem = derive_problem(edition)
        params = SolveParameters(time_limit=30 * scale, workers=2, seed=1)
        document = schedule_document(problem, CpSatSolver().solve(problem, params), params,
                                     edition=edition)  # fmt: skip
        assert document.assignments, "no programme to export"
        for name, export in EXPORTS.items():
            times, size = [], 0
            for _ in range(5):
                started = time.perf_counter()
                size = len(export(edition, document.assignments))
                times.append(time.perf_counter() - started)
            rows.append((scale, len(document.assignments), name, statistics.median(times), size))
    table = [
        run_line("median of 5."),
        "",
        "| edition | runs placed | export | seconds | bytes | target |",
        "|---|---:|---|---:|---:|---|",
        *(
            f"| national ×{scale:g} | {n} | {name} | {seconds:.3f} | {size:,} | ≤ 1 s |"
            for scale, n, name, seconds, size in rows
        ),
    ]
    print("\n".join(table))
    if args.write:
        keep_table("export-bench", "\n".join(table), "Exports — `benchmarks/export_bench.py`")


if __name__ == "__main__":
    main()
