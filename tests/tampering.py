"""Altering a stored event as an attacker with write access would: for the tests of
verification only (production classes keep no such hook). Each backend by its own means:
the memory store's lists, raw SQL on the SQLite file or the PostgreSQL tables."""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec
import psycopg
from psycopg import sql


def tamper(store: Any, position: int, payload: bytes) -> None:
    kind = type(store).__name__
    if kind == "MemoryEventStore":
        old = store._all[position - 1]
        new = msgspec.structs.replace(old, payload=payload)
        store._all[position - 1] = new
        store._streams[old.stream_id][old.version - 1] = new
    elif kind == "SQLiteEventStore":
        from creneau.events_store.sqlite import _decode, _encode

        db = sqlite3.connect(store.path, isolation_level=None)
        first, blob = db.execute(
            "SELECT first_position, events FROM commits WHERE first_position <= ? "
            "ORDER BY first_position DESC LIMIT 1",
            (position,),
        ).fetchone()
        commit = _decode(blob)
        commit.events[position - first].payload = payload
        db.execute("UPDATE commits SET events = ? WHERE first_position = ?",
                   (_encode(commit), first))  # fmt: skip
        db.close()
    elif kind == "PostgresEventStore":
        with psycopg.connect(store.dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("UPDATE {}.events SET payload = %s WHERE position = %s").format(
                    sql.Identifier(store.schema)),
                (payload, position),
            )  # fmt: skip
    else:
        raise TypeError(f"no way to tamper with a {kind}")
