"""Event store backends: in memory, and SQLite (the embedded default)."""

from events_store.memory import MemoryEventStore
from events_store.sqlite import SQLiteEventStore

__all__ = ["MemoryEventStore", "SQLiteEventStore"]
