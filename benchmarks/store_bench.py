"""SQLite store benchmark: Créneau side by side with a bare sqlite3 insert and with the
``eventsourcing`` package's SQLite recorder, in one run, on the same encoded events.

    .venv/bin/python benchmarks/store_bench.py [--events 100000] [--single 5000] [--write]

Prints a table of rates and ratios; ``--write`` also puts it in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import re
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402
from eventsourcing.persistence import StoredEvent  # noqa: E402
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore  # noqa: E402

from adapters.edition_document import load_edition  # noqa: E402
from benchmarks.workload import edition_events, new_events  # noqa: E402
from events_store import SQLiteEventStore  # noqa: E402
from events_store.sqlite import INSERT, SCHEMA, row_of  # noqa: E402
from scheduler import (  # noqa: E402
    EditionService,
    ImportEdition,
    Room,
    UpdateRoom,
    decode_event,
    replay,
)

BATCH = 1000


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(n_events: int, n_single: int, workdir: Path) -> list[tuple[str, str, float, str]]:
    events = list(edition_events(n_events))
    batch = new_events(events)
    chunks = [batch[i : i + BATCH] for i in range(0, len(batch), BATCH)]
    rows: list[tuple[str, str, float, str]] = []

    # -- 1. batches of 1,000 ----------------------------------------------------------
    store = SQLiteEventStore(workdir / "creneau.db")

    def creneau_batches() -> None:
        version = 0
        for chunk in chunks:
            store.append("edition-bench", chunk, version)
            version += len(chunk)

    t_creneau = timed(creneau_batches)
    stored = list(store.read_stream("edition-bench"))

    bare = sqlite3.connect(workdir / "bare.db", isolation_level=None)
    bare.execute("PRAGMA journal_mode=WAL")
    bare.execute("PRAGMA synchronous=FULL")
    bare.executescript(SCHEMA)
    encoded = [row_of(e) for e in stored]
    encoded_chunks = [encoded[i : i + BATCH] for i in range(0, len(encoded), BATCH)]

    def bare_batches() -> None:
        for chunk in encoded_chunks:
            bare.execute("BEGIN IMMEDIATE")
            bare.executemany(INSERT, chunk)
            bare.execute("COMMIT")

    t_bare = timed(bare_batches)

    es_store = SQLiteDatastore(str(workdir / "es.db"))
    es = SQLiteApplicationRecorder(es_store)
    es.create_table()
    originator = uuid.uuid4()
    es_chunks = [
        [
            StoredEvent(
                originator_id=originator, originator_version=i + j, topic=e.type, state=e.payload
            )
            for j, e in enumerate(chunk, start=1)
        ]
        for i, chunk in zip(range(0, len(batch), BATCH), chunks, strict=True)
    ]

    def es_batches() -> None:
        for chunk in es_chunks:
            es.insert_events(chunk)

    t_es = timed(es_batches)
    rate = n_events / t_creneau
    rows.append(("append, batches of 1,000", "Créneau", rate, "≥ 40,000 ev/s"))
    rows.append(
        (
            "",
            "bare sqlite3 executemany",
            n_events / t_bare,
            f"Créneau / bare = {t_bare / t_creneau:.2f} (target ≥ 0.6)",
        )
    )
    rows.append(
        (
            "",
            "eventsourcing recorder",
            n_events / t_es,
            f"Créneau / eventsourcing = {t_es / t_creneau:.2f} (target ≥ 1)",
        )
    )

    # -- 2. one event per durable transaction ---------------------------------------------
    singles = new_events(events[:n_single])
    single_store = SQLiteEventStore(workdir / "single.db")

    def creneau_singles() -> None:
        for version, e in enumerate(singles):
            single_store.append("edition-bench", [e], version)

    t_single = timed(creneau_singles)
    es_single = SQLiteApplicationRecorder(SQLiteDatastore(str(workdir / "es-single.db")))
    es_single.create_table()
    es_origin = uuid.uuid4()
    es_one = [
        StoredEvent(originator_id=es_origin, originator_version=i, topic=e.type, state=e.payload)
        for i, e in enumerate(singles, start=1)
    ]

    def es_singles() -> None:
        for e in es_one:
            es_single.insert_events([e])

    t_es_single = timed(es_singles)

    service = EditionService(SQLiteEventStore(workdir / "commands.db"))
    metz = load_edition(ROOT / "examples" / "nec-metz-2023.toml").snapshot
    service.execute(ImportEdition(snapshot=metz))
    hall = next(r for r in metz.rooms if r.id == "wolking-ghost-hall")
    commands = [
        UpdateRoom(
            room=Room(
                **{
                    **{f: getattr(hall, f) for f in Room.__struct_fields__},
                    "capacity": 200 + i % 2 + 1,
                }
            )
        )
        for i in range(n_single)
    ]

    def creneau_commands() -> None:
        for c in commands:
            service.execute(c, edition_id=metz.id, actor="bench")

    t_commands = timed(creneau_commands)
    rows.append(
        (
            "one event per durable transaction",
            "Créneau store.append",
            n_single / t_single,
            "≥ 2,000 ev/s",
        )
    )
    rows.append(
        ("", "Créneau command (decide + validate + append)", n_single / t_commands, "≥ 2,000 ev/s")
    )
    rows.append(
        (
            "",
            "eventsourcing recorder",
            n_single / t_es_single,
            f"Créneau / eventsourcing = {t_es_single / t_single:.2f} (target ≥ 1)",
        )
    )

    # -- 3. replay a 100,000-event stream into the edition state ---------------------------
    reader = EditionService(SQLiteEventStore(workdir / "creneau.db"))
    state_holder: list[object] = []
    t_replay = timed(lambda: state_holder.append(reader.load("bench")))
    decoded = [decode_event(e.type, e.schema_version, e.payload) for e in stored]
    t_fold = timed(lambda: replay(decoded))

    def es_replay() -> None:
        records = es.select_events(originator)
        state_holder.append(replay(decode_event(r.topic, 1, r.state) for r in records))

    t_es_replay = timed(es_replay)
    assert state_holder[0] == state_holder[-1]
    rows.append(
        (
            "replay into the edition state",
            "Créneau (read + decode + fold)",
            n_events / t_replay,
            "≥ 100,000 ev/s",
        )
    )
    rows.append(("", "Créneau fold only", n_events / t_fold, ""))
    rows.append(
        (
            "",
            "eventsourcing recorder (read) + same decode + fold",
            n_events / t_es_replay,
            f"Créneau / eventsourcing = {t_es_replay / t_replay:.2f} (target ≥ 1)",
        )
    )
    es_store.close()
    return rows


def render(rows: list[tuple[str, str, float, str]], n_events: int, n_single: int) -> str:
    head = (
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}; WAL, synchronous=FULL for all three; {n_events:,} events, "
        f"{n_single:,} single-event transactions.\n\n"
    )
    lines = ["| workload | implementation | events/s | ratio, target |", "|---|---|---:|---|"]
    lines += [f"| {w} | {impl} | {rate:,.0f} | {note} |" for w, impl, rate, note in rows]
    return head + "\n".join(lines) + "\n"


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=5_000)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench(args.events, args.single, Path(tmp))
    table = render(rows, args.events, args.single)
    print(table)
    if args.write:
        readme = ROOT / "benchmarks" / "README.md"
        text = readme.read_text() if readme.exists() else ""
        block = f"<!-- store-bench -->\n{table}<!-- /store-bench -->"
        if "<!-- store-bench -->" in text:
            text = re.sub(r"<!-- store-bench -->.*<!-- /store-bench -->", block, text, flags=re.S)
        else:
            text += "\n" + block + "\n"
        readme.write_text(text)


if __name__ == "__main__":
    main()
