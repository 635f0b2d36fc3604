"""The embedded event store: one SQLite file, WAL journal, every commit durable.

Writers take the write lock up front (``BEGIN IMMEDIATE``) and wait for it up to a
busy timeout, so two processes appending to one file queue instead of failing; the
expected-version check and the insert happen under that lock, and the schema's own
UNIQUE constraints on ``(stream_id, version)`` and ``event_id`` back it up.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from events_store._common import StoreReadMixin, is_retry, seal
from scheduler._envelope import GENESIS_HASH, Metadata, NewEvent, RecordedEvent
from scheduler._errors import ConcurrencyError, DuplicateEventError, StoreUnavailable

__all__ = ["SCHEMA", "SQLiteEventStore"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY,
    event_id       BLOB    NOT NULL UNIQUE,  -- the UUID's 16 bytes
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        BLOB    NOT NULL,
    actor          TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    correlation_id TEXT    NOT NULL,
    causation_id   TEXT,
    prev_hash      BLOB    NOT NULL,         -- SHA-256, 32 bytes
    hash           BLOB    NOT NULL,
    UNIQUE (stream_id, version)
);
"""

_COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version, payload, actor, "
    "recorded_at, correlation_id, causation_id, prev_hash, hash"
)
INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def row_of(e: RecordedEvent) -> tuple[Any, ...]:
    m = e.metadata
    return (
        e.position,
        e.event_id.bytes,
        e.stream_id,
        e.version,
        e.type,
        e.schema_version,
        e.payload,
        m.actor,
        m.recorded_at,
        m.correlation_id,
        m.causation_id,
        bytes.fromhex(e.prev_hash),
        bytes.fromhex(e.hash),
    )


def _event_of(row: tuple[Any, ...]) -> RecordedEvent:
    return RecordedEvent(
        position=row[0],
        event_id=uuid.UUID(bytes=row[1]),
        stream_id=row[2],
        version=row[3],
        type=row[4],
        schema_version=row[5],
        payload=bytes(row[6]),
        metadata=Metadata(
            actor=row[7], recorded_at=row[8], correlation_id=row[9], causation_id=row[10]
        ),
        prev_hash=row[11].hex(),
        hash=row[12].hex(),
    )


class SQLiteEventStore(StoreReadMixin):
    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        self.path = str(path)
        try:
            self._db = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before append() returns, WAL or not.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailable(f"cannot open SQLite store {self.path}: {exc}") from exc
        self._lock = threading.Lock()

    # -- writing -------------------------------------------------------------------

    def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int
    ) -> list[RecordedEvent]:
        # An id repeated inside the batch trips the UNIQUE constraint: no check needed here.
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"SQLite store {self.path} stayed locked: {exc}") from exc
            try:
                sealed = self._append_locked(stream_id, events, expected_version)
                db.execute("COMMIT")
                return sealed
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _append_locked(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int
    ) -> list[RecordedEvent]:
        db = self._db
        head = db.execute(
            "SELECT version, hash FROM events WHERE stream_id = ? ORDER BY version DESC LIMIT 1",
            (stream_id,),
        ).fetchone()
        version, prev = (head[0], head[1].hex()) if head else (0, GENESIS_HASH)
        if version != expected_version:
            stored = self._stored(events)
            if stored and is_retry(stream_id, events, stored):
                return stored
            if stored:
                raise DuplicateEventError(str(stored[0].event_id))
            raise ConcurrencyError(stream_id, expected_version, version)
        if not events:
            return []
        (last,) = db.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
        sealed = seal(stream_id, events, expected_version, prev, last + 1)
        try:
            db.executemany(INSERT, [row_of(e) for e in sealed])
        except sqlite3.IntegrityError as exc:
            stored = self._stored(events)
            if stored:
                raise DuplicateEventError(str(stored[0].event_id)) from exc
            raise
        return sealed

    def _stored(self, events: Sequence[NewEvent]) -> list[RecordedEvent]:
        ids = [e.event_id.bytes for e in events]
        found: list[RecordedEvent] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found += [
                _event_of(r)
                for r in self._db.execute(
                    f"SELECT {_COLUMNS} FROM events WHERE event_id IN ({marks}) ORDER BY position",
                    chunk,
                )
            ]
        return found

    # -- reading -------------------------------------------------------------------

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[RecordedEvent]:
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [_event_of(r) for r in rows]

    def stream_version(self, stream_id: str) -> int:
        with self._lock:
            (v,) = self._db.execute(
                "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = ?", (stream_id,)
            ).fetchone()
        return int(v)

    def read_stream(self, stream_id: str, from_version: int = 1) -> Iterator[RecordedEvent]:
        batch = 5000
        version = from_version
        while True:
            chunk = self._query(
                f"SELECT {_COLUMNS} FROM events WHERE stream_id = ? AND version >= ? "
                "ORDER BY version LIMIT ?",
                (stream_id, version, batch),
            )
            yield from chunk
            if len(chunk) < batch:
                return
            version = chunk[-1].version + 1

    def read_payloads(
        self, stream_id: str, from_version: int = 1
    ) -> Iterator[tuple[int, str, int, bytes]]:
        batch = 20000
        version = from_version
        while True:
            with self._lock:
                chunk: list[tuple[int, str, int, bytes]] = self._db.execute(
                    "SELECT version, type, schema_version, payload FROM events "
                    "WHERE stream_id = ? AND version >= ? ORDER BY version LIMIT ?",
                    (stream_id, version, batch),
                ).fetchall()
            yield from chunk
            if len(chunk) < batch:
                return
            version = chunk[-1][0] + 1

    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]:
        return iter(
            self._query(
                f"SELECT {_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
                (after_position, -1 if limit is None else limit),
            )
        )

    def streams(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT stream_id FROM events WHERE version = 1 ORDER BY position"
            ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tamper(self, position: int, payload: bytes) -> None:
        """Overwrite a stored payload, as an attacker would: for tests of verification."""
        with self._lock:
            self._db.execute(
                "UPDATE events SET payload = ? WHERE position = ?", (payload, position)
            )
