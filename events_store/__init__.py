"""Event store backends: in memory, and SQLite (the embedded default)."""

from creneau.events_store.memory import MemoryEventStore
from creneau.events_store.sqlite import SQLiteEventStore

__all__ = ["MemoryEventStore", "SQLiteEventStore"]
