from pathlib import Path

from creneau.events_store import SQLiteEventStore
from tests.contract.contract import EventStoreContract


class TestSQLiteStore(EventStoreContract):
    def make_store(self, tmp_path: Path, name: str = "store") -> SQLiteEventStore:
        return SQLiteEventStore(tmp_path / f"{name}.db")

    def second_handle(self, store: SQLiteEventStore, tmp_path: Path) -> SQLiteEventStore:
        return SQLiteEventStore(store.path)
