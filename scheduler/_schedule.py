"""Schedules: the placed sessions of a programme, as events carry them and as the schedule
document (``creneau/schedule@1``) writes them."""

from __future__ import annotations

import datetime as dt

import msgspec

__all__ = [
    "SCHEDULE_FORMAT",
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
    session: str
    reason: str


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
    conflicts: tuple[str, ...] = ()
    parameters: dict[str, float | int] = {}
