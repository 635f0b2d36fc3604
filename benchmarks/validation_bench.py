"""Validation at size, measured as a user meets it: the whole ``creneau`` command, from
start to exit, in a process of its own.

- ``creneau import`` of an edition document holding 20,000 and 50,000 sessions (with a
  tenth as many rooms and half as many people, every session naming two speakers and a
  theme): target ≤ 15 s for 50,000;
- ``creneau import-registrations --all-or-nothing`` of a spreadsheet of 100,000 rows
  (20,000 attendees choosing five sessions each, none overlapping) on a national
  edition whose programme is published: target ≤ 15 s.

    .venv/bin/python benchmarks/validation_bench.py [--sessions 20000 50000]
        [--rows 100000] [--write]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402

from benchmarks._readme import keep_table, run_line  # noqa: E402
from benchmarks.national import generate  # noqa: E402
from creneau.adapters.edition_document import document_bytes  # noqa: E402
from creneau.events_store import SQLiteEventStore  # noqa: E402
from creneau.scheduler import AcceptSchedule, EditionService, ImportEdition, SolveProgramme  # noqa: E402

CRENEAU = [sys.executable, "-m", "creneau.adapters.cli"]


def big_edition(sessions: int) -> dict[str, object]:
    rng = random.Random(sessions)
    rooms = [{"id": f"r{i}", "capacity": rng.choice([30, 60, 120])} for i in range(sessions // 10)]
    people = [{"id": f"p{i}", "name": f"Personne {i}"} for i in range(sessions // 2)]
    themes = [f"t{i}" for i in range(20)]
    return {
        "format": "creneau/edition@1",
        "id": "big",
        "name": "Une très grande édition",
        "days": [{"day": f"2024-05-{d:02d}", "open": "08:00", "close": "20:00"} for d in (1, 2)],
        "themes": themes,
        "rooms": rooms,
        "people": people,
        "sessions": [
            {
                "id": f"s{i}",
                "title": f"Session {i}",
                "duration": 60,
                "speakers": [f"p{(2 * i) % len(people)}", f"p{(2 * i + 1) % len(people)}"],
                "themes": [rng.choice(themes)],
            }
            for i in range(sessions)
        ],
    }


def timed(argv: list[str], cwd: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    return time.perf_counter() - started, done.returncode, done.stdout[-300:] + done.stderr[-300:]


def import_rows(tmp: Path, sessions: int) -> tuple[str, float, str]:
    doc = tmp / f"big-{sessions}.json"
    doc.write_text(json.dumps(big_edition(sessions)))
    store = tmp / f"b{sessions}.db"
    seconds, code, text = timed([*CRENEAU, "import", str(doc), "--store", str(store)], tmp)
    assert code == 0, text
    return f"import, {sessions:,} sessions", seconds, "≤ 15 s" if sessions >= 50_000 else ""


def registration_rows(tmp: Path, rows: int) -> tuple[str, float, str]:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    store = tmp / "national.db"
    service = EditionService(SQLiteEventStore(store), actor="bench")
    edition = generate(1.0)
    # Enough seats for every choice: the spreadsheet is all good, as --all-or-nothing needs.
    service.execute(ImportEdition(snapshot=edition), actor="bench")
    from creneau.solver import CpSatSolver

    _, schedule = service.solve(edition.id, CpSatSolver(), SolveProgramme(seed=1, time_limit=20),
                                actor="bench")  # fmt: skip
    service.execute(AcceptSchedule(schedule_id=schedule), edition_id=edition.id, actor="bench")
    state = service.load(edition.id)
    service.store.close()
    spans = {p.session: (p.day, p.start, p.end) for p in state.programme if p.occurrence == 1}
    single = [s.id for s in state.sessions.values() if s.occurrences == 1 and not s.rotation
              and s.id in spans and s.capacity is None]  # fmt: skip
    rng = random.Random(11)
    lines = ["attendee,session,profile"]
    attendees = rows // 5
    for a in range(attendees):
        chosen: list[str] = []
        for sid in rng.sample(single, len(single)):
            day, start, end = spans[sid]
            if all(not (spans[o][0] == day and spans[o][1] < end and start < spans[o][2])
                   for o in chosen):  # fmt: skip
                chosen.append(sid)
            if len(chosen) == 5:
                break
        audiences = state.sessions[chosen[0]].audiences or ("professionals",)
        profile = next(
            x
            for x in ("professionals", "general_public")
            if all(x in (state.sessions[c].audiences or (x,)) for c in chosen)
        )
        lines += [f"a{a},{sid},{profile}" for sid in chosen]
        del audiences
    sheet = tmp / "inscriptions.csv"
    sheet.write_text("\n".join(lines[: rows + 1]) + "\n")
    seconds, code, text = timed([*CRENEAU, "import-registrations", "--store", str(store),
                                 str(sheet), "--all-or-nothing"], tmp)  # fmt: skip
    assert code == 0, text
    return f"import-registrations --all-or-nothing, {len(lines) - 1:,} rows", seconds, "≤ 15 s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, nargs="*", default=[20_000, 50_000])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sessions:
            results.append(import_rows(Path(tmp), n))
        if args.rows:
            results.append(registration_rows(Path(tmp), args.rows))
    table = [
        run_line("the whole command in a process of its own."),
        "",
        "| command | seconds | target |",
        "|---|---:|---|",
        *(f"| {name} | {seconds:.1f} | {target} |" for name, seconds, target in results),
    ]
    print("\n".join(table))
    if args.write:
        heading = "Validation at size — `benchmarks/validation_bench.py`"
        keep_table("validation-bench", "\n".join(table), heading)


if __name__ == "__main__":
    main()


__all__ = ["big_edition", "document_bytes"]
