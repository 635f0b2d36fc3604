"""FOSDEM 2024 as benchmark data: its frab `schedule.xml` (tests/fixtures/feeds, with its
source and licence) read by Créneau's feed import into an edition twice — each talk's
room fixed as published, and any room allowed (`rooms` unset: the hard case) — and
both solved, every schedule checked by the independent validator.

    .venv/bin/python benchmarks/fosdem.py [--time-limit 60] [--write]

Solved with the default search; `solve_bench.py --search-only` has the same two editions
beside plain CP-SAT (the whole model from the start).
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402
import structlog  # noqa: E402

from benchmarks._readme import keep_table, run_line  # noqa: E402
from creneau.adapters.edition_document import read_raw  # noqa: E402
from creneau.adapters.feed_import import read_frab_xml  # noqa: E402
from creneau.adapters.validator import check_documents  # noqa: E402
from creneau.scheduler import (  # noqa: E402
    SolveParameters,
    derive_problem,
    schedule_document,
)
from creneau.solver import CpSatSolver  # noqa: E402

FEED = ROOT / "tests" / "fixtures" / "feeds" / "fosdem-2024.xml"


def editions() -> dict[str, dict[str, Any]]:
    """The two edition documents: rooms as published, and any room."""
    feed = read_frab_xml(FEED.read_bytes())
    room_of = {p.session: p.room for p in feed.placements}
    fixed = copy.deepcopy(feed.document)
    for session in fixed["sessions"]:
        session["rooms"] = [room_of[session["id"]]]
    return {"rooms as published": fixed, "any room": feed.document}


def solve(document: dict[str, Any], time_limit: float) -> dict[str, Any]:
    edition = read_raw(document)
    started = time.perf_counter()
    problem = derive_problem(edition)
    built = time.perf_counter() - started
    params = SolveParameters(time_limit=time_limit, workers=2, seed=1)
    result = CpSatSolver().solve(problem, params)
    wall = time.perf_counter() - started
    findings: list[Any] = []
    if result.assignments:
        schedule = schedule_document(problem, result, params)
        findings = check_documents(document, msgspec.to_builtins(schedule))
    return {"sessions": len(edition.sessions), "rooms": len(edition.rooms),
            "status": result.status, "first": result.first_solution_time,
            "objective": result.objective, "bound": result.bound, "wall": wall,
            "derive": built, "broken": len(findings)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    rows = []
    for name, document in editions().items():
        r = solve(document, args.time_limit)
        assert r["broken"] == 0, f"{name}: the validator finds {r['broken']} broken rules"
        first = "—" if r["first"] is None else f"{r['first']:.1f}"
        objective = "—" if r["objective"] is None else f"{r['objective']:,.0f}"
        bound = "—" if r["bound"] is None else f"{r['bound']:,.0f}"
        rows.append(f"| FOSDEM 2024, {name} | {r['sessions']} / {r['rooms']} | {r['status']} "
                    f"| {first} | {objective} | {bound} | {r['wall']:.1f} |")  # fmt: skip
    table = "\n".join([
        run_line(f"CP-SAT, 2 workers, seed 1, time limit {args.time_limit:g} s; every schedule "
                 "checked by the independent validator."),
        "",
        "| edition | sessions / rooms | status | first schedule s | objective | bound | wall s |",
        "|---|---:|---|---:|---:|---:|---:|",
        *rows,
    ])  # fmt: skip
    print(table)
    if args.write:
        keep_table("fosdem-bench", table, "FOSDEM 2024 — `benchmarks/fosdem.py`")


if __name__ == "__main__":
    main()
