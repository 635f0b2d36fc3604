"""PostgreSQL store benchmark: Créneau side by side with the ``eventsourcing`` package's
``PostgresApplicationRecorder``, in one run, on the same encoded events, against the
PostgreSQL on 127.0.0.1:5432 (database ``test``; each side in a schema of its own,
dropped afterwards).

    .venv/bin/python benchmarks/postgres_bench.py [--events 100000] [--single 3000]
                                                  [--rounds 3] [--write]

Workloads: batches of 1,000; one event per transaction; replay of the whole stream into
the edition state; 8 concurrent writers on different streams (one event per
transaction) against one writer, timed from the moment every writer is connected until
the last append is acknowledged; the same again while a live subscription follows the
store (the writers then NOTIFY on every append). Medians of the rounds; ``--write``
keeps the table in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import structlog  # noqa: E402
from eventsourcing.persistence import StoredEvent  # noqa: E402
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore  # noqa: E402
from psycopg import sql  # noqa: E402

from benchmarks._readme import keep_table  # noqa: E402
from benchmarks.workload import edition_events, new_events  # noqa: E402
from creneau.events_store.postgres import (  # noqa: E402
    LISTENERS_CHECK_INTERVAL,
    PostgresEventStore,
    new_schema_name,
)
from creneau.scheduler import EditionService, NewEvent, decode_event, replay  # noqa: E402

DSN = os.environ.get("CRENEAU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BATCH = 1000


def _es(schema: str, create: bool = True) -> tuple[PostgresDatastore, PostgresApplicationRecorder]:
    info = psycopg.conninfo.conninfo_to_dict(DSN)
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    datastore = PostgresDatastore(
        dbname=str(info.get("dbname", "test")), host=str(info.get("host", "127.0.0.1")),
        port=str(info.get("port", 5432)), user=str(info.get("user", "postgres")),
        password=str(info.get("password", "")), schema=schema, pool_size=10, max_overflow=10,
    )  # fmt: skip
    recorder = PostgresApplicationRecorder(datastore)
    if create:
        recorder.create_table()
    return datastore, recorder


def _drop(schema: str) -> None:
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _stored(batch: list[NewEvent]) -> list[StoredEvent]:
    origin = uuid.uuid4()
    return [StoredEvent(originator_id=origin, originator_version=i, topic=e.type,
                        state=e.payload) for i, e in enumerate(batch, start=1)]  # fmt: skip


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _creneau_writer(
    schema: str, stream: str, count: int, ready: Any, start: Any, done: Any
) -> None:
    sys.path.insert(0, str(ROOT))
    store = PostgresEventStore(DSN, schema=schema, migrate=False)
    events = new_events(list(edition_events(count)))
    ready.put(True)
    start.wait()
    for version, e in enumerate(events):
        store.append(stream, [e], version)
    done.put(True)
    store.close()


def _es_writer(schema: str, count: int, ready: Any, start: Any, done: Any) -> None:
    _, recorder = _es(schema, create=False)
    events = _stored(new_events(list(edition_events(count))))
    ready.put(True)
    start.wait()
    for e in events:
        recorder.insert_events([e])
    done.put(True)


def _concurrent(target: Any, args_for: Any, writers: int) -> float:
    """Seconds from the moment every writer is connected with its events built until
    the last one has had its last append acknowledged: process start-up and shutdown are
    not part of the workload."""
    ctx = multiprocessing.get_context("spawn")
    ready, start, done = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=target, args=(*args_for(i), ready, start, done)) for i in range(writers)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    began = time.perf_counter()
    start.set()
    for _ in procs:
        done.get(timeout=600)
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a writer exited with {p.exitcode}")
    return elapsed


class _Follower:
    """A live subscription following the store from its current end, in a thread, while
    writers append: with one, the writers announce every append (NOTIFY)."""

    def __init__(self, schema: str) -> None:
        with psycopg.connect(DSN, autocommit=True) as conn:
            row = conn.execute(
                sql.SQL("SELECT coalesce(max(position), 0) FROM {}.events").format(
                    sql.Identifier(schema)
                )
            ).fetchone()
        self.store = PostgresEventStore(DSN, schema=schema, migrate=False)
        self.stop = threading.Event()
        self.seen = 0
        self.thread = threading.Thread(target=self._follow, args=(int(row[0]) if row else 0,))

    def _follow(self, after: int) -> None:
        for _ in self.store.subscribe(after, stop=self.stop):
            self.seen += 1

    def drain(self, expected: int, timeout: float = 30.0) -> None:
        """Wait until the subscription has delivered ``expected`` events."""
        deadline = time.monotonic() + timeout
        while self.seen < expected and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.seen < expected:
            raise RuntimeError(f"the subscription delivered {self.seen} events of {expected}")

    def __enter__(self) -> _Follower:
        self.thread.start()
        time.sleep(2 * LISTENERS_CHECK_INTERVAL)  # registered, and seen by the writers
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.store.close()


def one_round(n: int, m: int, concurrent_each: int) -> dict[str, float]:
    batch = new_events(list(edition_events(n)))
    ours, theirs = new_schema_name(), new_schema_name()
    times: dict[str, float] = {}
    try:
        store = PostgresEventStore(DSN, schema=ours)
        datastore, recorder = _es(theirs)
        chunks = [batch[i : i + BATCH] for i in range(0, n, BATCH)]
        times["batch"] = _timed(lambda: [store.append("edition-bench", c, i * BATCH)
                                         for i, c in enumerate(chunks)])  # fmt: skip
        es_events = _stored(batch)
        times["es_batch"] = _timed(lambda: [recorder.insert_events(es_events[i : i + BATCH])
                                            for i in range(0, n, BATCH)])  # fmt: skip
        singles = new_events(list(edition_events(m)))
        times["single"] = _timed(lambda: [store.append("single", [e], v)
                                          for v, e in enumerate(singles)])  # fmt: skip
        es_singles = _stored(singles)
        times["es_single"] = _timed(lambda: [recorder.insert_events([e]) for e in es_singles])
        origin = es_events[0].originator_id
        states: list[Any] = []
        times["replay"] = _timed(
            lambda: states.append(EditionService(store, actor="bench").load("bench"))
        )
        times["es_replay"] = _timed(
            lambda: states.append(
                replay(decode_event(r.topic, 1, r.state) for r in recorder.select_events(origin))
            )
        )
        assert states[0] == states[1]
        store.close()
        datastore.close()
        times["one_writer"] = _concurrent(
            _creneau_writer, lambda i: (ours, "w-solo", concurrent_each), 1
        )
        times["eight_writers"] = _concurrent(
            _creneau_writer, lambda i: (ours, f"w-{i}", concurrent_each), 8
        )
        with _Follower(ours) as follower:
            times["one_writer_followed"] = _concurrent(
                _creneau_writer, lambda i: (ours, "f-solo", concurrent_each), 1
            )
            follower.drain(concurrent_each)
        with _Follower(ours) as follower:
            times["eight_writers_followed"] = _concurrent(
                _creneau_writer, lambda i: (ours, f"f-{i}", concurrent_each), 8
            )
            follower.drain(8 * concurrent_each)
        times["es_one_writer"] = _concurrent(_es_writer, lambda i: (theirs, concurrent_each), 1)
        times["es_eight_writers"] = _concurrent(_es_writer, lambda i: (theirs, concurrent_each), 8)
    finally:
        _drop(ours)
        _drop(theirs)
    return times


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=3_000)
    parser.add_argument("--concurrent", type=int, default=2000, help="appends per writer")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    samples: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for key, value in one_round(args.events, args.single, args.concurrent).items():
            samples.setdefault(key, []).append(value)
    t = {key: statistics.median(values) for key, values in samples.items()}
    n, m, c = args.events, args.single, args.concurrent
    rows = [
        ("batches of 1,000", "Créneau", n / t["batch"], "target ≥ 30,000 ev/s"),
        ("", "eventsourcing PostgresApplicationRecorder", n / t["es_batch"],
         f"Créneau / eventsourcing = {t['es_batch'] / t['batch']:.2f}"),
        ("one event per transaction", "Créneau", m / t["single"], "target ≥ 1,500 ev/s"),
        ("", "eventsourcing PostgresApplicationRecorder", m / t["es_single"],
         f"Créneau / eventsourcing = {t['es_single'] / t['single']:.2f}"),
        ("replay into the edition state", "Créneau", n / t["replay"], "target ≥ 100,000 ev/s"),
        ("", "eventsourcing recorder read, same decode and fold", n / t["es_replay"],
         f"Créneau / eventsourcing = {t['es_replay'] / t['replay']:.2f}"),
        ("8 writers, different streams", "Créneau, 1 writer", c / t["one_writer"], ""),
        ("", "Créneau, 8 writers", 8 * c / t["eight_writers"],
         f"8 / 1 = {8 * t['one_writer'] / t['eight_writers']:.2f} (target ≥ 2)"),
        ("", "Créneau, 1 writer, a subscription following", c / t["one_writer_followed"], ""),
        ("", "Créneau, 8 writers, a subscription following", 8 * c / t["eight_writers_followed"],
         f"8 / 1 = {8 * t['one_writer_followed'] / t['eight_writers_followed']:.2f}"),
        ("", "eventsourcing, 1 writer", c / t["es_one_writer"], ""),
        ("", "eventsourcing, 8 writers", 8 * c / t["es_eight_writers"],
         f"8 / 1 = {8 * t['es_one_writer'] / t['es_eight_writers']:.2f}"),
    ]  # fmt: skip
    with psycopg.connect(DSN) as conn:
        server = conn.info.server_version
    head = (
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {server} on "
        f"the same machine (synchronous_commit on); {n:,} events, {m:,} single-event "
        f"transactions, {c} appends per concurrent writer; median of {args.rounds} rounds.\n\n"
    )
    lines = ["| workload | implementation | events/s | ratio, target |", "|---|---|---:|---|"]
    lines += [f"| {w} | {impl} | {rate:,.0f} | {note} |" for w, impl, rate, note in rows]
    table = head + "\n".join(lines) + "\n"
    print(table)
    if args.write:
        heading = "Event store on PostgreSQL — `benchmarks/postgres_bench.py`"
        keep_table("postgres-bench", table, heading)


if __name__ == "__main__":
    main()
