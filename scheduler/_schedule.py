"""Schedules: the placed sessions of a programme, as events carry them and as the schedule
document (``creneau/schedule@1``) writes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

__all__ = [
    "SCHEDULE_FORMAT",
    "BrokenRule",
    "Explained",
    "Placement",
    "ScheduleDocument",
    "Unscheduled",
]

SCHEDULE_FORMAT = "creneau/schedule@1"


class Placement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One occurrence of a session, in a room, on a day, at a time."""

    session: str
    occurrence: int = 1
    room: str
    day: dt.date
    start: str
    end: str
    moderators: tuple[str, ...] = ()


class Unscheduled(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A proposal left out: ``reason`` is "not selected" (not examined), "worth less"
    (it would fit, but is worth less than it costs) or "left out" (it would break
    ``rules``)."""

    session: str
    reason: str
    rules: tuple[str, ...] = ()


class Explained(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One rule found to take part in making the edition impossible, as data: its id,
    what it bears on, and a code with the data a sentence is made from."""

    rule: str
    subject: str
    code: str = ""
    params: dict[str, Any] = {}


class BrokenRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A hard rule the schedule breaks, as the document carries it (in the words of the
    run that wrote it, with its rule id)."""

    rule: str
    message: str


class ScheduleDocument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    format: str = SCHEDULE_FORMAT
    edition: str
    stream_version: int | None = None
    status: str
    objective: float | None = None
    bound: float | None = None
    solve_seconds: float = 0.0
    assignments: tuple[Placement, ...] = ()
    unscheduled: tuple[Unscheduled, ...] = ()
    metrics: dict[str, float | int] = {}
    # Why no schedule exists, in the words of the run that wrote the document; and the
    # same as data.
    conflicts: tuple[str, ...] = ()
    explanation: tuple[Explained, ...] = ()
    parameters: dict[str, float | int] = {}
    first_solution_seconds: float | None = None  # from the start to the first schedule
    interrupted: bool = False  # the solve was stopped on request before its time limit
    # Exported programmes: the hard rules the programme breaks now (the edition changed
    # since it was published).
    violations: tuple[BrokenRule, ...] = ()
