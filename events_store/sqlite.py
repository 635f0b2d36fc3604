"""The embedded event store: one SQLite file, WAL journal, every commit durable.

Storage is commit-oriented, as in NEventStore: an appended batch is one row of
``commits`` holding its events as one MessagePack blob, plus one row per event in
``event_ids`` (a 16-byte key) that makes an event id impossible to store twice. A
batch of a thousand events thus costs one wide row and a thousand narrow ones instead
of a thousand wide rows with three indexes each.

The schema itself keeps a stream's versions unique: a commit names its first and last
version, both UNIQUE within the stream, and a trigger refuses a commit whose versions
overlap one already stored. Writers take the write lock up front (``BEGIN
IMMEDIATE``) and wait for it up to a busy timeout, so two processes appending to one
file queue instead of failing; the expected-version check and the inserts happen under
that lock.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from creneau.events_store._common import StoreReadMixin, is_retry, seal
from creneau.scheduler._envelope import (
    GENESIS_HASH,
    Metadata,
    NewEvent,
    RecordedEvent,
    SubjectKey,
)
from creneau.scheduler._errors import (
    ConcurrencyError,
    DuplicateEventError,
    StoreError,
    StoreUnavailable,
)

__all__ = [
    "APPLICATION_ID",
    "KEYS",
    "MIGRATIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SQLiteEventStore",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    stream_no      INTEGER PRIMARY KEY,
    stream_id      TEXT    NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS commits (
    first_position INTEGER PRIMARY KEY,            -- global position of its first event
    last_position  INTEGER NOT NULL,
    stream_no      INTEGER NOT NULL REFERENCES streams (stream_no),
    first_version  INTEGER NOT NULL CHECK (first_version >= 1),
    last_version   INTEGER NOT NULL,
    last_hash      BLOB    NOT NULL,               -- hash of its last event: the chain head
    events         BLOB    NOT NULL,               -- MessagePack array of stored events
    -- With the trigger below, this also keeps first versions unique.
    UNIQUE (stream_no, last_version),
    CHECK (last_version - first_version = last_position - first_position),
    CHECK (last_version >= first_version)
);
CREATE TRIGGER IF NOT EXISTS commits_versions_do_not_overlap
BEFORE INSERT ON commits
WHEN EXISTS (SELECT 1 FROM commits
             WHERE stream_no = NEW.stream_no AND last_version >= NEW.first_version)
BEGIN
    SELECT RAISE(ABORT, 'versions overlap a stored commit of this stream');
END;
CREATE TABLE IF NOT EXISTS event_ids (
    event_id       BLOB    PRIMARY KEY,            -- the UUID's 16 bytes
    position       INTEGER NOT NULL
) WITHOUT ROWID;
"""
# Views: rows a projection keeps, and the global position it has folded up to, written
# together in one transaction (compare-and-set on the position).
VIEWS = """
CREATE TABLE IF NOT EXISTS view_positions (
    view           TEXT    PRIMARY KEY,
    position       INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS view_rows (
    view           TEXT    NOT NULL,
    key            TEXT    NOT NULL,
    data           BLOB    NOT NULL,
    PRIMARY KEY (view, key)
) WITHOUT ROWID;
"""
# Versioned migrations (PRAGMA user_version counts those applied); never edited once
# released.
# The data subjects' keys, outside the hash chain: destroying one erases a person.
KEYS = """
CREATE TABLE IF NOT EXISTS subject_keys (
    subject        TEXT    PRIMARY KEY,
    edition        TEXT    NOT NULL,
    lookup         BLOB    NOT NULL,
    key            BLOB    NOT NULL,
    created_at     TEXT    NOT NULL
) WITHOUT ROWID;
"""
MIGRATIONS: tuple[str, ...] = (SCHEMA, VIEWS, KEYS)
SCHEMA_VERSION = len(MIGRATIONS)


