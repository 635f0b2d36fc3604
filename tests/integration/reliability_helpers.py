"""Helpers for the reliability tests: stores by name, and writer processes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.postgres import DSN

ROOT = Path(__file__).resolve().parents[2]


def open_named(kind: str, where: str, *, migrate: bool = True) -> Any:
    """``where``: a SQLite file path, or a PostgreSQL schema name."""
    if kind == "sqlite":
        from creneau.events_store import SQLiteEventStore

        return SQLiteEventStore(where)
    from creneau.events_store.postgres import PostgresEventStore

    return PostgresEventStore(DSN, schema=where, migrate=migrate)


def contended_writer(kind: str, where: str, appends: int, stream: str) -> int:
    """Append ``appends`` single events to one stream, reading the version and retrying
    on every conflict; returns how many conflicts it met."""
    sys.path.insert(0, str(ROOT))
    from creneau.scheduler import ConcurrencyError, StoreUnavailable
    from tests.strategies import new_event

    store = open_named(kind, where, migrate=False)
    conflicts = 0
    done = 0
    while done < appends:
        version = store.stream_version(stream)
        try:
            store.append(stream, [new_event(done)], version)
            done += 1
        except (ConcurrencyError, StoreUnavailable):
            conflicts += 1
    store.close()
    return conflicts


def batch_writer_main() -> None:
    """Run as a script: append batches of 50 to a stream forever, printing the number of
    each batch once append() has returned (it is then acknowledged)."""
    kind, where = sys.argv[1], sys.argv[2]
    sys.path.insert(0, str(ROOT))
    from tests.strategies import batch

    store = open_named(kind, where, migrate=False)
    number = 0
    while True:
        events = [e.__class__(**{**{f: getattr(e, f) for f in e.__struct_fields__},
                                 "payload": b'{"batch":%d,"i":%d}' % (number, i)})
                  for i, e in enumerate(batch(50))]  # fmt: skip
        store.append("stream", events, number * 50)
        print(number, flush=True)
        number += 1


if __name__ == "__main__":
    batch_writer_main()
