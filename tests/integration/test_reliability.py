"""What an event store promises, tested the way trusted stores test it: contended
writers, a writer killed mid-batch, a connection cut mid-append, a late commit, and
history rewritten by someone who recomputed every hash."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest

from creneau.events_store.postgres import PostgresEventStore, new_schema_name
from creneau.scheduler import (
    CheckpointError,
    ConcurrencyError,
    StoreUnavailable,
    checkpoint,
    parse_checkpoint,
    verify_against,
)
from tests.integration.reliability_helpers import DSN, ROOT, contended_writer, open_named
from tests.postgres import require as require_postgres
from tests.strategies import batch, new_event


@pytest.fixture(params=["sqlite", "postgres"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A fresh, migrated store location for each backend; PostgreSQL schemas are dropped."""
    kind = request.param
    if kind == "postgres":
        require_postgres()
    place = str(tmp_path / "store.db") if kind == "sqlite" else new_schema_name()
    open_named(kind, place).close()
    yield kind, place
    if kind == "postgres":
        cleaner = PostgresEventStore(DSN, schema=place, migrate=False)
        cleaner.drop()
        cleaner.close()


@pytest.mark.slow
def test_eight_processes_five_hundred_appends_each(where: tuple[str, str]) -> None:
    kind, place = where
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        conflicts = pool.starmap(contended_writer, [(kind, place, 500, "shared")] * 8)
    store = open_named(kind, place, migrate=False)
    events = list(store.read_stream("shared"))
    assert [e.version for e in events] == list(range(1, 4001))
    assert len({e.event_id for e in events}) == 4000
    assert store.verify() is None
    assert sum(conflicts) > 0  # they really did contend
    store.close()


def test_a_killed_writer_leaves_only_whole_acknowledged_batches(where: tuple[str, str]) -> None:
    kind, place = where
    writer = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "integration" / "reliability_helpers.py"),
         kind, place],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert writer.stdout is not None
    acknowledged = [int(writer.stdout.readline()) for _ in range(20)]
    writer.send_signal(signal.SIGKILL)  # mid-batch, most likely: it never stops appending
    writer.wait()
    store = open_named(kind, place, migrate=False)
    events = list(store.read_stream("stream"))
    batches: dict[int, int] = {}
    for e in events:
        body = json.loads(e.payload)
        batches[body["batch"]] = batches.get(body["batch"], 0) + 1
    assert set(acknowledged) <= set(batches)
    assert all(count == 50 for count in batches.values()), "no partial batch"
    assert store.verify() is None
    store.close()


@pytest.mark.postgres
def test_late_commit_is_never_skipped_by_a_catch_up_reader() -> None:
    """A draws a position and stays open; B, whose transaction is the older one (so that
    ordering by transaction id would not help), draws a higher one and commits. B cannot
    be delivered before A is known: committed (A then B) or rolled back (B alone)."""
    schema = new_schema_name()
    a, b, reader = (PostgresEventStore(DSN, schema=schema) for _ in range(3))
    start = 0
    try:
        for a_commits in (True, False):
            b_tx = b._conn.transaction()
            b_tx.__enter__()
            b._conn.execute("SELECT pg_current_xact_id()")  # B's transaction id comes first
            a_tx = a._conn.transaction()
            a_tx.__enter__()
            (late,) = a._append(f"a-{a_commits}", [new_event(1)], 0)
            (early,) = b._append(f"b-{a_commits}", [new_event(2)], 0)
            b_tx.__exit__(None, None, None)  # B commits first
            assert early.position > late.position
            assert list(reader.read_all(start)) == [], "nothing of B before A is known"
            if a_commits:
                a_tx.__exit__(None, None, None)
            else:
                a_tx.__exit__(RuntimeError, RuntimeError("roll back"), None)
            expected = [late.position, early.position] if a_commits else [early.position]
            assert [e.position for e in reader.read_all(start)] == expected
            start = early.position
    finally:
        a.drop()
        for store in (a, b, reader):
            store.close()


@pytest.fixture
def pg_store() -> Iterator[PostgresEventStore]:
    require_postgres()
    """A store in a schema of its own, dropped afterwards."""
    store = PostgresEventStore(DSN, schema=new_schema_name())
    yield store
    store.drop()
    store.close()


