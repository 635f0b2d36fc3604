"""Wires the engine together: a store from its address, and the services on top of it."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from events_store import MemoryEventStore, SQLiteEventStore
from scheduler import EditionService, EventStore, StoreError

__all__ = ["StoreNotFound", "build", "is_postgres", "open_store"]


class StoreNotFound(StoreError):
    """No store at the address given (and none was to be created)."""


def is_postgres(address: str) -> bool:
    return address.startswith(("postgresql://", "postgres://"))


def _postgres(address: str, create: bool) -> EventStore:
    from events_store.postgres import MIGRATIONS, PostgresEventStore

    parts = urllib.parse.urlsplit(address)
    query = urllib.parse.parse_qs(parts.query)
    schema = query.pop("schema", ["creneau"])[0]
    dsn = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, doseq=True)))
    store = PostgresEventStore(dsn, schema=schema, migrate=False)
    version = store.schema_version()
    known = len(MIGRATIONS)
    if version > known:
        store.close()
        raise StoreError("store_schema_newer", path=f"schema {schema}", found=version, known=known)
    if version == 0 and not create:
        store.close()
        raise StoreNotFound("no_postgres_store", schema=schema)
    if version < known:
        if version and not create:
            store.close()
            raise StoreNotFound("store_schema_older", found=version, known=known)
        store.migrate()
    return store


def open_store(address: str, *, create: bool = False, read_only: bool = False) -> EventStore:
    """A store from its address: ``memory:``, ``postgresql://…[?schema=NAME]``, or a SQLite
    file path (``sqlite:`` optional). ``read_only``: a SQLite store opened without write
    access (nothing on a read-only medium stops it being read and verified)."""
    if address == "memory:":
        return MemoryEventStore()
    if is_postgres(address):
        return _postgres(address, create)
    path = Path(address.removeprefix("sqlite:"))
    if not create and not path.exists():
        raise StoreNotFound("no_store", path=str(path))
    if create and not path.parent.exists():
        raise StoreNotFound("no_store_folder", path=str(path), folder=str(path.parent))
    return SQLiteEventStore(path, read_only=read_only and not create)


def build(store: EventStore) -> EditionService:
    return EditionService(store)
