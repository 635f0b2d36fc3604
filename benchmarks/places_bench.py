"""Capacity benchmark: 1,700 attendees registering to 5 sessions each on a national
edition (benchmarks/national.py, scale 1, its programme solved and published), one
command per durable SQLite transaction; then `creneau places` on that store.

    .venv/bin/python benchmarks/places_bench.py [--attendees 1700] [--write]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import logging
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402

from benchmarks._readme import keep_table  # noqa: E402
from benchmarks.national import generate  # noqa: E402
from creneau.adapters.cli import main as cli  # noqa: E402
from creneau.events_store import SQLiteEventStore  # noqa: E402
from creneau.scheduler import (  # noqa: E402
    AcceptSchedule,
    BookPlace,
    EditionService,
    ImportEdition,
    InvalidCommand,
    SolveProgramme,
)
from creneau.solver import CpSatSolver  # noqa: E402


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attendees", type=int, default=1700)
    parser.add_argument("--choices", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "national.db"
        service = EditionService(SQLiteEventStore(path), actor="bench")
        edition = generate(1.0)
        service.execute(ImportEdition(snapshot=edition))
        _, schedule_id = service.solve(edition.id, CpSatSolver(), SolveProgramme(seed=1))
        service.execute(AcceptSchedule(schedule_id=schedule_id), edition_id=edition.id)
        # Each attendee chooses sessions that do not overlap in the published programme,
        # as people do: all 8,500 registrations are possible.
        spans = {p.session: (p.day, p.start, p.end)
                 for p in service.load(edition.id).programme}  # fmt: skip

        def clash(a: str, b: str) -> bool:
            (d1, s1, e1), (d2, s2, e2) = spans[a], spans[b]
            return d1 == d2 and s1 < e2 and s2 < e1

        sessions = [s.id for s in edition.sessions if s.occurrences == 1]
        attempts = []
        for i in range(args.attendees):
            chosen: list[str] = []
            while len(chosen) < args.choices:
                pick = rng.choice(sessions)
                if pick not in chosen and not any(clash(pick, c) for c in chosen):
                    chosen.append(pick)
            attempts.append((f"a{i:04d}", chosen))
        done = refused = 0
        started = time.perf_counter()
        for attendee, chosen in attempts:
            for session_id in chosen:
                try:
                    service.execute(
                        BookPlace(
                            attendee=attendee, session_id=session_id, profile="professionals"
                        ),
                        edition_id=edition.id,
                    )
                    done += 1
                except InvalidCommand:
                    refused += 1
        wall = time.perf_counter() - started
        service.store.close()
        timings = []
        for _ in range(5):
            began = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                assert cli(["places", "--store", str(path)]) == 0
            timings.append(time.perf_counter() - began)
        events = SQLiteEventStore(path).stream_version(f"edition-{edition.id}")
    table = (
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; SQLite, WAL, "
        f"synchronous=FULL; {args.attendees:,} attendees × {args.choices} choices; the store "
        f"ends with {events:,} events.\n\n"
        "| workload | result | target |\n|---|---:|---|\n"
        f"| registrations, one command per transaction | {done / wall:,.0f} /s "
        f"({done:,} recorded, {refused:,} refused, {wall:.1f} s) "
        "| ≥ 1,000 /s |\n"
        f"| `creneau places` on that store (open, replay, compute, print), best of 5 | "
        f"{min(timings) * 1000:.0f} ms (median {sorted(timings)[2] * 1000:.0f} ms) | ≤ 200 ms |\n"
    )
    print(table)
    if args.write:
        keep_table("places-bench", table, "Capacity engine — `benchmarks/places_bench.py`")


if __name__ == "__main__":
    main()
