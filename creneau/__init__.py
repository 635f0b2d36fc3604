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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from creneau.adapters.bootstrap import Engine, StoreNotFound, open_engine, open_store
    from creneau.adapters.edition_document import load_edition, parse_edition, to_document
    from creneau.events_store import MemoryEventStore, SQLiteEventStore
    from creneau.events_store.postgres import PostgresEventStore
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
        ProcessRunner,
        RecordedEvent,
        Room,
        ScheduleDocument,
        Session,
        SolveJob,
        SolveParameters,
        SolveProgramme,
        SolveProgress,
        Solver,
        StoreError,
        UpdatePerson,
        UpdateRoom,
        UpdateSession,
        check_schedule,
    )
    from creneau.solver import CpSatSolver

# Every name is imported when first used: `import creneau` costs nothing, and OR-Tools
# and psycopg are loaded only by what solves or reaches PostgreSQL.
_WHERE = {
    "AcceptSchedule": "creneau.scheduler",
    "AddPerson": "creneau.scheduler",
    "AddRoom": "creneau.scheduler",
    "AddSession": "creneau.scheduler",
    "BookPlace": "creneau.scheduler",
    "BookPlaces": "creneau.scheduler",
    "CancelPlace": "creneau.scheduler",
    "ChangePolicies": "creneau.scheduler",
    "CloseReserve": "creneau.scheduler",
    "Command": "creneau.scheduler",
    "ConcurrencyError": "creneau.scheduler",
    "CpSatSolver": "creneau.solver",
    "CreneauError": "creneau.scheduler",
    "EditionService": "creneau.scheduler",
    "EditionSnapshot": "creneau.scheduler",
    "EditionState": "creneau.scheduler",
    "Engine": "creneau.adapters.bootstrap",
    "EventStore": "creneau.scheduler",
    "ImportEdition": "creneau.scheduler",
    "InvalidCommand": "creneau.scheduler",
    "MemoryEventStore": "creneau.events_store",
    "MoveSession": "creneau.scheduler",
    "OpenReserve": "creneau.scheduler",
    "Person": "creneau.scheduler",
    "PinSession": "creneau.scheduler",
    "PostgresEventStore": "creneau.events_store.postgres",
    "Problem": "creneau.scheduler",
    "ProcessRunner": "creneau.scheduler",
    "RecordedEvent": "creneau.scheduler",
    "Room": "creneau.scheduler",
    "SQLiteEventStore": "creneau.events_store",
    "ScheduleDocument": "creneau.scheduler",
    "Session": "creneau.scheduler",
    "SolveJob": "creneau.scheduler",
    "SolveParameters": "creneau.scheduler",
    "SolveProgress": "creneau.scheduler",
    "SolveProgramme": "creneau.scheduler",
    "Solver": "creneau.scheduler",
    "StoreError": "creneau.scheduler",
    "StoreNotFound": "creneau.adapters.bootstrap",
    "UpdatePerson": "creneau.scheduler",
    "UpdateRoom": "creneau.scheduler",
    "UpdateSession": "creneau.scheduler",
    "check_schedule": "creneau.scheduler",
    "load_edition": "creneau.adapters.edition_document",
    "open_engine": "creneau.adapters.bootstrap",
    "open_store": "creneau.adapters.bootstrap",
    "parse_edition": "creneau.adapters.edition_document",
    "to_document": "creneau.adapters.edition_document",
}

__all__ = [*sorted(_WHERE), "__version__"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    if name == "__version__":
        from importlib import metadata

        return metadata.version("creneau")
    raise AttributeError(f"module 'creneau' has no attribute {name!r}")