@pytest.fixture
def blocker() -> Iterator[psycopg.Connection[Any]]:
    require_postgres()
    """A second connection, to hold what an append then waits on."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        yield conn


def test_connection_cut_during_an_append(
    pg_store: PostgresEventStore, blocker: psycopg.Connection[Any]
) -> None:
    store, events = pg_store, batch(3)
    with blocker.transaction():
        # Hold the stream's lock, so that the append is under way and waiting on it.
        blocker.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{store.schema}:s",))
        outcome = _cut_while_waiting(store, blocker, lambda: store.append("s", events, 0))
    assert isinstance(outcome, StoreUnavailable)
    assert outcome.code == "postgres_lost" and "connection" in outcome.params["detail"]
    _stored_once_on_retry(store, events, 0)


def test_connection_cut_during_a_single_event_append(
    pg_store: PostgresEventStore, blocker: psycopg.Connection[Any]
) -> None:
    """The one-statement path (one event on a head the store knows) fails as cleanly."""
    store = pg_store
    store.append("s", batch(1), 0)  # the store now knows the head
    event = batch(1)[0]
    with blocker.transaction():
        # An uncommitted row at version 2: the append's UNIQUE check waits for it.
        blocker.execute(
            f"INSERT INTO {store.schema}.events (position, event_id, stream_id, version, type, "
            "schema_version, payload, actor, recorded_at, correlation_id, causation_id, "
            "prev_hash, hash) VALUES (-1, gen_random_uuid(), 's', 2, 't', 1, '', 'a', "
            "'', '', NULL, '', '')"
        )
        outcome = _cut_while_waiting(store, blocker, lambda: store.append("s", [event], 1))
        raise psycopg.Rollback  # the blocking row goes away
    assert isinstance(outcome, StoreUnavailable)
    assert outcome.code == "postgres_lost"
    _stored_once_on_retry(store, [event], 1)


def _stored_once_on_retry(
    store: PostgresEventStore, events: list[Any], expected_version: int
) -> None:
    """After the cut: the retry stores the batch (on a new connection), once more stores
    nothing twice, and the chain holds."""
    stored = store.append("s", events, expected_version)
    assert store.append("s", events, expected_version) == stored
    assert store.stream_version("s") == expected_version + len(events)
    assert store.verify() is None


@pytest.mark.postgres
def test_a_stale_head_is_refused_on_the_single_event_path() -> None:
    schema = new_schema_name()
    a = PostgresEventStore(DSN, schema=schema)
    b = PostgresEventStore(DSN, schema=schema, migrate=False)
    try:
        a.append("s", batch(1), 0)  # a remembers version 1 as the head
        b.append("s", batch(1), 1)
        late = batch(1)
        with pytest.raises(ConcurrencyError) as refused:
            a.append("s", late, 1)
        assert (refused.value.expected, refused.value.actual) == (1, 2)
        with pytest.raises(ConcurrencyError):  # the locked path, rolled back: psycopg
            a.append("s", late, 1)  # then deallocates every prepared statement
        assert [e.version for e in a.append("s", late, 2)] == [3]
        assert [e.version for e in a.append("s", batch(1), 3)] == [4]  # on the known head
        assert a.stream_version("s") == 4 and a.verify() is None
    finally:
        a.drop()
        a.close()
        b.close()


def _cut_while_waiting(
    store: PostgresEventStore, blocker: psycopg.Connection[Any], append: Any
) -> Any:
    """Run ``append`` in a thread until it waits on a lock ``blocker`` holds, end its
    connection from the server side, and return what it returned or raised."""
    outcome: list[Any] = []
    writer = threading.Thread(target=lambda: outcome.append(_try(append)))
    writer.start()
    pid = store._conn.info.backend_pid
    _wait_until_waiting(blocker, pid)
    blocker.execute("SELECT pg_terminate_backend(%s)", (pid,))
    writer.join(10)
    return outcome[0]


def _try(fn: Any) -> Any:
    try:
        return fn()
    except Exception as exc:
        return exc


def _wait_until_waiting(conn: psycopg.Connection[Any], pid: int) -> None:
    for _ in range(200):
        row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                           (pid,)).fetchone()  # fmt: skip
        if row and row[0] == "Lock":
            return
        threading.Event().wait(0.02)
    raise AssertionError("the append never waited on the lock")


def test_rewritten_history_passes_verify_but_not_the_checkpoint(
    where: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kind, place = where
    store = open_named(kind, place, migrate=False)
    history = batch(30)
    store.append("edition-x", history[:20], 0)
    kept = checkpoint(store)
    store.append("edition-x", history[20:], 20)
    store.close()
    # Someone with write access rewrites event 5 and recomputes every hash after it:
    # here, by writing the whole altered history again into an empty store.
    altered = list(history)
    altered[4] = msgspec.structs.replace(altered[4], payload=b'{"n":"forged"}')
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(place + suffix).unlink(missing_ok=True)
    else:
        cleaner = PostgresEventStore(DSN, schema=place, migrate=False)
        cleaner.drop()
        cleaner.close()
    forged = open_named(kind, place)
    forged.append("edition-x", altered, 0)
    assert forged.verify() is None  # the chain alone cannot tell
    problems = verify_against(forged, parse_checkpoint(kept.text()))
    assert problems == [("rewritten", "edition-x", 20)]
    forged.close()
    # The command line says the same.
    from creneau.adapters.cli import main

    address = place if kind == "sqlite" else f"{DSN}?schema={place}"
    (tmp_path / "kept.txt").write_text(kept.text())
    capsys.readouterr()
    assert main(["verify", "--store", address]) == 0
    assert main(["--lang", "en", "verify", "--store", address, "--against",
                 str(tmp_path / "kept.txt")]) == 1  # fmt: skip
    assert 'REWRITTEN: "x" version 20 is not what was checkpointed' in capsys.readouterr().out
    # The digest alone, as a committee writes it in its minutes, says the same.
    assert main(["verify", "--store", address, "--against", kept.digest]) == 1
    assert "RÉÉCRIT : aucun moment" in capsys.readouterr().out


def test_a_checkpoint_copied_wrong_is_refused() -> None:
    text = "creneau-checkpoint@1 0000000000000000\nedition-x 20 abcdef\n"
    with pytest.raises(CheckpointError, match="checkpoint_digest"):
        parse_checkpoint(text)
