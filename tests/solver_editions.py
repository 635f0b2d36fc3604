"""Small editions built in code, for the solver's tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from creneau.scheduler import Day, EditionSnapshot, Person, Policies, Room, Session, Window

D1 = dt.date(2023, 10, 12)
D2 = dt.date(2023, 10, 13)


def window(start: str, end: str, day: dt.date = D1) -> Window:
    return Window(day=day, start=start, end=end)


def edition(
    *,
    sessions: list[Session],
    rooms: list[Room] | None = None,
    people: list[Person] | None = None,
    days: list[Day] | None = None,
    policies: Policies | None = None,
    **extra: Any,
) -> EditionSnapshot:
    return EditionSnapshot(
        id="mini",
        days=tuple(days or [Day(day=D1, open="09:00", close="12:00")]),
        rooms=tuple(rooms if rooms is not None else [Room(id="r1", capacity=100)]),
        people=tuple(people or []),
        sessions=tuple(s.resolved(("professionals", "general_public")) for s in sessions),
        policies=policies or Policies(),
        **extra,
    )


def session(sid: str, duration: int = 60, **kw: Any) -> Session:
    return Session(id=sid, duration=duration, **kw)
