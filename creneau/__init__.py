"""Créneau: event-sourced programme scheduling and capacity for Numérique en Commun[s].

Embedding it::

    import creneau

    with creneau.open_engine("metz.db", actor="my-app") as engine:
        document = creneau.load_edition("examples/nec-metz-2023.toml")
        engine.execute(creneau.ImportEdition(snapshot=document.snapshot))
        proposal, schedule_id = engine.service.solve("nec-metz-2023", engine.solver)

Everything here is typed. The parts live in ``creneau.scheduler`` (the core: domain,
commands, events, the application service and its ports), ``creneau.events_store``
(memory, SQLite, PostgreSQL), ``creneau.solver`` (CP-SAT) and ``creneau.adapters``
(documents, the command line, wiring). The solver and the PostgreSQL store are imported
only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from creneau.adapters.bootstrap import Engine, StoreNotFound, open_engine, open_store
from creneau.adapters.edition_document import load_edition, parse_edition, to_document
from creneau.events_store import MemoryEventStore, SQLiteEventStore
from creneau.scheduler import (
    AcceptSchedule,
    AddPerson,
    AddRoom,
    AddSession,
    BookPlace,
    BookPlaces,
    CancelPlace,
    ChangePolicies,
    CloseReserve,
    Command,
    ConcurrencyError,
    CreneauError,
    EditionService,
    EditionSnapshot,
    EditionState,
    EventStore,
    ImportEdition,
    InvalidCommand,
    MoveSession,
    OpenReserve,
    Person,
    PinSession,
    Problem,
    RecordedEvent,
    Room,
    ScheduleDocument,
    Session,
    SolveParameters,
    SolveProgramme,
    Solver,
    StoreError,
    UpdatePerson,
    UpdateRoom,
    UpdateSession,
    check_schedule,
)

if TYPE_CHECKING:
    from creneau.events_store.postgres import PostgresEventStore
    from creneau.solver import CpSatSolver

__all__ = [
    "AcceptSchedule",
    "AddPerson",
    "AddRoom",
    "AddSession",
    "BookPlace",
    "BookPlaces",
    "CancelPlace",
    "ChangePolicies",
    "CloseReserve",
    "Command",
    "ConcurrencyError",
    "CpSatSolver",
    "CreneauError",
    "EditionService",
    "EditionSnapshot",
    "EditionState",
    "Engine",
    "EventStore",
    "ImportEdition",
    "InvalidCommand",
    "MemoryEventStore",
    "MoveSession",
    "OpenReserve",
    "Person",
    "PinSession",
    "PostgresEventStore",
    "Problem",
    "RecordedEvent",
    "Room",
    "SQLiteEventStore",
    "ScheduleDocument",
    "Session",
    "SolveParameters",
    "SolveProgramme",
    "Solver",
    "StoreError",
    "StoreNotFound",
    "UpdatePerson",
    "UpdateRoom",
    "UpdateSession",
    "__version__",
    "check_schedule",
    "load_edition",
    "open_engine",
    "open_store",
    "parse_edition",
    "to_document",
]


def __getattr__(name: str) -> Any:
    # OR-Tools and psycopg are heavy to import: only what solves, or reaches PostgreSQL,
    # pays for them.
    if name == "CpSatSolver":
        from creneau.solver import CpSatSolver

        return CpSatSolver
    if name == "PostgresEventStore":
        from creneau.events_store.postgres import PostgresEventStore

        return PostgresEventStore
    if name == "__version__":
        from importlib import metadata

        return metadata.version("creneau")
    raise AttributeError(f"module 'creneau' has no attribute {name!r}")
