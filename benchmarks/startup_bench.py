"""Commands as a user meets them, from start to exit, on a national store of 100,000
events: a national edition (benchmarks/national.py, scale 1) solved and published, then
rounds of 1,700 attendees booking five sessions each and cancelling them. Measured on
this code and, side by side in the same run, on an earlier revision (by default the last
one before views and snapshots), each on a store it built itself with the same events.

    .venv/bin/python benchmarks/startup_bench.py [--before REV] [--events 100000] [--write]

Targets: a command that does not solve ≤ 200 ms; ``places`` and ``programme`` ≤ 300 ms;
opening the engine and loading the edition ≤ 100 ms with a snapshot.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._readme import keep_table  # noqa: E402

# Runs inside either revision: builds the store with that revision's own classes.
BUILDER = r"""
import random, sys, uuid
if sys.argv[3] == "new":
    from creneau.scheduler import (AcceptSchedule, EditionService, ImportEdition, Metadata,
        NewEvent, SolveProgramme, encode_event, event_type)
    from creneau.scheduler._events import PlaceBooked, PlaceCancelled, RegistrationRecorded
    from creneau.scheduler import Registration
    from creneau.events_store import SQLiteEventStore
    from creneau.solver import CpSatSolver
    new = True
else:
    from scheduler import (AcceptSchedule, EditionService, ImportEdition, Metadata, NewEvent,
        SolveProgramme, encode_event, event_type, Registration)
    from scheduler._events import PlaceBooked, PlaceCancelled, RegistrationRecorded
    from events_store import SQLiteEventStore
    from solver import CpSatSolver
    new = False
from benchmarks.national import generate

path, target = sys.argv[1], int(sys.argv[2])
store = SQLiteEventStore(path)
service = EditionService(store, actor="bench") if new else EditionService(store)
edition = generate(1.0)
service.execute(ImportEdition(snapshot=edition), actor="bench")
_, sid = service.solve(edition.id, CpSatSolver(), SolveProgramme(seed=1, time_limit=20),
                       actor="bench")
service.execute(AcceptSchedule(schedule_id=sid), edition_id=edition.id, actor="bench")
state = service.load(edition.id)
spans = {p.session: (p.day, p.start, p.end) for p in state.programme if p.occurrence == 1}
single = [s.id for s in state.sessions.values() if s.occurrences == 1 and not s.rotation
          and s.id in spans]
rng = random.Random(7)
choices = {}
for a in range(1700):
    mine = []
    for sid in rng.sample(single, len(single)):
        d, st, en = spans[sid]
        if all(not (spans[o][0] == d and spans[o][1] < en and st < spans[o][2]) for o in mine):
            mine.append(sid)
        if len(mine) == 5:
            break
    choices[f"a{a}"] = mine
stream = "edition-" + edition.id
meta = Metadata(actor="desk", recorded_at="2022-09-01T08:00:00.000000Z",
                correlation_id=str(uuid.uuid4()))

def append(events):
    version = store.stream_version(stream)
    store.append(stream, [NewEvent(event_id=uuid.uuid4(), type=event_type(e), schema_version=1,
                                   payload=encode_event(e), metadata=meta) for e in events],
                 version)

first = True
while store.stream_version(stream) < target:
    batch = []
    for a, mine in choices.items():
        if first:
            batch.append(RegistrationRecorded(registration=Registration(
                attendee=a, profile="professionals", sessions=tuple(mine))))
        batch += [PlaceBooked(attendee=a, session_id=s, confirmed=True) for s in mine]
    first = False
    for i in range(0, len(batch), 2000):
        append(batch[i:i + 2000])
    if store.stream_version(stream) >= target:
        break
    undo = [PlaceCancelled(attendee=a, session_id=s) for a, mine in choices.items() for s in mine]
    for i in range(0, len(undo), 2000):
        append(undo[i:i + 2000])
print(store.stream_version(stream))
"""

LOADER = r"""
import sys, time
if sys.argv[3] == "new":
    from creneau import open_engine
    started = time.perf_counter()
    engine = open_engine(sys.argv[1], create=False)
    state = engine.service.load(sys.argv[2])
else:
    from scheduler import EditionService
    from events_store import SQLiteEventStore
    started = time.perf_counter()
    state = EditionService(SQLiteEventStore(sys.argv[1])).load(sys.argv[2])
