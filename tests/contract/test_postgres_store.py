"""The shared contract on a real PostgreSQL (127.0.0.1:5432, database test); every
test works in a schema of its own and drops it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from events_store.postgres import MIGRATIONS, PostgresEventStore, new_schema_name
from tests.contract.contract import EventStoreContract

DSN = os.environ.get("CRENEAU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


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