# Under the write lock: the last global position in the store, and in the same statement
# the stream's head (no row when the stream has no commit yet).
_TAIL = "SELECT last_position FROM commits ORDER BY first_position DESC LIMIT 1"
_HEAD = f"""
SELECT last_version, last_hash, ({_TAIL}) FROM commits WHERE stream_no = ?
ORDER BY last_version DESC LIMIT 1
"""
# A batch's event ids go in as one statement over their concatenated 16-byte forms (a
# recursive CTE counts through them) rather than one bound statement per event: SQLite
# steps through the rows itself, a fraction of executemany's cost per row (measured: 1.0
# against 2.7 µs an event in batches of 1,000). Below a few events the CTE's own set-up
# costs more than it saves (15 against 9 µs for one event), so small batches bind rows.
_INSERT_EVENT_IDS = """
WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2)
INSERT INTO event_ids (event_id, position) SELECT substr(?1, i * 16 + 1, 16), ?3 + i FROM n
"""
_INSERT_EVENT_ID = "INSERT INTO event_ids (position, event_id) VALUES (?, ?)"
_SET_INSERT_FROM = 8


class _Event(msgspec.Struct, array_like=True, gc=False):
    event_id: uuid.UUID  # kept as its 16 bytes
    type: str
    schema_version: int
    meta: int  # index in the commit's metadata list
    payload: bytes
    hash: bytes  # SHA-256 digest, 32 bytes


class _Commit(msgspec.Struct, array_like=True):
    """A commit's blob. Its events' stream, versions and positions are the commit row's,
    counted from the first; each event's previous hash is the one before it, starting
    from ``prev_hash``. Metadata, usually the same for a whole batch, is kept once."""

    prev_hash: bytes
    metadata: list[Metadata]
    events: list[_Event]


class _PayloadOnly(msgspec.Struct, array_like=True, gc=False):
    """An event of a commit's blob read for folding: its id left as its 16 bytes."""

    event_id: bytes
    type: str
    schema_version: int
    meta: int
    payload: bytes
    hash: bytes


class _Payloads(msgspec.Struct, array_like=True):
    prev_hash: bytes
    metadata: msgspec.Raw  # not read
    events: list[_PayloadOnly]


_encode = msgspec.msgpack.Encoder(uuid_format="bytes").encode
_decode = msgspec.msgpack.Decoder(_Commit).decode
_decode_payloads = msgspec.msgpack.Decoder(_Payloads).decode


_INSERT_KEY = (
    "INSERT OR IGNORE INTO subject_keys (subject, edition, lookup, key, "
    "created_at) VALUES (?, ?, ?, ?, ?)"
)
# Many keys of one edition and one second, each subject 16 bytes (as hex), lookup 32,
# key 16, go in as one statement over their concatenation, as the event ids do.
_INSERT_KEYS = """
WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2)
INSERT OR IGNORE INTO subject_keys (subject, edition, lookup, key, created_at)
SELECT lower(hex(substr(?1, i * 64 + 1, 16))), ?3, substr(?1, i * 64 + 17, 32),
       substr(?1, i * 64 + 49, 16), ?4 FROM n
"""


def _insert_keys(db: sqlite3.Connection, keys: Sequence[SubjectKey]) -> None:
    groups: dict[tuple[str, str], list[SubjectKey]] = {}
    rest: list[SubjectKey] = []
    for k in keys:
        if len(k.subject) == 32 and len(k.lookup) == 32 and len(k.key) == 16:
            groups.setdefault((k.edition, k.created_at), []).append(k)
        else:
            rest.append(k)
    for (edition, created_at), group in groups.items():
        try:
            packed = b"".join(bytes.fromhex(k.subject) + k.lookup + k.key for k in group)
        except ValueError:  # a subject that is not hexadecimal
            rest += group
            continue
        if len(group) < _SET_INSERT_FROM:
            rest += group
        else:
            db.execute(_INSERT_KEYS, (packed, len(group), edition, created_at))
    if rest:
        db.executemany(_INSERT_KEY, [(k.subject, k.edition, k.lookup, k.key, k.created_at)
                                     for k in rest])  # fmt: skip


