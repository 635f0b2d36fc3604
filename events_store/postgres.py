"""The server event store: PostgreSQL through psycopg 3.

One row per event; the schema keeps ``(stream_id, version)`` and the event id unique.
Appends to one stream are serialised by a transaction-scoped advisory lock on the
stream, so writers to different streams run side by side.

Gap-safe global order: positions come from a sequence, so a transaction may take a
position and commit after one that took a higher position. Each row records the id of
the transaction that wrote it, and readers deliver only rows written by transactions
older than every transaction still in flight (``pg_snapshot_xmin``): an event committed
late with a lower position is never skipped, it is waited for. New events are announced
with NOTIFY; subscriptions LISTEN instead of polling.
"""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
import psycopg
from psycopg import errors, sql

from events_store._common import StoreReadMixin, catch_up, is_retry, refuse_repeated_ids, seal
from scheduler._envelope import GENESIS_HASH, Metadata, NewEvent, RecordedEvent
from scheduler._errors import ConcurrencyError, DuplicateEventError, StoreUnavailable

__all__ = ["MIGRATIONS", "PostgresEventStore", "new_schema_name"]

# Versioned migrations, applied in order; a migration is never edited once released.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE {schema}.events (
        position       BIGINT  PRIMARY KEY,
        event_id       UUID    NOT NULL UNIQUE,
        stream_id      TEXT    NOT NULL,
        version        INTEGER NOT NULL CHECK (version >= 1),
        type           TEXT    NOT NULL,
        schema_version INTEGER NOT NULL,
        payload        BYTEA   NOT NULL,
        actor          TEXT    NOT NULL,
        recorded_at    TEXT    NOT NULL,
        correlation_id TEXT    NOT NULL,
        causation_id   TEXT,
        prev_hash      TEXT    NOT NULL,
        hash           TEXT    NOT NULL,
        tx             XID8    NOT NULL DEFAULT pg_current_xact_id(),
        UNIQUE (stream_id, version)
    );
    CREATE SEQUENCE {schema}.positions AS BIGINT;
    """,
    # One event appended in one round trip, when the caller knows the stream's head:
    # lock the stream, check its head, number, insert, announce.
    """
    CREATE FUNCTION {schema}.append_one(
        p_stream TEXT, p_expected INTEGER, p_prev TEXT, p_event_id UUID, p_type TEXT,
        p_schema_version INTEGER, p_payload BYTEA, p_actor TEXT, p_recorded_at TEXT,
        p_correlation_id TEXT, p_causation_id TEXT, p_hash TEXT, p_lock TEXT, p_channel TEXT
    ) RETURNS TABLE (done BOOLEAN, pos BIGINT, head_version INTEGER, head_hash TEXT)
    LANGUAGE plpgsql AS $$
    DECLARE
        v INTEGER;
        h TEXT;
        p BIGINT;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext(p_lock));
        SELECT e.version, e.hash INTO v, h FROM {schema}.events e
            WHERE e.stream_id = p_stream ORDER BY e.version DESC LIMIT 1;
        v := coalesce(v, 0);
        h := coalesce(h, repeat('0', 64));
        IF v <> p_expected OR h <> p_prev THEN
            RETURN QUERY SELECT FALSE, NULL::BIGINT, v, h;
            RETURN;
        END IF;
        p := nextval('{schema}.positions');
        INSERT INTO {schema}.events (position, event_id, stream_id, version, type,
            schema_version, payload, actor, recorded_at, correlation_id, causation_id,
            prev_hash, hash)
        VALUES (p, p_event_id, p_stream, v + 1, p_type, p_schema_version, p_payload, p_actor,
            p_recorded_at, p_correlation_id, p_causation_id, h, p_hash);
        PERFORM pg_notify(p_channel, p::text);
        RETURN QUERY SELECT TRUE, p, v + 1, p_hash;
    END
    $$;
    """,
)

_COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version, payload, actor, "
    "recorded_at, correlation_id, causation_id, prev_hash, hash"
)
_SAFE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _event_of(row: tuple[Any, ...]) -> RecordedEvent:
    return RecordedEvent(
        position=row[0], event_id=row[1], stream_id=row[2], version=row[3], type=row[4],
        schema_version=row[5], payload=bytes(row[6]),
        metadata=Metadata(actor=row[7], recorded_at=row[8], correlation_id=row[9],
                          causation_id=row[10]),
        prev_hash=row[11], hash=row[12],
    )  # fmt: skip


class PostgresEventStore(StoreReadMixin):
    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "creneau",
        lock_timeout: float = 10.0,
        migrate: bool = True,
    ) -> None:
        if not _SAFE.fullmatch(schema):
            raise ValueError(f"schema name {schema!r}: lower-case letters, digits, _ only")
        self.dsn = dsn
        self.schema = schema
        self.channel = f"{schema}_events"
        self._lock_timeout_ms = int(lock_timeout * 1000)
        self._lock = threading.Lock()
        # The head (version, hash) of each stream as this store last saw it: with it, one
        # event is appended in one round trip. Stale heads are caught by the database.
        self._heads: dict[str, tuple[int, str]] = {}
        self._conn = self._connect()
        self._single_insert = sql.SQL(
            "WITH inserted AS (INSERT INTO {schema}.events ("
            + _COLUMNS + ") VALUES (nextval({sequence}), "
            + ", ".join(["%s"] * 12) + ") RETURNING position) "
            "SELECT position, pg_notify({channel}, position::text) FROM inserted"
        ).format(schema=sql.Identifier(schema), channel=sql.Literal(self.channel),
                 sequence=sql.Literal(f"{schema}.positions"))  # fmt: skip
        if migrate:
            self.migrate()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.dsn, autocommit=True)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"cannot reach PostgreSQL: {exc}".strip()) from exc
        conn.execute(f"SET lock_timeout = {self._lock_timeout_ms}")
        return conn

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(schema=sql.Identifier(self.schema))

    # -- schema --------------------------------------------------------------------

    def migrate(self) -> int:
        """Apply the migrations this store lacks; returns the schema version now."""
        conn = self._conn
        with self._lock, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('creneau-migrate'))")
            conn.execute(self._q("CREATE SCHEMA IF NOT EXISTS {schema}"))
            conn.execute(self._q(
                "CREATE TABLE IF NOT EXISTS {schema}.migrations ("
                " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            ))  # fmt: skip
            row = conn.execute(self._q("SELECT coalesce(max(version), 0) FROM {schema}.migrations")
                               ).fetchone()  # fmt: skip
            current = int(row[0]) if row else 0
            for number, statement in enumerate(MIGRATIONS[current:], start=current + 1):
                conn.execute(self._q(statement))
                conn.execute(self._q("INSERT INTO {schema}.migrations (version) VALUES (%s)"),
                             (number,))  # fmt: skip
            return len(MIGRATIONS)

    def schema_version(self) -> int:
        """The migrations applied to this store's schema; 0 when it has none."""
        with self._lock:
            found = self._conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (f"{self.schema}.migrations",)
            ).fetchone()
            if not found or not found[0]:
                return 0
            row = self._conn.execute(
                self._q("SELECT coalesce(max(version), 0) FROM {schema}.migrations")
            ).fetchone()
        return int(row[0]) if row else 0

    def drop(self) -> None:
        """Remove the store's schema and everything in it (tests clean up with it)."""
        with self._lock:
            self._conn.execute(self._q("DROP SCHEMA IF EXISTS {schema} CASCADE"))

    # -- writing -------------------------------------------------------------------

    def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int
    ) -> list[RecordedEvent]:
        refuse_repeated_ids(events)
        with self._lock:
            try:
                head = self._heads.get(stream_id)
                if len(events) == 1 and head is not None and head[0] == expected_version:
                    done = self._append_one(stream_id, events[0], head)
                    if done is not None:
                        return [done]
                with self._conn.transaction():
                    sealed = self._append(stream_id, events, expected_version)
                if sealed:
                    self._heads[stream_id] = (sealed[-1].version, sealed[-1].hash)
                return sealed
            except errors.LockNotAvailable as exc:
                raise StoreUnavailable(
                    f'stream "{stream_id}" stayed locked past the lock timeout; nothing was written'
                ) from exc
            except errors.UniqueViolation as exc:
                # An event id already stored: this very batch (a retry), or a clash.
                stored = self._stored(events)
                if stored and is_retry(stream_id, events, stored):
                    return stored
                if stored:
                    raise DuplicateEventError(str(stored[0].event_id)) from exc
                raise ConcurrencyError(
                    stream_id, expected_version, self._version(stream_id)
                ) from exc
            except psycopg.OperationalError as exc:
                self._reconnect()
                raise StoreUnavailable(
                    f"the connection to PostgreSQL was lost during an append: {exc}; the "
                    "batch was not written, or was written whole: appending it again is safe"
                ) from exc

    def _append_one(
        self, stream_id: str, event: NewEvent, head: tuple[int, str]
    ) -> RecordedEvent | None:
        """The one-round-trip append, from the head this store last saw; None when the
        stream has moved on (the caller then takes the full path)."""
        (sealed,), _ = seal(stream_id, [event], head[0], head[1], 0)
        m = sealed.metadata
        row = self._conn.execute(
            self._q("SELECT * FROM {schema}.append_one(%s, %s, %s, %s, %s, %s, %s, %s, %s, "
                    "%s, %s, %s, %s, %s)"),
            (stream_id, head[0], head[1], sealed.event_id, sealed.type, sealed.schema_version,
             sealed.payload, m.actor, m.recorded_at, m.correlation_id, m.causation_id,
             sealed.hash, f"{self.schema}:{stream_id}", self.channel),
        ).fetchone()  # fmt: skip
        assert row is not None
        done, position, version, head_hash = row
        self._heads[stream_id] = (version, head_hash)
        if not done:
            return None
        return msgspec.structs.replace(sealed, position=int(position))

    def _append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int
    ) -> list[RecordedEvent]:
        conn = self._conn
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{self.schema}:{stream_id}",))
        head = conn.execute(
            self._q("SELECT version, hash FROM {schema}.events WHERE stream_id = %s "
                    "ORDER BY version DESC LIMIT 1"), (stream_id,),
        ).fetchone()  # fmt: skip
        version, prev = (head[0], head[1]) if head else (0, GENESIS_HASH)
        if version != expected_version:
            stored = self._stored(events) if events else []
            if stored and is_retry(stream_id, events, stored):
                return stored
            if stored:
                raise DuplicateEventError(str(stored[0].event_id))
            raise ConcurrencyError(stream_id, expected_version, version)
        if not events:
            return []
        # The hash does not cover the position: seal first, number on insert.
        sealed, _ = seal(stream_id, events, expected_version, prev, 0)
        rows = [
            (e.event_id, e.stream_id, e.version, e.type, e.schema_version, e.payload,
             e.metadata.actor, e.metadata.recorded_at, e.metadata.correlation_id,
             e.metadata.causation_id, e.prev_hash, e.hash)
            for e in sealed
        ]  # fmt: skip
        if len(rows) == 1:
            # One round trip: number, insert and announce.
            found = conn.execute(self._single_insert, rows[0]).fetchone()
            positions = [int(found[0])] if found else []
        else:
            taken = conn.execute(
                self._q("SELECT nextval('{schema}.positions') FROM generate_series(1, %s)"),
                (len(rows),),
            ).fetchall()
            positions = [int(r[0]) for r in taken]
            with conn.cursor().copy(self._q(
                f"COPY {{schema}}.events ({_COLUMNS}) FROM STDIN"
            )) as copy:  # fmt: skip
                for position, row in zip(positions, rows, strict=True):
                    copy.write_row((position, *row))
            conn.execute(sql.SQL("SELECT pg_notify({}, %s)").format(sql.Literal(self.channel)),
                         (str(positions[-1]),))  # fmt: skip
        return [msgspec.structs.replace(e, position=p)
                for e, p in zip(sealed, positions, strict=True)]  # fmt: skip

    def _stored(self, events: Sequence[NewEvent]) -> list[RecordedEvent]:
        rows = self._conn.execute(
            self._q(f"SELECT {_COLUMNS} FROM {{schema}}.events WHERE event_id = ANY(%s) "
                    "ORDER BY position"),
            ([e.event_id for e in events],),
        ).fetchall()  # fmt: skip
        return [_event_of(r) for r in rows]

    def _reconnect(self) -> None:
        self._conn.close()
        # When the server is still away, the next call says so.
        with contextlib.suppress(StoreUnavailable):
            self._conn = self._connect()

    # -- reading -------------------------------------------------------------------

    def _rows(self, query: str, args: tuple[Any, ...]) -> list[RecordedEvent]:
        with self._lock:
            try:
                rows = self._conn.execute(self._q(query), args).fetchall()
            except psycopg.OperationalError as exc:
                self._reconnect()
                raise StoreUnavailable(f"PostgreSQL did not answer: {exc}") from exc
        return [_event_of(r) for r in rows]

    def _version(self, stream_id: str) -> int:
        row = self._conn.execute(
            self._q("SELECT coalesce(max(version), 0) FROM {schema}.events WHERE stream_id = %s"),
            (stream_id,),
        ).fetchone()  # fmt: skip
        return int(row[0]) if row else 0

    def stream_version(self, stream_id: str) -> int:
        with self._lock:
            return self._version(stream_id)

    def read_stream(self, stream_id: str, from_version: int = 1) -> Iterator[RecordedEvent]:
        version = from_version
        while True:
            chunk = self._rows(
                f"SELECT {_COLUMNS} FROM {{schema}}.events WHERE stream_id = %s "
                "AND version >= %s ORDER BY version LIMIT 5000",
                (stream_id, version),
            )
            yield from chunk
            if len(chunk) < 5000:
                return
            version = chunk[-1].version + 1

    def read_payloads(
        self, stream_id: str, from_version: int = 1
    ) -> Iterator[tuple[int, str, int, bytes]]:
        with self._lock:
            rows = self._conn.execute(
                self._q("SELECT version, type, schema_version, payload FROM {schema}.events "
                        "WHERE stream_id = %s AND version >= %s ORDER BY version"),
                (stream_id, from_version),
            ).fetchall()  # fmt: skip
        return ((v, t, s, bytes(p)) for v, t, s, p in rows)

    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]:
        # Only rows of transactions older than any still in flight: a late commit with a
        # lower position is delivered before anything above it.
        return iter(self._rows(
            f"SELECT {_COLUMNS} FROM {{schema}}.events WHERE position > %s "
            "AND tx < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY position LIMIT %s",
            (after_position, limit),
        ))  # fmt: skip

    def streams(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                self._q("SELECT stream_id FROM {schema}.events WHERE version = 1 "
                        "ORDER BY position")
            ).fetchall()  # fmt: skip
        return [r[0] for r in rows]

    def subscribe(
        self,
        after_position: int = 0,
        *,
        stop: threading.Event | None = None,
        poll_interval: float = 0.05,
        idle_timeout: float | None = None,
    ) -> Iterator[RecordedEvent]:
        """Catch up, then wait on NOTIFY for more (every ten poll intervals, a read
        anyway, in case a notification was lost)."""
        listener = psycopg.connect(self.dsn, autocommit=True)
        listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))

        def wait(seconds: float) -> None:
            for _ in listener.notifies(timeout=seconds, stop_after=1):
                pass

        try:
            yield from catch_up(self.read_all, after_position, stop, poll_interval * 10,
                                idle_timeout, wait)  # fmt: skip
        finally:
            listener.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _tamper(self, position: int, payload: bytes) -> None:
        """Overwrite a stored payload, as an attacker would: for tests of verification."""
        with self._lock:
            self._conn.execute(
                self._q("UPDATE {schema}.events SET payload = %s WHERE position = %s"),
                (payload, position),
            )


def new_schema_name() -> str:
    return "t_" + uuid.uuid4().hex[:20]
