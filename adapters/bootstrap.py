"""Wires the engine together: a store from its address, and the services on top of it."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from events_store import MemoryEventStore, SQLiteEventStore
from scheduler import CreneauError, EditionService, EventStore

__all__ = ["StoreNotFound", "build", "open_store"]


class StoreNotFound(CreneauError):
    pass


def _postgres(address: str, create: bool) -> EventStore:
    from events_store.postgres import MIGRATIONS, PostgresEventStore

    parts = urllib.parse.urlsplit(address)
    query = urllib.parse.parse_qs(parts.query)
    schema = query.pop("schema", ["creneau"])[0]
    dsn = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, doseq=True)))
    store = PostgresEventStore(dsn, schema=schema, migrate=False)
    version = store.schema_version()
    if version == 0 and not create:
        store.close()
        raise StoreNotFound(
            f'no store in schema "{schema}" of that database (import an '
            "edition, or run `creneau store migrate`, to create one)"
        )
    if version < len(MIGRATIONS):
        if version and not create:
            store.close()
            raise StoreNotFound(
                f"the store is at schema version {version}; this Créneau needs "
                f"{len(MIGRATIONS)}: run `creneau store migrate`"
            )
        store.migrate()
    return store


def open_store(address: str, *, create: bool = False) -> EventStore:
    """A store from its address: ``memory:``, ``postgresql://…[?schema=NAME]``, or a SQLite
    file path (``sqlite:`` optional)."""
    if address == "memory:":
        return MemoryEventStore()
    if address.startswith(("postgresql://", "postgres://")):
        return _postgres(address, create)
    path = Path(address.removeprefix("sqlite:"))
    if not create and not path.exists():
        raise StoreNotFound(f"no store at {path} (import an edition to create one)")
    if create and not path.parent.exists():
        raise StoreNotFound(f"cannot create a store at {path}: {path.parent} does not exist")
    return SQLiteEventStore(path)


def build(store: EventStore) -> EditionService:
    return EditionService(store)