def _pack(
    prev_hash: str, sealed: Sequence[RecordedEvent], raw: Sequence[tuple[bytes, bytes]]
) -> bytes:
    metas: dict[Metadata, int] = {}
    events: list[_Event] = []
    # A batch usually shares one metadata object: it is looked up by value only when
    # another one comes (hashing the struct for every event cost 5 % of an append).
    last: Metadata | None = None
    index = 0
    keep = events.append
    for e, (_, digest) in zip(sealed, raw, strict=True):
        if e.metadata is not last:
            last = e.metadata
            index = metas.setdefault(last, len(metas))
        keep(_Event(e.event_id, e.type, e.schema_version, index, e.payload, digest))
    return _encode(_Commit(bytes.fromhex(prev_hash), list(metas), events))


def _unpack(
    stream_id: str, first_position: int, first_version: int, blob: bytes
) -> Iterator[RecordedEvent]:
    commit = _decode(blob)
    prev = commit.prev_hash.hex()
    for offset, s in enumerate(commit.events):
        digest = s.hash.hex()
        yield RecordedEvent(
            event_id=s.event_id, stream_id=stream_id,
            version=first_version + offset, position=first_position + offset, type=s.type,
            schema_version=s.schema_version, payload=s.payload, metadata=commit.metadata[s.meta],
            prev_hash=prev, hash=digest,
        )  # fmt: skip
        prev = digest


APPLICATION_ID = 0x43724E75  # "CrNu": PRAGMA application_id of a Créneau store
# The tables of the first schema, before stores carried their application id.
_FIRST = frozenset({"streams", "commits", "event_ids", "commits_versions_do_not_overlap"})


def _statements(script: str) -> Iterator[str]:
    """The statements of a script, one at a time (a trigger's body holds semicolons)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""


@contextlib.contextmanager
def _reading(path: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise _store_error(path, exc, "store_damaged") from exc


def _create_private(path: Path) -> None:
    """An empty file readable by its owner only: the store holds personal data (SQLite
    gives its -wal and -shm files the same permissions)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


