"""Wires the engine together: a store from its address, and the services on top of it."""

from __future__ import annotations

from pathlib import Path

from events_store import MemoryEventStore, SQLiteEventStore
from scheduler import CreneauError, EditionService, EventStore

__all__ = ["StoreNotFound", "build", "open_store"]


class StoreNotFound(CreneauError):
    pass


def open_store(address: str, *, create: bool = False) -> EventStore:
    """A store from its address: ``memory:`` or a SQLite file path (``sqlite:`` optional)."""
    if address == "memory:":
        return MemoryEventStore()
    path = Path(address.removeprefix("sqlite:"))
    if not create and not path.exists():
        raise StoreNotFound(f"no store at {path} (import an edition to create one)")
    if create and not path.parent.exists():
        raise StoreNotFound(f"cannot create a store at {path}: {path.parent} does not exist")
    return SQLiteEventStore(path)


def build(store: EventStore) -> EditionService:
    return EditionService(store)
