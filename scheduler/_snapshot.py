"""Snapshots: an edition's state at a version, as bytes, so that loading a long stream
folds only the events after it. A snapshot is a cache: one of another layout (an older
Créneau), or one that cannot be read, is ignored and the stream folded instead."""

from __future__ import annotations

import msgspec

from creneau.scheduler._schedule import Placement, ScheduleDocument
from creneau.scheduler._state import EditionState
from creneau.scheduler._values import EditionInfo, Person, Policies, Registration, Room, Session

__all__ = ["SNAPSHOT_LAYOUT", "decode_state", "encode_state"]

SNAPSHOT_LAYOUT = 3  # raised whenever the state's shape changes: older snapshots are ignored


class _State(msgspec.Struct, array_like=True):
    layout: int
    version: int
    info: EditionInfo | None
    rooms: list[Room]
    people: list[Person]
    sessions: list[Session]
    registrations: list[Registration]
    policies: Policies
    schedules: list[tuple[str, ScheduleDocument]]
    accepted: str | None
    programme: list[Placement]
    places: list[tuple[str, int, str | None, list[str], list[str]]]
    holdings: list[tuple[str, list[tuple[str, int, str | None]]]]
    reserve_open: list[str]
    inputs: list[tuple[str, int]]
    solve_jobs: list[tuple[str, str]]
    scenarios: list[tuple[str, str]]


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_State).decode


def encode_state(state: EditionState) -> bytes:
    return _encode(_State(
        SNAPSHOT_LAYOUT, state.version, state.info, list(state.rooms.values()),
        list(state.people.values()), list(state.sessions.values()),
        list(state.registrations.values()), state.policies, list(state.schedules.items()),
        state.accepted, list(state.programme),
        [(s, k, r, list(confirmed), list(waiting))
         for (s, k, r), (confirmed, waiting) in state.places.items()],
        [(who, list(keys)) for who, keys in state.holdings.items()],
        sorted(state.reserve_open), list(state.inputs.items()), list(state.solve_jobs.items()),
        list(state.scenarios.items()),
    ))  # fmt: skip


def decode_state(data: bytes | None) -> EditionState | None:
    """The state a snapshot holds; None when there is none, or none this Créneau reads."""
    if data is None:
        return None
    try:
        s = _decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if s.layout != SNAPSHOT_LAYOUT:
        return None
    places = {(sid, k, r): (tuple(c), tuple(w)) for sid, k, r, c, w in s.places}
    holdings = {who: tuple((sid, k, r) for sid, k, r in keys) for who, keys in s.holdings}
    return EditionState(
        version=s.version, info=s.info, rooms={r.id: r for r in s.rooms},
        people={p.id: p for p in s.people}, sessions={x.id: x for x in s.sessions},
        registrations={g.attendee: g for g in s.registrations}, policies=s.policies,
        schedules=dict(s.schedules), accepted=s.accepted, programme=tuple(s.programme),
        places=places, holdings=holdings, reserve_open=frozenset(s.reserve_open),
        inputs=dict(s.inputs), solve_jobs=dict(s.solve_jobs),
        scenarios=dict(s.scenarios),
    )  # fmt: skip
