"""The server event store: PostgreSQL through psycopg 3.

One row per event; the schema keeps ``(stream_id, version)`` and the event id unique.
A batch is appended under a transaction-scoped advisory lock on its stream. One event
on the head this store last saw is one call of ``append_event``, without the stream
lock: the UNIQUE ``(stream_id, version)`` index refuses a writer that got there second.

Gap-safe global order: positions come from a sequence, and sequence order is not commit
order, so a reader tailing the positions could pass over an event committed late with a
lower position. (Ordering by transaction id does not save it either: an older transaction
may draw its position after a younger one.) So readers are held below any position in
flight: an append draws its positions and marks the first one as in flight (a
transaction-scoped advisory lock keyed by it, released by PostgreSQL only once the
commit is visible) in one step, behind a gate that readers take shared; a reader first
asks for the settled position (one below the lowest mark, or the last drawn when none
is held) and then reads up to it in a statement of its own. Writers do not wait for one
another's commits (they share the disk flushes), and nothing is skipped.

New events are announced with NOTIFY; subscriptions LISTEN instead of polling.
PostgreSQL holds one lock per *database* from a notifying transaction's pre-commit to its
end, so a NOTIFY inside the append would also serialise the commits of every other
schema (every other edition) in the database. The announcement is therefore a
transaction of its own, sent after the append has committed and not waiting for the
disk, and only while a subscription is listening: subscriptions register their
connection in ``listeners``, and a writer looks there at most every
``LISTENERS_CHECK_INTERVAL`` seconds. A subscription reads anyway every ten poll
intervals, so an announcement lost or not yet sent only delays it until that read.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import msgspec
import psycopg
import structlog
from psycopg import errors, pq, sql

from creneau.events_store._common import (
    StoreReadMixin,
    catch_up,
    is_retry,
    refuse_repeated_ids,
    seal,
)
from creneau.scheduler._envelope import (
    GENESIS_HASH,
    Metadata,
    NewEvent,
    RecordedEvent,
    SubjectKey,
)
from creneau.scheduler._errors import ConcurrencyError, DuplicateEventError, StoreUnavailable

__all__ = ["LISTENERS_CHECK_INTERVAL", "MIGRATIONS", "PostgresEventStore", "new_schema_name"]

log = structlog.get_logger()

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
    # lock the stream, check its head, number, insert, announce. (Unused since the third
    # migration, which replaces it by append_event.)
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
    # Positions drawn under the schema's position lock (see the module's docstring); one
    # event appended by a function that checks its head without the stream lock and does
    # not announce; subscriptions register so that writers NOTIFY only while someone
    # listens.
    """
    DROP FUNCTION {schema}.append_one(TEXT, INTEGER, TEXT, UUID, TEXT, INTEGER, BYTEA, TEXT,
        TEXT, TEXT, TEXT, TEXT, TEXT, TEXT);
    CREATE FUNCTION {schema}.draw_positions(p_count INTEGER, p_gate BIGINT, p_space INTEGER)
    RETURNS BIGINT[]
    LANGUAGE plpgsql AS $$
    DECLARE
        drawn BIGINT[];
    BEGIN
        -- Drawing and marking the first position drawn as in flight are one step for
        -- readers (they take the gate shared). The gate is a session lock, released
        -- here (nothing between can fail but a cancellation, after which the store
        -- releases it or closes the session); the mark is a transaction lock, held to
        -- the end.
        PERFORM pg_advisory_lock(p_gate);
        IF p_count = 1 THEN
            drawn := ARRAY[nextval('{schema}.positions')];
        ELSE
            SELECT array_agg(nextval('{schema}.positions')) INTO drawn
                FROM generate_series(1, p_count);
        END IF;
        IF drawn[1] > 2147483647 THEN
            PERFORM pg_advisory_unlock(p_gate);
            RAISE EXCEPTION 'more than 2147483647 positions in schema {schema}';
        END IF;
        PERFORM pg_advisory_xact_lock(p_space, drawn[1]::INTEGER);
        PERFORM pg_advisory_unlock(p_gate);
        RETURN drawn;
    END
    $$;
    -- The highest position below which every position drawn is committed (and visible
    -- to any later statement) or rolled back.
    CREATE FUNCTION {schema}.settled_position(p_gate BIGINT, p_space INTEGER)
    RETURNS BIGINT
    LANGUAGE plpgsql AS $$
    DECLARE
        in_flight BIGINT;
        drawn BIGINT;
        called BOOLEAN;
    BEGIN
        PERFORM pg_advisory_lock_shared(p_gate);
        BEGIN
            SELECT min(l.objid::TEXT::BIGINT) INTO in_flight FROM pg_locks l
                JOIN pg_database d ON d.oid = l.database AND d.datname = current_database()
                WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted
                AND l.classid = p_space::TEXT::OID;
            SELECT last_value, is_called INTO drawn, called FROM {schema}.positions;
        EXCEPTION WHEN OTHERS THEN
            PERFORM pg_advisory_unlock_shared(p_gate);
            RAISE;
        END;
        PERFORM pg_advisory_unlock_shared(p_gate);
        IF in_flight IS NOT NULL THEN
            RETURN in_flight - 1;
        END IF;
        RETURN CASE WHEN called THEN drawn ELSE 0 END;
    END
    $$;
    CREATE FUNCTION {schema}.append_event(
        p_event_id UUID, p_stream TEXT, p_version INTEGER, p_type TEXT,
        p_schema_version INTEGER, p_payload BYTEA, p_actor TEXT, p_recorded_at TEXT,
        p_correlation_id TEXT, p_causation_id TEXT, p_prev_hash TEXT, p_hash TEXT,
        p_gate BIGINT, p_space INTEGER
    ) RETURNS BIGINT
    LANGUAGE plpgsql AS $$
    DECLARE
        p BIGINT;
    BEGIN
        -- Only on the event it chains to; the UNIQUE (stream_id, version) index refuses
        -- a version another writer took first.
        IF p_version > 1 THEN
            PERFORM 1 FROM {schema}.events
                WHERE stream_id = p_stream AND version = p_version - 1 AND hash = p_prev_hash;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
        END IF;
        p := ({schema}.draw_positions(1, p_gate, p_space))[1];
        INSERT INTO {schema}.events (position, event_id, stream_id, version, type,
            schema_version, payload, actor, recorded_at, correlation_id, causation_id,
            prev_hash, hash)
        VALUES (p, p_event_id, p_stream, p_version, p_type, p_schema_version, p_payload,
            p_actor, p_recorded_at, p_correlation_id, p_causation_id, p_prev_hash, p_hash);
        RETURN p;
    END
    $$;
    CREATE TABLE {schema}.listeners (
        pid   INTEGER     PRIMARY KEY,
        since TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    """,
    # Views: the rows a projection keeps and the position it has folded up to, written in
    # one transaction (compare-and-set on the position).
    """
    CREATE TABLE {schema}.view_positions (
        view     TEXT   PRIMARY KEY,
        position BIGINT NOT NULL
    );
    CREATE TABLE {schema}.view_rows (
        view     TEXT   NOT NULL,
        key      TEXT   NOT NULL,
        data     BYTEA  NOT NULL,
        PRIMARY KEY (view, key)
    );
    """,
    # The data subjects' keys, outside the hash chain: destroying one erases a person.
    """
    CREATE TABLE {schema}.subject_keys (
        subject    TEXT  PRIMARY KEY,
        edition    TEXT  NOT NULL,
        lookup     BYTEA NOT NULL,
        key        BYTEA NOT NULL,
        created_at TEXT  NOT NULL
    );
    CREATE INDEX ON {schema}.subject_keys (edition, lookup);
    """,
)

# How long a writer trusts what it last saw of the listeners, in seconds.
LISTENERS_CHECK_INTERVAL = 0.5

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
            raise StoreUnavailable("bad_schema_name", schema=schema)
        self.dsn = dsn
        self.schema = schema
        self.channel = f"{schema}_events"
        self._lock_timeout_ms = int(lock_timeout * 1000)
        self._lock = threading.Lock()
        # The head (version, hash) of each stream as this store last saw it: with it, one
        # event is appended in one round trip. Stale heads are caught by the database.
        self._heads: dict[str, tuple[int, str]] = {}
        self._conn = self._connect()
        # Statements of the hot paths, composed once. On the known head, the call of
        # append_event is prepared and run through libpq directly: psycopg's Python layers
        # cost about as much CPU per event as the server's work for it. Inside the locked
        # path's transaction psycopg runs it (a statement deallocated by psycopg after a
        # ROLLBACK would abort that transaction, where outside one it is prepared again).
        self._append_event = self._bytes(
            "SELECT {schema}.append_event(" + ", ".join(f"${i}" for i in range(1, 15)) + ")"
        )
        self._append_event_in_tx = self._bytes(
            "SELECT {schema}.append_event(" + ", ".join(["%s"] * 14) + ")"
        )
        self._prepared_on: pq.abc.PGconn | None = None
        # This schema's advisory lock keys: the gate of the positions' draw, and the
        # space of the marks of positions in flight (see the module's docstring).
        digest = hashlib.sha256(f"creneau positions {schema}".encode()).digest()
        self._gate = int.from_bytes(digest[:8], "big", signed=True)
        self._space = int.from_bytes(digest[8:12], "big") & 0x7FFFFFFF
        self._keys_text = [str(self._gate).encode(), str(self._space).encode()]
        self._announce_query = self._bytes(
            "SELECT set_config('synchronous_commit', 'off', true), pg_notify({channel}, %s)"
        )
        self._settled_query = self._bytes("SELECT {schema}.settled_position(%s, %s)")
        self._listeners_query = self._bytes(
            "SELECT EXISTS (SELECT 1 FROM {schema}.listeners l "
            "JOIN pg_stat_activity a ON a.pid = l.pid)"
        )
        self._listened = True
        self._listeners_checked = -math.inf
        if migrate:
            self.migrate()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.dsn, autocommit=True)
        except psycopg.OperationalError as exc:
            detail = " ".join(str(exc).split())  # libpq's lines, as one
            raise StoreUnavailable("postgres_unreachable", detail=detail) from exc
        conn.execute(f"SET lock_timeout = {self._lock_timeout_ms}")
        return conn

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(schema=sql.Identifier(self.schema))

    def _bytes(self, text: str) -> bytes:
        return (
            sql.SQL(text)
            .format(schema=sql.Identifier(self.schema), channel=sql.Literal(self.channel))
            .as_bytes(self._conn)
        )  # fmt: skip

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
            if current > len(MIGRATIONS):
                raise StoreUnavailable("store_schema_newer", path=f"schema {self.schema}",
                                       found=current, known=len(MIGRATIONS))  # fmt: skip
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
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int,
        keys: Sequence[SubjectKey] = (),
    ) -> list[RecordedEvent]:
        refuse_repeated_ids(events)
        with self._lock:
            try:
                head = self._heads.get(stream_id)
                sealed: list[RecordedEvent] | None = None
                if (len(events) == 1 and not keys and head is not None
                        and head[0] == expected_version):  # fmt: skip
                    sealed = self._append_one(stream_id, events[0], head)
                if sealed is None:
                    with self._conn.transaction():
                        sealed = self._append(stream_id, events, expected_version)
                        if sealed and keys:
                            self._keep_keys(keys)
            except errors.LockNotAvailable as exc:
                raise StoreUnavailable("stream_locked", stream=stream_id) from exc
            except errors.UniqueViolation as exc:
                # An event id already stored (this very batch, retried, or a clash), or,
                # on the single-INSERT path, a version another writer took first.
                self._heads.pop(stream_id, None)
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
                raise StoreUnavailable("postgres_lost", detail=str(exc).strip()) from exc
            except psycopg.Error:
                # Whatever failed, the positions' gate (a session lock) must not stay held.
                with contextlib.suppress(psycopg.Error):
                    self._conn.execute("SELECT pg_advisory_unlock_all()")
                raise
            if sealed and sealed[-1].position:
                self._heads[stream_id] = (sealed[-1].version, sealed[-1].hash)
                self._announce(sealed[-1].position)
            return sealed

    def _announce(self, position: int) -> None:
        """NOTIFY the subscribers, if any listens, in a transaction of its own that does not
        wait for the disk (see the module's docstring). The events are stored whatever
        happens here."""
        try:
            now = time.monotonic()
            if now - self._listeners_checked >= LISTENERS_CHECK_INTERVAL:
                self._listeners_checked = now
                try:
                    row = self._conn.execute(self._listeners_query).fetchone()
                    self._listened = bool(row and row[0])
                except errors.UndefinedTable:
                    self._listened = True  # a schema not yet migrated: always announce
            if self._listened:
                self._conn.execute(self._announce_query, (str(position),))
        except psycopg.Error as exc:
            log.warning("store.announce_failed", position=position, error=str(exc))
            if isinstance(exc, psycopg.OperationalError):
                self._reconnect()

    def _append_one(
        self, stream_id: str, event: NewEvent, head: tuple[int, str]
    ) -> list[RecordedEvent] | None:
        """One event on the head this store last saw, in one call and no lock: the row
        goes in only if the head is still the event it chains to, and the UNIQUE
        (stream_id, version) index refuses it if another writer took that version first
        (a UniqueViolation, which ``append`` turns into a ConcurrencyError). None when the
        head was not found as remembered (the caller then takes the locked path)."""
        (sealed,), _ = seal(stream_id, [event], head[0], head[1], 0)
        position = self._call_append_event(sealed)
        if position is None:
            self._heads.pop(stream_id, None)
            return None
        return [msgspec.structs.replace(sealed, position=position)]

    def _call_append_event(self, sealed: RecordedEvent) -> int | None:
        """``append_event`` for one sealed event, through libpq: its position, or None
        when the event it chains to is not the stream's head."""
        pgconn = self._conn.pgconn
        if self._prepared_on is not pgconn:
            self._prepare_on_head(pgconn)
        # The row's columns in libpq's text form (the payload, bytes, goes as binary; libpq
        # takes None for NULL, which psycopg's type hints do not say).
        params: list[Any] = [
            v if v is None or type(v) is bytes else str(v).encode() for v in _row(sealed)
        ]
        params += self._keys_text
        result = pgconn.exec_prepared(_ON_HEAD, params, _ON_HEAD_FORMATS)
        if result.error_field(pq.DiagnosticField.SQLSTATE) == _NO_SUCH_STATEMENT:
            # psycopg deallocates every prepared statement after a ROLLBACK or a DROP.
            self._prepare_on_head(pgconn)
            result = pgconn.exec_prepared(_ON_HEAD, params, _ON_HEAD_FORMATS)
        _raise_for(pgconn, result)
        position = result.get_value(0, 0)
        return None if position is None else int(position)

    def _prepare_on_head(self, pgconn: pq.abc.PGconn) -> None:
        _raise_for(pgconn, pgconn.prepare(_ON_HEAD, self._append_event, _ON_HEAD_TYPES))
        self._prepared_on = pgconn

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
        if len(sealed) == 1:
            found = conn.execute(
                self._append_event_in_tx, (*_row(sealed[0]), self._gate, self._space)
            ).fetchone()
            positions = [int(found[0])] if found and found[0] is not None else []
        else:
            drawn = conn.execute(
                self._q("SELECT {schema}.draw_positions(%s, %s, %s)"),
                (len(sealed), self._gate, self._space),
            ).fetchone()
            assert drawn is not None
            positions = [int(p) for p in drawn[0]]
            with conn.cursor().copy(self._q(
                f"COPY {{schema}}.events ({_COLUMNS}) FROM STDIN"
            )) as copy:  # fmt: skip
                for position, e in zip(positions, sealed, strict=True):
                    copy.write_row((position, *_row(e)))
        return [msgspec.structs.replace(e, position=p)
                for e, p in zip(sealed, positions, strict=True)]  # fmt: skip

    def _keep_keys(self, keys: Sequence[SubjectKey]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(
                self._q("INSERT INTO {schema}.subject_keys (subject, edition, lookup, key, "
                        "created_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"),
                [(k.subject, k.edition, k.lookup, k.key, k.created_at) for k in keys],
            )  # fmt: skip

    def subject_keys(self, subjects: Sequence[str]) -> dict[str, bytes]:
        with self._lock:
            rows = self._conn.execute(
                self._q("SELECT subject, key FROM {schema}.subject_keys WHERE subject = ANY(%s)"),
                (list(subjects),),
            ).fetchall()
        return {subject: bytes(key) for subject, key in rows}

    def edition_keys(self, edition: str) -> list[SubjectKey]:
        with self._lock:
            rows = self._conn.execute(
                self._q("SELECT subject, lookup, key, created_at FROM {schema}.subject_keys "
                        "WHERE edition = %s"), (edition,),
            ).fetchall()  # fmt: skip
        return [SubjectKey(subject=s, edition=edition, lookup=bytes(lk), key=bytes(k),
                           created_at=c) for s, lk, k, c in rows]  # fmt: skip

    def subjects_for(self, edition: str, lookup: bytes) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                self._q("SELECT subject FROM {schema}.subject_keys WHERE edition = %s AND "
                        "lookup = %s ORDER BY created_at, subject"), (edition, lookup),
            ).fetchall()  # fmt: skip
        return [r[0] for r in rows]

    def erase_subjects(self, subjects: Sequence[str]) -> int:
        with self._lock, self._conn.transaction():
            gone = self._conn.execute(
                self._q("DELETE FROM {schema}.subject_keys WHERE subject = ANY(%s)"),
                (list(subjects),),
            ).rowcount
        return int(gone)

    def compact(self) -> None:
        """VACUUM the tables whose dead rows could still hold a key or the views' copies
        of personal fields (it frees their space for reuse; FULL would rewrite the files
        but lock every reader out)."""
        with self._lock:
            for table in ("subject_keys", "view_rows"):  # the connection is in autocommit
                self._conn.execute(self._q(f"VACUUM {{schema}}.{table}"))

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
        return self._reading(lambda conn: conn.execute(self._q(query), args).fetchall())

    def _reading(
        self, read: Callable[[psycopg.Connection[Any]], list[tuple[Any, ...]]]
    ) -> list[RecordedEvent]:
        with self._lock:
            try:
                rows = read(self._conn)
            except psycopg.OperationalError as exc:
                self._reconnect()
                raise StoreUnavailable("postgres_no_answer", detail=str(exc).strip()) from exc
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
    ) -> Iterator[tuple[int, str, int, bytes, bytes]]:
        with self._lock:
            rows = self._conn.execute(
                self._q("SELECT version, type, schema_version, payload, event_id FROM "
                        "{schema}.events WHERE stream_id = %s AND version >= %s ORDER BY version"),
                (stream_id, from_version),
            ).fetchall()  # fmt: skip
        return ((v, t, s, bytes(p), i.bytes) for v, t, s, p, i in rows)

    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]:
        query = self._q(
            f"SELECT {_COLUMNS} FROM {{schema}}.events WHERE position > %s "
            "AND position <= %s ORDER BY position LIMIT %s"
        )

        def read(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
            # The settled position in a statement of its own: the rows are then read with
            # a later snapshot, in which every position up to it is final.
            found = conn.execute(self._settled_query, (self._gate, self._space)).fetchone()
            settled = found[0] if found else 0
            return conn.execute(query, (after_position, settled, limit)).fetchall()

        return iter(self._reading(read))

    def head_position(self) -> int:
        """The position of the last event appended; 0 when there is none."""
        with self._lock:
            row = self._conn.execute(self._q("SELECT coalesce(max(position), 0) FROM "
                                             "{schema}.events")).fetchone()  # fmt: skip
        return int(row[0]) if row else 0

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
        # Registered after LISTEN: a writer that sees the row announces to this connection.
        # Rows of connections that are gone (a subscriber killed) are swept on the way.
        with contextlib.suppress(errors.UndefinedTable):
            listener.execute(self._q(
                "DELETE FROM {schema}.listeners WHERE pid NOT IN "
                "(SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL); "
            ))  # fmt: skip
            listener.execute(self._q(
                "INSERT INTO {schema}.listeners (pid) VALUES (pg_backend_pid()) "
                "ON CONFLICT DO NOTHING"
            ))  # fmt: skip

        def wait(seconds: float) -> None:
            for _ in listener.notifies(timeout=seconds, stop_after=1):
                pass

        try:
            yield from catch_up(self.read_all, after_position, stop, poll_interval * 10,
                                idle_timeout, wait)  # fmt: skip
        finally:
            with contextlib.suppress(psycopg.Error):
                listener.execute(self._q(
                    "DELETE FROM {schema}.listeners WHERE pid = pg_backend_pid()"
                ))  # fmt: skip
            listener.close()

    # -- views ---------------------------------------------------------------------

    def view_position(self, view: str) -> int:
        with self._lock:
            row = self._conn.execute(
                self._q("SELECT position FROM {schema}.view_positions WHERE view = %s"), (view,)
            ).fetchone()
        return int(row[0]) if row else 0

    def read_view(self, view: str, prefix: str = "") -> Iterator[tuple[str, bytes]]:
        with self._lock:
            rows = self._conn.execute(
                self._q("SELECT key, data FROM {schema}.view_rows WHERE view = %s "
                        "AND starts_with(key, %s) ORDER BY key COLLATE \"C\""),
                (view, prefix),
            ).fetchall()  # fmt: skip
        return iter([(k, bytes(d)) for k, d in rows])

    def read_view_row(self, view: str, key: str) -> bytes | None:
        with self._lock:
            row = self._conn.execute(
                self._q("SELECT data FROM {schema}.view_rows WHERE view = %s AND key = %s"),
                (view, key),
            ).fetchone()
        return None if row is None else bytes(row[0])

    def write_view(
        self, view: str, expected: int, position: int, rows: Mapping[str, bytes | None]
    ) -> bool:
        with self._lock:
            conn = self._conn
            try:
                with conn.transaction():
                    conn.execute(self._q(
                        "INSERT INTO {schema}.view_positions (view, position) VALUES (%s, 0) "
                        "ON CONFLICT (view) DO NOTHING"), (view,))  # fmt: skip
                    found = conn.execute(self._q(
                        "SELECT position FROM {schema}.view_positions WHERE view = %s "
                        "FOR UPDATE"), (view,)).fetchone()  # fmt: skip
                    if found is None or int(found[0]) != expected:
                        raise _Stale
                    gone = [k for k, v in rows.items() if v is None]
                    if gone:
                        conn.execute(self._q("DELETE FROM {schema}.view_rows WHERE view = %s "
                                             "AND key = ANY(%s)"), (view, gone))  # fmt: skip
                    kept = [(view, k, v) for k, v in rows.items() if v is not None]
                    if kept:
                        with conn.cursor() as cur:
                            cur.executemany(self._q(
                                "INSERT INTO {schema}.view_rows (view, key, data) "
                                "VALUES (%s, %s, %s) ON CONFLICT (view, key) "
                                "DO UPDATE SET data = excluded.data"), kept)  # fmt: skip
                    conn.execute(self._q("UPDATE {schema}.view_positions SET position = %s "
                                         "WHERE view = %s"), (position, view))  # fmt: skip
                return True
            except _Stale:
                return False
            except psycopg.OperationalError as exc:
                self._reconnect()
                raise StoreUnavailable("postgres_lost", detail=str(exc).strip()) from exc

    def drop_view(self, view: str) -> None:
        with self._lock, self._conn.transaction():
            self._conn.execute(self._q("DELETE FROM {schema}.view_rows WHERE view = %s"), (view,))
            self._conn.execute(self._q("DELETE FROM {schema}.view_positions WHERE view = %s"),
                               (view,))  # fmt: skip

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _Stale(Exception):
    """The view moved on since it was read: the write is rolled back."""


def _row(e: RecordedEvent) -> tuple[Any, ...]:
    """The columns of an event after its position."""
    m = e.metadata
    return (
        e.event_id, e.stream_id, e.version, e.type, e.schema_version, e.payload,
        m.actor, m.recorded_at, m.correlation_id, m.causation_id, e.prev_hash, e.hash,
    )  # fmt: skip


# The prepared call of append_event: its name, its parameters' types (uuid, text, int4,
# text, int4, bytea, text × 6, int8, int4) and formats (the payload travels as binary, the rest
# as text).
_ON_HEAD = b"creneau_append_event"
_ON_HEAD_TYPES = [2950, 25, 23, 25, 23, 17, 25, 25, 25, 25, 25, 25, 20, 23]
_ON_HEAD_FORMATS = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)
_NO_SUCH_STATEMENT = b"26000"


def _raise_for(pgconn: pq.abc.PGconn, result: pq.abc.PGresult) -> None:
    """Raise what psycopg would have raised for a failed libpq result."""
    if result.status in _OK:
        return
    message = (result.error_message or pgconn.error_message).decode(errors="replace").strip()
    if pgconn.status != pq.ConnStatus.OK:
        raise psycopg.OperationalError(message or "the connection to PostgreSQL was lost")
    state = result.error_field(pq.DiagnosticField.SQLSTATE)
    try:
        error = errors.lookup(state.decode()) if state else psycopg.DatabaseError
    except KeyError:
        error = psycopg.DatabaseError
    raise error(message)


def new_schema_name() -> str:
    return "t_" + uuid.uuid4().hex[:20]