class SQLiteEventStore(StoreReadMixin):
    """A store in one SQLite file. ``read_only`` opens it without write access (a
    store on read-only media can still be read and verified); otherwise the file is
    created when absent. A file that is not a Créneau store is refused, unchanged."""

    def __init__(
        self, path: str | Path, *, busy_timeout: float = 30.0, read_only: bool = False
    ) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._lock = threading.Lock()
        self._stream_nos: dict[str, int] = {}
        self.schema_version = 0
        where = Path(path)
        try:
            if read_only:
                self._db = self._open_read_only(where, busy_timeout)
            else:
                if where.exists() and not (
                    os.access(where, os.W_OK) and os.access(where.parent, os.W_OK)
                ):
                    raise StoreUnavailable("store_read_only", path=self.path,
                                           detail="it cannot be written to")  # fmt: skip
                if not where.exists():
                    _create_private(where)
                self._db = sqlite3.connect(
                    self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
                )
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            self._adopt()
            if not read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
                # FULL: a commit is on disk before append() returns, WAL or not.
                self._db.execute("PRAGMA synchronous=FULL")
                # What is deleted (an erased subject's key, the views' copies of personal
                # fields) is overwritten with zeros, not left in free pages.
                self._db.execute("PRAGMA secure_delete=ON")
        except sqlite3.DatabaseError as exc:
            raise _store_error(self.path, exc, "cannot_open_store") from exc
        except OSError as exc:
            raise StoreUnavailable("cannot_open_store", path=self.path,
                                   detail=exc.strerror or str(exc)) from exc  # fmt: skip

    def _open_read_only(self, where: Path, busy_timeout: float) -> sqlite3.Connection:
        if not where.exists():
            raise StoreUnavailable("no_store", path=self.path)
        if os.access(where, os.W_OK) and os.access(where.parent, os.W_OK):
            # Writable after all: an ordinary connection (appends are refused by this
            # store), which cleans up SQLite's own -wal and -shm files when it closes.
            return sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None,
                                   check_same_thread=False)  # fmt: skip
        uri = where.resolve().as_uri()
        try:
            db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=busy_timeout,
                                 isolation_level=None, check_same_thread=False)  # fmt: skip
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError:
            # On read-only media SQLite cannot make the shared-memory file of a WAL
            # store; nobody can write there, so the file may be read as it stands, as
            # long as no write-ahead log holds events not yet in it.
            wal = Path(f"{self.path}-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise StoreUnavailable(
                    "store_read_only", path=self.path,
                    detail="its write-ahead log cannot be read without write access",
                ) from None  # fmt: skip
            return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True,
                                   isolation_level=None, check_same_thread=False)  # fmt: skip

    def _adopt(self) -> None:
        """Check that the file is a Créneau store (or empty, then make it one) before
        anything is written to it; bring an older schema up to date when writable."""
        db = self._db
        (app,) = db.execute("PRAGMA application_id").fetchone()
        (version,) = db.execute("PRAGMA user_version").fetchone()
        names = {n for (n,) in db.execute(
            "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}  # fmt: skip
        ours = app == APPLICATION_ID or (app == 0 and version == 1 and names == _FIRST)
        if not ours and (app != 0 or names or version != 0):
            raise StoreUnavailable("not_a_creneau_store", path=self.path)
        if version > SCHEMA_VERSION:
            raise StoreUnavailable("store_schema_newer", path=self.path, found=version,
                                   known=SCHEMA_VERSION)  # fmt: skip
        self.schema_version = version
        if self.read_only:
            if not ours:
                raise StoreUnavailable("no_store", path=self.path)
            return
        if ours and version == SCHEMA_VERSION and app == APPLICATION_ID:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have done it meanwhile: read again under the lock.
            (found,) = db.execute("PRAGMA user_version").fetchone()
            for script in MIGRATIONS[found:]:
                for statement in _statements(script):
                    db.execute(statement)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self.schema_version = SCHEMA_VERSION

    # -- writing -------------------------------------------------------------------

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int,
        keys: Sequence[SubjectKey] = (),
    ) -> list[RecordedEvent]:
        if self.read_only:
            raise StoreUnavailable("store_read_only", path=self.path, detail="opened to read")
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise _store_error(self.path, exc, "store_locked") from exc
            try:
                sealed = self._append_locked(stream_id, events, expected_version)
                if sealed and keys:
                    self._keys_here(write=True)
                    _insert_keys(db, keys)
                db.execute("COMMIT")
                return sealed
            except BaseException as exc:
                # SQLite may have rolled the transaction back itself (a full disk): the
                # cause must not be hidden behind "no transaction is active".
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.DatabaseError):
                        db.execute("ROLLBACK")
                self._stream_nos.clear()  # a stream created in the rolled-back transaction
                if isinstance(exc, sqlite3.DatabaseError):
                    raise _store_error(self.path, exc, "store_write_failed") from exc
                raise

    def _append_locked(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int
    ) -> list[RecordedEvent]:
        db = self._db
        stream_no = self._stream_no(stream_id)
        head = db.execute(_HEAD, (stream_no,)).fetchone()
        if head is None:  # a stream with no commit yet
            tail = db.execute(_TAIL).fetchone()
            head = (0, None, tail[0] if tail else 0)
        version, head_hash, last = head
        prev = GENESIS_HASH if head_hash is None else head_hash.hex()
        if version != expected_version:
            stored = self._stored(events)
            if stored and is_retry(stream_id, events, stored):
                return stored
            if stored:
                raise DuplicateEventError(str(stored[0].event_id))
            raise ConcurrencyError(stream_id, expected_version, version)
        if not events:
            return []
        if stream_no is None:
            stream_no = db.execute(
                "INSERT INTO streams (stream_id) VALUES (?) RETURNING stream_no", (stream_id,)
            ).fetchone()[0]
            self._stream_nos[stream_id] = stream_no
        sealed, raw = seal(stream_id, events, expected_version, prev, last + 1)
        ids = [event_id for event_id, _ in raw]
        try:
            if len(ids) < _SET_INSERT_FROM:
                db.executemany(_INSERT_EVENT_ID, enumerate(ids, last + 1))
            else:
                db.execute(_INSERT_EVENT_IDS, (b"".join(ids), len(ids), last + 1))
        except sqlite3.IntegrityError as exc:
            stored = self._stored(events)
            raise DuplicateEventError(str(stored[0].event_id if stored else "?")) from exc
        db.execute(
            "INSERT INTO commits (first_position, last_position, stream_no, first_version, "
            "last_version, last_hash, events) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                sealed[0].position, sealed[-1].position, stream_no, sealed[0].version,
                sealed[-1].version, raw[-1][1], _pack(prev, sealed, raw),
            ),
        )  # fmt: skip
        return sealed

    def _stream_no(self, stream_id: str) -> int | None:
        known = self._stream_nos.get(stream_id)
        if known is not None:
            return known
        row = self._db.execute(
            "SELECT stream_no FROM streams WHERE stream_id = ?", (stream_id,)
        ).fetchone()
        if row is not None:
            self._stream_nos[stream_id] = row[0]
        return None if row is None else int(row[0])

    def _stored(self, events: Sequence[NewEvent]) -> list[RecordedEvent]:
        """The stored events that bear the ids of ``events``, in position order."""
        ids = [e.event_id.bytes for e in events]
        positions: list[int] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            positions += [
                p for (p,) in self._db.execute(
                    f"SELECT position FROM event_ids WHERE event_id IN ({marks})", chunk
                )
            ]  # fmt: skip
        wanted = set(positions)
        if not wanted:
            return []
        rows = self._db.execute(
            f"SELECT {_COMMIT_COLUMNS} FROM commits JOIN streams USING (stream_no) "
            f"WHERE first_position >= ({_COMMIT_HOLDING}) AND first_position <= ? "
            "ORDER BY first_position",
            (min(wanted), max(wanted)),
        ).fetchall()
        return [e for e in _events_of(rows) if e.position in wanted]

    # -- keys ----------------------------------------------------------------------

    def _keys_here(self, *, write: bool = False) -> bool:
        if self.schema_version >= 3:
            return True
        if write:  # a store opened read-only and older than keys cannot seal
            raise StoreUnavailable("store_read_only", path=self.path,
                                   detail="its schema is older than personal keys")  # fmt: skip
        return False

    def subject_keys(self, subjects: Sequence[str]) -> dict[str, bytes]:
        if not self._keys_here():
            return {}
        found: list[tuple[str, bytes]] = []
        names = list(subjects)
        with self._lock, _reading(self.path):
            for start in range(0, len(names), 500):
                chunk = names[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found += self._db.execute(
                    f"SELECT subject, key FROM subject_keys WHERE subject IN ({marks})", chunk
                ).fetchall()
        return {subject: bytes(key) for subject, key in found}

    def edition_keys(self, edition: str) -> list[SubjectKey]:
        if not self._keys_here():
            return []
        with self._lock, _reading(self.path):
            rows = self._db.execute(
                "SELECT subject, lookup, key, created_at FROM subject_keys WHERE edition = ?",
                (edition,),
            ).fetchall()
        return [SubjectKey(subject=s, edition=edition, lookup=bytes(lk), key=bytes(k),
                           created_at=c) for s, lk, k, c in rows]  # fmt: skip

    def subjects_for(self, edition: str, lookup: bytes) -> list[str]:
        if not self._keys_here():
            return []
        with self._lock, _reading(self.path):
            rows = self._db.execute(
                "SELECT subject FROM subject_keys WHERE edition = ? AND lookup = ? "
                "ORDER BY created_at, subject", (edition, lookup),
            ).fetchall()  # fmt: skip
        return [r[0] for r in rows]

    def erase_subjects(self, subjects: Sequence[str]) -> int:
        """Delete the keys (zeroed in place: secure_delete)."""
        if self.read_only or not self._keys_here():
            return 0
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                gone = sum(
                    db.execute("DELETE FROM subject_keys WHERE subject = ?", (s,)).rowcount
                    for s in subjects
                )
                db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.DatabaseError):
                        db.execute("ROLLBACK")
                raise _store_error(self.path, exc, "store_write_failed") from exc
        return gone

    def compact(self) -> None:
        """Checkpoint the write-ahead log into the file and truncate it, so that no copy
        of a deleted row (zeroed in the file by secure_delete) stays in the -wal file."""
        if self.read_only:
            return
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- reading -------------------------------------------------------------------

    def stream_version(self, stream_id: str) -> int:
        with self._lock, _reading(self.path):
            (v,) = self._db.execute(
                "SELECT coalesce(max(last_version), 0) FROM commits JOIN streams "
                "USING (stream_no) WHERE stream_id = ?",
                (stream_id,),
            ).fetchone()
        return int(v)

    def _stream_commits(
        self, stream_id: str, from_version: int
    ) -> Iterator[tuple[int, int, bytes]]:
        """``(first_position, first_version, blob)`` of the commits that hold versions
        from ``from_version`` on, fetched a bounded number at a time."""
        version = from_version
        while True:
            with self._lock, _reading(self.path):
                chunk = self._db.execute(
                    "SELECT first_position, first_version, last_version, events FROM commits "
                    "JOIN streams USING (stream_no) WHERE stream_id = ? AND last_version >= ? "
                    "ORDER BY first_version LIMIT 200",
                    (stream_id, version),
                ).fetchall()
            for first_position, first_version, _, blob in chunk:
                yield first_position, first_version, blob
            if len(chunk) < 200:
                return
            version = chunk[-1][2] + 1

    def read_stream(self, stream_id: str, from_version: int = 1) -> Iterator[RecordedEvent]:
        rows = ((stream_id, *commit) for commit in self._stream_commits(stream_id, from_version))
        for e in _events_of(rows):
            if e.version >= from_version:
                yield e

    def read_payloads(
        self, stream_id: str, from_version: int = 1
    ) -> Iterator[tuple[int, str, int, bytes, bytes]]:
        for first_position, first_version, blob in self._stream_commits(stream_id, from_version):
            try:
                events = _decode_payloads(blob).events
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise StoreError("store_damaged", stream=stream_id, position=first_position,
                                 detail=str(exc)) from exc  # fmt: skip
            for offset, s in enumerate(events):
                if first_version + offset >= from_version:
                    yield (first_version + offset, s.type, s.schema_version, s.payload,
                           s.event_id)  # fmt: skip

    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]:
        with self._lock, _reading(self.path):
            # Every commit holds at least one event: `limit` commits are enough.
            rows = self._db.execute(
                f"SELECT {_COMMIT_COLUMNS} FROM commits JOIN streams USING (stream_no) "
                f"WHERE first_position >= ({_COMMIT_HOLDING}) ORDER BY first_position LIMIT ?",
                (after_position + 1, -1 if limit is None else limit),
            ).fetchall()
        events = (e for e in _events_of(rows) if e.position > after_position)
        out = list(events) if limit is None else list(itertools.islice(events, limit))
        return iter(out)

    def streams(self) -> list[str]:
        with self._lock, _reading(self.path):
            rows = self._db.execute("SELECT stream_id FROM streams ORDER BY stream_no").fetchall()
        return [r[0] for r in rows]

    # -- views ---------------------------------------------------------------------

    def _views_here(self) -> bool:
        return self.schema_version >= 2

    def view_position(self, view: str) -> int:
        if not self._views_here():
            return 0
        with self._lock, _reading(self.path):
            row = self._db.execute(
                "SELECT position FROM view_positions WHERE view = ?", (view,)
            ).fetchone()
        return int(row[0]) if row else 0

    def read_view(self, view: str, prefix: str = "") -> Iterator[tuple[str, bytes]]:
        if not self._views_here():
            return iter(())
        with self._lock, _reading(self.path):
            rows = self._db.execute(
                "SELECT key, data FROM view_rows WHERE view = ? AND key >= ? AND key < ? "
                "ORDER BY key",
                (view, prefix, prefix + "\U0010ffff"),
            ).fetchall()
        return iter([(k, bytes(d)) for k, d in rows])

    def read_view_row(self, view: str, key: str) -> bytes | None:
        if not self._views_here():
            return None
        with self._lock, _reading(self.path):
            row = self._db.execute(
                "SELECT data FROM view_rows WHERE view = ? AND key = ?", (view, key)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def write_view(
        self, view: str, expected: int, position: int, rows: Mapping[str, bytes | None]
    ) -> bool:
        if self.read_only or not self._views_here():
            return False
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                found = db.execute(
                    "SELECT position FROM view_positions WHERE view = ?", (view,)
                ).fetchone()
                if (int(found[0]) if found else 0) != expected:
                    db.execute("ROLLBACK")
                    return False
                gone = [(view, k) for k, v in rows.items() if v is None]
                kept = [(view, k, v) for k, v in rows.items() if v is not None]
                db.executemany("DELETE FROM view_rows WHERE view = ? AND key = ?", gone)
                db.executemany(
                    "INSERT INTO view_rows (view, key, data) VALUES (?, ?, ?) "
                    "ON CONFLICT (view, key) DO UPDATE SET data = excluded.data",
                    kept,
                )
                db.execute(
                    "INSERT INTO view_positions (view, position) VALUES (?, ?) "
                    "ON CONFLICT (view) DO UPDATE SET position = excluded.position",
                    (view, position),
                )
                db.execute("COMMIT")
                return True
            except sqlite3.DatabaseError as exc:
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.DatabaseError):
                        db.execute("ROLLBACK")
                raise _store_error(self.path, exc, "store_write_failed") from exc

    def drop_view(self, view: str) -> None:
        if self.read_only or not self._views_here():
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM view_rows WHERE view = ?", (view,))
            self._db.execute("DELETE FROM view_positions WHERE view = ?", (view,))
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