print(time.perf_counter() - started, state.version)
"""


def env(root: Path) -> dict[str, str]:
    # As installed: bytecode compiled once (pip compiles what it installs), both revisions.
    values = {**os.environ, "PYTHONPATH": str(root), "CRENEAU_LANG": "fr"}
    values.pop("PYTHONDONTWRITEBYTECODE", None)
    return values


def compile_sources(root: Path) -> None:
    folders = [str(root / name) for name in ("scheduler", "solver", "events_store", "adapters")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], cwd=root, check=True,
                   env=env(root), capture_output=True)  # fmt: skip


def cli(root: Path) -> list[str]:
    module = "creneau.adapters.cli" if (root / "creneau").exists() else "adapters.cli"
    return [sys.executable, "-m", module]


def whole(argv: list[str], root: Path, rounds: int = 7) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=root, env=env(root), capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        assert done.returncode == 0, done.stderr[-500:]
    return statistics.median(times)


def loaded(store: Path, root: Path, rounds: int = 7) -> float:
    times = []
    for _ in range(rounds):
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                LOADER,
                str(store),
                "nec-national-x1",
                "new" if (root / "creneau").exists() else "old",
            ],
            cwd=root,
            env=env(root),
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-500:]
        times.append(float(done.stdout.split()[0]))
    return statistics.median(times)


def measure(root: Path, store: Path, events: int) -> dict[str, float]:
    kind = "new" if (root / "creneau").exists() else "old"
    built = subprocess.run([sys.executable, "-c", BUILDER, str(store), str(events), kind], cwd=root,
                           env=env(root), capture_output=True, text=True)  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    results: dict[str, float] = {"events": float(built.stdout.split()[-1])}
    compile_sources(root)
    base = cli(root)
    if (root / "creneau").exists():  # the views, folded once (as write commands keep them)
        started = time.perf_counter()
        subprocess.run([*base, "views", "rebuild", "--store", str(store)], cwd=root, env=env(root),
                       check=True, capture_output=True)  # fmt: skip
        results["views rebuild (once)"] = time.perf_counter() - started
    # The earlier revisions had no --version: their --help, which starts and exits alike.
    start = "--version" if (root / "creneau").exists() else "--help"
    results["creneau --version"] = whole([*base, start], root)
    results["creneau places"] = whole([*base, "places", "--store", str(store)], root)
    results["creneau programme"] = whole([*base, "programme", "--store", str(store)], root)
    results["creneau show"] = whole([*base, "show", "--store", str(store)], root)
    results["open and load the edition (in process)"] = loaded(store, root)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default="4641b8a", help="the revision to compare with")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.before], cwd=ROOT,
                       check=True, capture_output=True)  # fmt: skip
        try:
            before = measure(old, Path(tmp) / "before.db", args.events)
            after = measure(ROOT, Path(tmp) / "after.db", args.events)
            fresh = measure(ROOT, Path(tmp) / "fresh.db", 0)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT,
                           capture_output=True)  # fmt: skip
    targets = {"creneau --version": "≤ 0.200", "creneau places": "≤ 0.300",
               "creneau programme": "≤ 0.300", "creneau show": "≤ 0.200",
               "open and load the edition (in process)": "≤ 0.100"}  # fmt: skip
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    table = [
        f"Run {when} on {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; a national store of {int(after['events']):,} events "
        f"(before: {int(before['events']):,}); the whole command, median of 7; before = "
        f"revision {args.before} (which had no --version: its --help is timed); bytecode "
        "compiled beforehand on both sides, as an installed package has it.",
        "",
        "| measure | before (s) | after (s) | after / before | target (s) |",
        "|---|---:|---:|---:|---|",
    ]
    for name in after:
        if name == "events":
            continue
        b = before.get(name)
        ratio = f"{after[name] / b:.2f}" if b else ""
        b_text = f"{b:.3f}" if b is not None else "—"
        table.append(
            f"| {name} | {b_text} | {after[name]:.3f} | {ratio} | {targets.get(name, '')} |"
        )
    # The same commands on a store just published (no registrations): as fast, the issue asks.
    for name in ("creneau places", "creneau programme"):
        label = f"{name}, fresh store of {int(fresh['events'])} events"
        table.append(f"| {label} | — | {fresh[name]:.3f} | | |")
    print("\n".join(table))
    if args.write:
        keep_table(
            "startup-bench", "\n".join(table), "Commands at size — `benchmarks/startup_bench.py`"
        )


if __name__ == "__main__":
    main()
