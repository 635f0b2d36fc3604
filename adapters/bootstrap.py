"""Wires the engine together, once, for every entry point: the command line, an
application that embeds Créneau, a server, a worker. ``open_engine`` takes every port —
the store (by address, or one already open), the solver, the clock, who acts, the
language — with defaults, and returns the engine."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from creneau.events_store import MemoryEventStore, SQLiteEventStore
from creneau.scheduler import Command, EditionService, EventStore, RecordedEvent, Solver, StoreError

__all__ = ["Engine", "StoreNotFound", "build", "is_postgres", "open_engine", "open_store",
           "postgres_parts"]  # fmt: skip


class StoreNotFound(StoreError):
    """No store at the address given (and none was to be created)."""


def is_postgres(address: str) -> bool:
    return address.startswith(("postgresql://", "postgres://"))


def postgres_parts(address: str) -> tuple[str, str]:
    """The connection string and the schema of a PostgreSQL store's address."""
    parts = urllib.parse.urlsplit(address)
    query = urllib.parse.parse_qs(parts.query)
    schema = query.pop("schema", ["creneau"])[0]
    dsn = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, doseq=True)))
    return dsn, schema


def _postgres(address: str, create: bool) -> EventStore:
    from creneau.events_store.postgres import MIGRATIONS, PostgresEventStore

    dsn, schema = postgres_parts(address)
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


class Engine:
    """Créneau, wired: the store, the application service on it, the solver (built when
    first asked for: OR-Tools is imported only by what solves), who acts, the words of
    the language chosen. Close it (or use it as a context manager) to close the store."""

    def __init__(
        self,
        store: EventStore,
        *,
        actor: str | None,
        solver: Solver | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        lang: str = "fr",
    ) -> None:
        self.store = store
        self.actor = actor
        self.lang = lang
        self._solver = solver
        extra: dict[str, Any] = {} if clock is None else {"clock": clock}
        self.service = EditionService(store, actor=actor, **extra)

    @property
    def solver(self) -> Solver:
        if self._solver is None:
            from creneau.solver import CpSatSolver

            self._solver = CpSatSolver()
        return self._solver

    @property
    def words(self) -> Any:
        from creneau.adapters._i18n import words

        return words(self.lang)

    def execute(self, command: Command, *, edition_id: str | None = None) -> list[RecordedEvent]:
        """Run a command as the engine's actor."""
        return self.service.execute(command, edition_id=edition_id)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_engine(
    store: str | EventStore = "memory:",
    *,
    actor: str | None = None,
    solver: Solver | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    lang: str = "fr",
    create: bool = True,
    read_only: bool = False,
) -> Engine:
    """The engine on a store: an address (``memory:``, a SQLite file, ``postgresql://…``)
    or a store already open. ``actor``: who the commands are recorded as (each command
    may name another); without one, writing is refused. ``create``: make the store when
    it does not exist yet; ``read_only``: open it only to read."""
    opened = store if not isinstance(store, str) else open_store(
        store, create=create and not read_only, read_only=read_only)  # fmt: skip
    return Engine(opened, actor=actor, solver=solver, clock=clock, lang=lang)


def build(store: EventStore, *, actor: str | None = None) -> EditionService:
    return EditionService(store, actor=actor)
