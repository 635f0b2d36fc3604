"""Scenarios: what-if variants of an edition, solved without changing it.

A scenario names what differs from the edition as it is: policies changed (any field of
``policies``, merged into the edition's own), rooms closed (for the whole edition or for
one day), people absent (for the whole edition: they leave the sessions they speak at or
moderate, which go on without them; or for one day: unavailable that day). Its solve is
recorded as a proposed schedule tagged with the scenario's name; the edition's rooms,
people and policies stay as the committee recorded them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from creneau.scheduler._errors import InvalidCommand, Problem
from creneau.scheduler._values import EditionSnapshot, Policies, Window

__all__ = ["Absence", "Closure", "Scenario", "apply_scenario"]


class Closure(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A room closed, for the whole edition or for one day."""

    room: str
    day: dt.date | None = None


class Absence(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A person absent, for the whole edition or for one day."""

    person: str
    day: dt.date | None = None


class Scenario(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One variant of an edition; ``time_limit`` and ``seed`` override the sweep's."""

    name: str
    policies: dict[str, Any] = {}
    closed: tuple[Closure, ...] = ()
    absent: tuple[Absence, ...] = ()
    time_limit: float | None = None
    seed: int | None = None


def _merged(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _open_windows(snap: EditionSnapshot, but: dt.date) -> tuple[Window, ...]:
    return tuple(Window(day=d.day, start=d.open, end=d.close) for d in snap.days if d.day != but)


def apply_scenario(snap: EditionSnapshot, scenario: Scenario, where: str = "") -> EditionSnapshot:
    """The edition as the scenario has it; ``InvalidCommand`` naming what the scenario
    gets wrong (a room or person the edition lacks, a day it does not hold, a policy
    that is not one) under ``where``."""
    problems: list[Problem] = []
    prefix = f"{where}." if where else ""
    days = {d.day for d in snap.days}
    rooms = {r.id: r for r in snap.rooms}
    people = {p.id for p in snap.people}

    policies = snap.policies
    if scenario.policies:
        merged = _merged(msgspec.to_builtins(snap.policies), scenario.policies)
        try:
            policies = msgspec.convert(merged, Policies)
        except msgspec.ValidationError as exc:
            problems.append(Problem(f"{prefix}policies", "scenario_bad_policies",
                                    {"detail": str(exc)}))  # fmt: skip

    for i, c in enumerate(scenario.closed):
        if c.room not in rooms:
            problems.append(Problem(f"{prefix}closed[{i}].room", "unknown_room", {"id": c.room}))
        elif c.day is not None and c.day not in days:
            problems.append(Problem(f"{prefix}closed[{i}].day", "scenario_unknown_day",
                                    {"day": c.day.isoformat()}))  # fmt: skip
        else:
            room = rooms[c.room]
            if c.day is None:
                windows: tuple[Window, ...] = ()
            elif room.availability is None:
                windows = _open_windows(snap, c.day)
            else:
                windows = tuple(w for w in room.availability if w.day != c.day)
            rooms[c.room] = msgspec.structs.replace(room, availability=windows)

    gone: set[str] = set()
    away: dict[str, list[Window]] = {}
    for i, a in enumerate(scenario.absent):
        if a.person not in people:
            problems.append(Problem(f"{prefix}absent[{i}].person", "unknown_person",
                                    {"id": a.person}))  # fmt: skip
        elif a.day is not None and a.day not in days:
            problems.append(Problem(f"{prefix}absent[{i}].day", "scenario_unknown_day",
                                    {"day": a.day.isoformat()}))  # fmt: skip
        elif a.day is None:
            gone.add(a.person)
        else:
            day = next(d for d in snap.days if d.day == a.day)
            away.setdefault(a.person, []).append(Window(day=a.day, start=day.open, end=day.close))
    if problems:
        raise InvalidCommand(problems)

    sessions = snap.sessions
    if gone:
        sessions = tuple(
            msgspec.structs.replace(
                s, speakers=tuple(p for p in s.speakers if p not in gone),
                moderators=tuple(p for p in s.moderators if p not in gone),
            ) if gone.intersection(s.speakers) or gone.intersection(s.moderators) else s
            for s in sessions
        )  # fmt: skip
    kept_people = tuple(
        msgspec.structs.replace(p, unavailable=p.unavailable + tuple(away[p.id]))
        if p.id in away else p
        for p in snap.people if p.id not in gone
    )  # fmt: skip
    return msgspec.structs.replace(
        snap, rooms=tuple(rooms.values()), people=kept_people, sessions=sessions,
        policies=policies,
    )  # fmt: skip


def check_scenarios(snap: EditionSnapshot, scenarios: Sequence[Scenario]) -> None:
    """Refuse, naming ``scenario[i]``, the first scenario the edition cannot take."""
    for i, scenario in enumerate(scenarios):
        apply_scenario(snap, scenario, f"scenario[{i}]")


def scenarios_of(raw: Sequence[Any]) -> list[Scenario]:
    """Scenarios from plain data (a TOML file's ``[[scenario]]`` tables, a request's
    list); ``InvalidCommand`` naming the first thing wrong in each, and repeated names."""
    problems: list[Problem] = []
    found: list[Scenario] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        try:
            scenario = msgspec.convert(item, Scenario, strict=False)
        except msgspec.ValidationError as exc:
            problems.append(Problem(f"scenario[{i}]", "scenario_bad", {"detail": str(exc)}))
            continue
        if not scenario.name.strip():
            problems.append(Problem(f"scenario[{i}].name", "scenario_unnamed", {}))
        elif scenario.name in seen:
            problems.append(Problem(f"scenario[{i}].name", "scenario_repeated",
                                    {"name": scenario.name}))  # fmt: skip
        seen.add(scenario.name)
        found.append(scenario)
    if not raw:
        problems.append(Problem("scenario", "scenario_none", {}))
    if problems:
        raise InvalidCommand(problems)
    return found


__all__ += ["check_scenarios", "scenarios_of"]