_COMMIT_COLUMNS = "stream_id, first_position, first_version, events"
# The first position of the commit that holds the position given as parameter.
_COMMIT_HOLDING = "SELECT coalesce(max(first_position), 0) FROM commits WHERE first_position <= ?"


def _events_of(rows: Iterable[tuple[Any, ...]]) -> Iterator[RecordedEvent]:
    for stream_id, first_position, first_version, blob in rows:
        try:
            yield from _unpack(stream_id, first_position, first_version, blob)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            raise StoreError("store_damaged", stream=stream_id, position=first_position,
                             detail=str(exc)) from exc  # fmt: skip


def _store_error(path: str, exc: sqlite3.DatabaseError, code: str) -> StoreError:
    """What SQLite reported, as the store's error: a full disk, a read-only file, a
    damaged file, a lock held too long."""
    errno = getattr(exc, "sqlite_errorcode", None)
    primary = errno & 0xFF if isinstance(errno, int) else None
    if primary == sqlite3.SQLITE_FULL:
        return StoreUnavailable("store_full", path=path)
    if primary == sqlite3.SQLITE_READONLY:
        return StoreUnavailable("store_read_only", path=path, detail=str(exc))
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StoreUnavailable("store_damaged", path=path, detail=str(exc))
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreUnavailable("store_locked", path=path, detail=str(exc))
    return StoreUnavailable(code, path=path, detail=str(exc))
