"""Solve jobs through the PostgreSQL store's queue: throughput with 1, 2 and 4 workers,
and what the queue adds to a solve.

- **Throughput**: ``--jobs`` solves of the generated national edition (10 s limit each,
  one search worker each) queued at once, run by 1, 2 and 4 `creneau worker` processes
  (concurrency 1): jobs per minute, as a ratio to one worker, and the mean objective
  of their schedules (the time limit is wall-clock: past the cores, more workers finish
  more jobs by giving each less CPU, which the objective shows).
- **Overhead**: the Metz example (proven optimal in a few hundredths of a second), solved
  ``--repeat`` times directly (``EditionService.solve``: load, solve, record) and as many
  times through the queue, one job at a time (enqueue, claimed by the worker — woken by
  NOTIFY —, loaded, solved, recorded, its end read back by the caller polling every 5 ms).
  The overhead is the difference of the medians.

    .venv/bin/python benchmarks/queue_bench.py [--jobs 8] [--repeat 20] [--write]
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import structlog

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._readme import keep_table, run_line  # noqa: E402
from benchmarks.national import generate  # noqa: E402
from creneau.adapters.bootstrap import open_store  # noqa: E402
from creneau.adapters.edition_document import to_document  # noqa: E402
from creneau.adapters.jobqueue import SolveQueue  # noqa: E402
from creneau.events_store.postgres import PostgresEventStore, new_schema_name  # noqa: E402
from creneau.scheduler import EditionService, SolveProgramme  # noqa: E402
from creneau.solver import CpSatSolver  # noqa: E402

DSN = "postgresql://postgres@127.0.0.1:5432/test"
CRENEAU = shutil.which("creneau", path=str(Path(sys.executable).parent)) or "creneau"


def _store(document: Path) -> tuple[str, str]:
    schema = new_schema_name()
    address = f"{DSN}?schema={schema}"
    subprocess.run([CRENEAU, "import", str(document), "--store", address, "--actor", "bench"],
                   check=True, capture_output=True)  # fmt: skip
    SolveQueue(address).close()
    return address, schema


def _workers(address: str, count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([CRENEAU, "worker", "--store", address],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(count)]  # fmt: skip


def _ready(queue: SolveQueue, count: int) -> None:
    """Wait until ``count`` workers have registered with the queue."""
    deadline = time.monotonic() + 60
    while True:
        if queue.depth()["workers"] >= count:
            return
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.1)


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for w in workers:
        w.terminate()
    for w in workers:
        w.wait(30)


def throughput(national: Path, jobs: int, counts: list[int]) -> list[tuple[int, float, float]]:
    rows = []
    for count in counts:
        address, schema = _store(national)
        edition = EditionService(open_store(address)).editions()[0]
        try:
            with SolveQueue(address) as queue:
                workers = _workers(address, count)
                _ready(queue, count)
                started = time.perf_counter()
                ids = [queue.enqueue(edition, SolveProgramme(time_limit=10, workers=1, seed=k),
                                     actor="bench") for k in range(jobs)]  # fmt: skip
                infos = queue.wait(ids, every=0.05)
                seconds = time.perf_counter() - started
                _stop(workers)
            assert all(i.schedule is not None for i in infos), infos
            objectives = [i.objective for i in infos if i.objective is not None]
            rows.append((count, jobs / seconds * 60, statistics.mean(objectives)))
            print(f"  {count} worker(s): {jobs} jobs in {seconds:.1f} s", file=sys.stderr)
        finally:
            PostgresEventStore(DSN, schema=schema, migrate=False).drop()
    return rows


def overhead(metz: Path, repeat: int) -> tuple[float, float]:
    address, schema = _store(metz)
    try:
        service = EditionService(open_store(address), actor="bench")
        edition = service.editions()[0]
        solver = CpSatSolver()
        command = SolveProgramme(time_limit=10, workers=1)
        with SolveQueue(address) as queue:
            workers = _workers(address, 1)
            _ready(queue, 1)
            direct, queued = [], []
            for _ in range(repeat):  # taking turns: the store grows alike for both
                t = time.perf_counter()
                _, recorded = service.solve(edition, solver, command)
                direct.append(time.perf_counter() - t)
                assert recorded is not None
                t = time.perf_counter()
                job = queue.enqueue(edition, command, actor="bench")
                info = queue.wait([job], every=0.005)[0]
                queued.append(time.perf_counter() - t)
                assert info.schedule is not None
            _stop(workers)
        return statistics.median(direct), statistics.median(queued)
    finally:
        PostgresEventStore(DSN, schema=schema, migrate=False).drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--write", action="store_true", help="keep the table in README.md")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as folder:
        national = Path(folder) / "national.json"
        national.write_text(json.dumps(to_document(generate(1.0))), encoding="utf-8")
        rows = throughput(national, args.jobs, [int(x) for x in args.workers.split(",")])
    direct, queued = overhead(ROOT / "examples" / "nec-metz-2023.toml", args.repeat)
    base = rows[0][1]
    lines = [
        run_line(f"`benchmarks/queue_bench.py --jobs {args.jobs} --repeat {args.repeat}`."),
        "",
        "| workers | jobs per minute | × one worker | mean objective |",
        "|---:|---:|---:|---:|",
        *(f"| {n} | {rate:.1f} | {rate / base:.2f} | {obj:,.0f} |" for n, rate, obj in rows),
        "",
        "| one Metz solve, median of " + str(args.repeat) + " | seconds |",
        "|---|---:|",
        f"| direct (`EditionService.solve`) | {direct:.3f} |",
        f"| through the queue (enqueue → recorded, read back) | {queued:.3f} |",
        f"| **the queue's overhead per job** (target ≤ 0.100) | **{queued - direct:.3f}** |",
    ]
    table = "\n".join(lines)
    print(table)
    if args.write:
        keep_table("queue-bench", table, "Solve jobs on several workers — "
                   "`benchmarks/queue_bench.py`")  # fmt: skip


if __name__ == "__main__":
    main()
