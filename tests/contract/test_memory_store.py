from pathlib import Path

from creneau.events_store import MemoryEventStore
from tests.contract.contract import EventStoreContract


class TestMemoryStore(EventStoreContract):
    def make_store(self, tmp_path: Path, name: str = "store") -> MemoryEventStore:
        return MemoryEventStore()
