"""The shared contract on a real PostgreSQL (127.0.0.1:5432, database test); every
test works in a schema of its own and drops it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import psycopg
import pytest
from psycopg import sql

from creneau.events_store.postgres import (
    LISTENERS_CHECK_INTERVAL,
    MIGRATIONS,
    PostgresEventStore,
    new_schema_name,
)
from tests.contract.contract import EventStoreContract
from tests.postgres import DSN
from tests.strategies import batch

pytestmark = pytest.mark.postgres


class TestPostgresStore(EventStoreContract):
    made: ClassVar[list[PostgresEventStore]] = []

    @pytest.fixture(autouse=True)
    def _drop_schemas(self) -> Iterator[None]:
        yield
        while self.made:
            store = self.made.pop()
            cleaner = PostgresEventStore(DSN, schema=store.schema, migrate=False)
            cleaner.drop()
            cleaner.close()

    def make_store(self, tmp_path: Path, name: str = "store") -> PostgresEventStore:
        store = PostgresEventStore(DSN, schema=new_schema_name())
        self.made.append(store)
        return store

    def second_handle(self, store: PostgresEventStore, tmp_path: Path) -> PostgresEventStore:
        return PostgresEventStore(DSN, schema=store.schema, migrate=False)

    def test_migrations_are_versioned_and_idempotent(self, store: PostgresEventStore) -> None:
        assert store.migrate() == store.migrate() == len(MIGRATIONS) == store.schema_version()

    def test_a_listening_subscription_is_woken_by_the_append(
        self, store: PostgresEventStore
    ) -> None:
        store.append("s", batch(1), 0)
        stop = threading.Event()
        seen: list[tuple[str, int]] = []

        def follow() -> None:
            # Its own periodic read comes only every 300 s: only a NOTIFY can wake it.
            for event in store.subscribe(0, stop=stop, poll_interval=30):
                seen.append((event.stream_id, event.version))
                if len(seen) == 2:
                    stop.set()

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self._listeners(store) == 1
        writer = PostgresEventStore(DSN, schema=store.schema, migrate=False)
        try:
            started = time.monotonic()
            writer.append("t", batch(1), 0)
            reader.join(timeout=10)
            assert not reader.is_alive()
            assert time.monotonic() - started < 5
        finally:
            writer.close()
        assert seen == [("s", 1), ("t", 1)]
        assert self._listeners(store) == 0  # the subscription took its registration away

    def test_writers_stop_announcing_once_nobody_listens(self, store: PostgresEventStore) -> None:
        # A connection that LISTENs without registering hears what a writer announces
        # while a subscription is registered, and nothing once none is.
        with psycopg.connect(DSN, autocommit=True) as ear:
            ear.execute(sql.SQL("LISTEN {}").format(sql.Identifier(store.channel)))
            store.append("s", batch(1), 0)
            registered = store.subscribe(0, poll_interval=0.01, idle_timeout=5)
            assert next(registered).version == 1  # the subscription is now registered
            time.sleep(LISTENERS_CHECK_INTERVAL)
            store.append("s", batch(1), 1)
            assert [n.payload for n in ear.notifies(timeout=2, stop_after=1)]
            assert next(registered).version == 2
            registered.close()
            assert self._listeners(store) == 0
            time.sleep(LISTENERS_CHECK_INTERVAL)
            store.append("s", batch(1), 2)
            assert not list(ear.notifies(timeout=0.5, stop_after=1))

    @staticmethod
    def _listeners(store: PostgresEventStore) -> int:
        with psycopg.connect(DSN, autocommit=True) as conn:
            query = sql.SQL("SELECT count(*) FROM {}.listeners").format(
                sql.Identifier(store.schema)
            )
            row = conn.execute(query).fetchone()
        return int(row[0]) if row else -1
