"""Places ("jauges"): what each session occurrence or rotation offers, and the decisions
that book and cancel them. First come, first served; a cancellation promotes the first
of the waiting list."""

from __future__ import annotations

import attrs
import msgspec

from scheduler._errors import InvalidCommand, Problem
from scheduler._events import (
    Event,
    PlaceBooked,
    PlaceBumped,
    PlaceCancelled,
    PlacePromoted,
    RegistrationRecorded,
)
from scheduler._schedule import Placement
from scheduler._state import EditionState, PlaceKey
from scheduler._values import Registration, minutes

__all__ = [
    "PlaceLine",
    "book",
    "cancel",
    "offered",
    "place_lines",
    "rebalance",
    "rotation_starts",
]


def _refuse(path: str, message: str) -> InvalidCommand:
    return InvalidCommand([Problem(path, message)])


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


_PROGRAMME_INDEX: dict[int, tuple[tuple[Placement, ...], dict[tuple[str, int], Placement]]] = {}


def _placement(state: EditionState, session_id: str, occurrence: int) -> Placement | None:
    # Indexed once per programme (the tuple is immutable; its id keys the last index).
    cached = _PROGRAMME_INDEX.get(id(state.programme))
    if cached is None or cached[0] is not state.programme:
        _PROGRAMME_INDEX.clear()
        cached = (state.programme, {(p.session, p.occurrence): p for p in state.programme})
        _PROGRAMME_INDEX[id(state.programme)] = cached
    return cached[1].get((session_id, occurrence))


def rotation_starts(state: EditionState, session_id: str, occurrence: int) -> list[str]:
    """The start of each rotation of a scheduled occurrence ("HH:MM")."""
    session = state.sessions[session_id]
    placed = _placement(state, session_id, occurrence)
    if session.rotation is None or placed is None:
        return []
    start, end, every = minutes(placed.start), minutes(placed.end), session.rotation.every
    return [_clock(t) for t in range(start, end - every + 1, every)]


def offered(
    state: EditionState, session_id: str, occurrence: int, rotation: str | None
) -> int | None:
    """Places offered; None when nothing bounds them (no capacity, no room yet)."""
    session = state.sessions[session_id]
    if session.rotation is not None:
        return session.rotation.places
    placed = _placement(state, session_id, occurrence)
    seats = state.rooms[placed.room].capacity if placed and placed.room in state.rooms else None
    bounds = [x for x in (session.capacity, seats) if x is not None]
    return min(bounds) if bounds else None


def _span(state: EditionState, key: PlaceKey) -> tuple[object, int, int] | None:
    session_id, occurrence, rotation = key
    placed = _placement(state, session_id, occurrence)
    if placed is None:
        return None
    if rotation is not None:
        every = state.sessions[session_id].rotation
        assert every is not None
        return placed.day, minutes(rotation), minutes(rotation) + every.every
    return placed.day, minutes(placed.start), minutes(placed.end)


def _held(state: EditionState, attendee: str) -> list[PlaceKey]:
    return [key for key, (confirmed, waiting) in state.places.items()
            if attendee in confirmed or attendee in waiting]  # fmt: skip


def book(
    state: EditionState,
    attendee: str,
    session_id: str,
    occurrence: int,
    rotation: str | None,
    profile: str | None,
) -> list[Event]:
    if not attendee:
        raise _refuse("attendee", "the attendee id is empty")
    session = state.sessions.get(session_id)
    if session is None:
        raise _refuse("session_id", f'unknown session "{session_id}"')
    if not 1 <= occurrence <= session.occurrences:
        raise _refuse(
            "occurrence",
            f'"{session_id}" runs {session.occurrences} time(s); '
            f"there is no occurrence {occurrence}",
        )
    if session.rotation is not None:
        starts = rotation_starts(state, session_id, occurrence)
        if not starts:
            raise _refuse(
                "rotation",
                f'"{session_id}" offers places per rotation: its times '
                "are known once a programme is published",
            )
        if rotation not in starts:
            raise _refuse("rotation", f'choose a rotation of "{session_id}": {", ".join(starts)}')
    elif rotation is not None:
        raise _refuse("rotation", f'"{session_id}" has no rotations')
    key: PlaceKey = (session_id, occurrence, rotation)
    held = _held(state, attendee)
    if any(k[0] == session_id for k in held):
        raise _refuse("session_id", f'{attendee} already holds a place in "{session_id}"')
    mine = _span(state, key)
    if mine is not None:
        for other in held:
            theirs = _span(state, other)
            if theirs and theirs[0] == mine[0] and theirs[1] < mine[2] and mine[1] < theirs[2]:
                raise _refuse(
                    "session_id",
                    f'{attendee} already holds a place in "{other[0]}" at an overlapping time',
                )
    events: list[Event] = []
    registration = state.registrations.get(attendee)
    audiences = state.info.audiences if state.info else ()
    if registration is None:
        chosen = profile or (audiences[0] if audiences else "")
        if chosen not in audiences:
            raise _refuse("profile", f'unknown audience "{chosen}"')
        events.append(RegistrationRecorded(registration=Registration(
            attendee=attendee, profile=chosen, sessions=(session_id,))))  # fmt: skip
    elif session_id not in registration.sessions:
        events.append(RegistrationRecorded(registration=msgspec.structs.replace(
            registration, sessions=(*registration.sessions, session_id))))  # fmt: skip
    confirmed, _ = state.places.get(key, ((), ()))
    limit = offered(state, session_id, occurrence, rotation)
    events.append(PlaceBooked(attendee=attendee, session_id=session_id, occurrence=occurrence,
                              rotation=rotation,
                              confirmed=limit is None or len(confirmed) < limit))  # fmt: skip
    return events


def cancel(state: EditionState, attendee: str, session_id: str) -> list[Event]:
    held = [k for k in _held(state, attendee) if k[0] == session_id]
    if not held:
        raise _refuse("session_id", f'{attendee} holds no place in "{session_id}"')
    key = held[0]
    confirmed, waiting = state.places[key]
    events: list[Event] = [PlaceCancelled(attendee=attendee, session_id=key[0],
                                          occurrence=key[1], rotation=key[2])]  # fmt: skip
    limit = offered(state, *key)
    still = [x for x in confirmed if x != attendee]
    queue = [x for x in waiting if x != attendee]
    if attendee in confirmed and queue and (limit is None or len(still) < limit):
        events.append(PlacePromoted(attendee=queue[0], session_id=key[0], occurrence=key[1],
                                    rotation=key[2]))  # fmt: skip
    return events


def _at(kind: type[PlaceCancelled | PlacePromoted | PlaceBumped], who: str, key: PlaceKey) -> Event:
    return kind(attendee=who, session_id=key[0], occurrence=key[1], rotation=key[2])


def rebalance(state: EditionState) -> list[Event]:
    """What the places must become after a change to the edition or its programme, as
    events: holders of a session that is gone, or who are no longer registered to the
    edition, lose their place; when fewer places are
    offered, the latest registered confirmed go back to the head of the waiting list;
    when more are, the first waiting are promoted. Never silently."""
    events: list[Event] = []
    for key, (held, queued) in state.places.items():
        session_id, occurrence, rotation = key
        session = state.sessions.get(session_id)
        # Someone no longer registered to the edition holds nothing in it.
        gone = [a for a in (*held, *queued) if a not in state.registrations]
        events += [_at(PlaceCancelled, a, key) for a in gone]
        confirmed = tuple(a for a in held if a not in gone)
        waiting = tuple(a for a in queued if a not in gone)
        if (
            session is None
            or occurrence > session.occurrences
            or (
                rotation is not None
                and rotation not in rotation_starts(state, session_id, occurrence)
                and _placement(state, session_id, occurrence) is not None
            )
        ):
            events += [_at(PlaceCancelled, a, key) for a in (*confirmed, *waiting)]
            continue
        limit = offered(state, session_id, occurrence, rotation)
        if limit is None:
            events += [_at(PlacePromoted, a, key) for a in waiting]
        elif len(confirmed) > limit:
            events += [_at(PlaceBumped, a, key) for a in reversed(confirmed[limit:])]
        elif waiting and len(confirmed) < limit:
            events += [_at(PlacePromoted, a, key) for a in waiting[: limit - len(confirmed)]]
    return events


@attrs.frozen
class PlaceLine:
    session: str
    occurrence: int
    rotation: str | None
    offered: int | None
    confirmed: int
    waiting: int


def place_lines(state: EditionState) -> list[PlaceLine]:
    """Every occurrence (or rotation, once the programme gives their times) with its
    places: what the `places` table prints."""
    lines = []
    for session in state.sessions.values():
        for k in range(1, session.occurrences + 1):
            rotations: list[str | None] = (
                list(rotation_starts(state, session.id, k)) if session.rotation else [None]
            ) or [None]
            for r in rotations:
                confirmed, waiting = state.places.get((session.id, k, r), ((), ()))
                lines.append(PlaceLine(session.id, k, r, offered(state, session.id, k, r),
                                       len(confirmed), len(waiting)))  # fmt: skip
    return lines
