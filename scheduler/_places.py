"""Places ("jauges"): what each session occurrence or rotation offers, and the decisions
that book and cancel them. First come, first served; a cancellation promotes the first
of the waiting list.

What a session offers: its rotation's places; else the seats of its room (plus the reserve
chairs once the committee opens them), at most its own capacity. In a hall that hosts
several sessions at once, the sessions share the seats: one offers its capacity, or the
seats the others running beside it leave free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import attrs
import msgspec

from creneau.scheduler._errors import InvalidCommand, Problem
from creneau.scheduler._events import (
    Event,
    PlaceBooked,
    PlaceBumped,
    PlaceCancelled,
    PlacePromoted,
    RegistrationRecorded,
    ReserveClosed,
    ReserveOpened,
)
from creneau.scheduler._schedule import Placement
from creneau.scheduler._state import PlaceKey
from creneau.scheduler._values import EditionInfo, Registration, Room, Session, minutes

__all__ = [
    "PlaceLine",
    "PlacesView",
    "book",
    "cancel",
    "offered",
    "place_lines",
    "rebalance",
    "rotation_starts",
    "set_reserve",
]


class PlacesView(Protocol):
    """What the places decisions read of an edition (a state, or a fold under way)."""

    @property
    def info(self) -> EditionInfo | None: ...
    @property
    def rooms(self) -> Mapping[str, Room]: ...
    @property
    def sessions(self) -> Mapping[str, Session]: ...
    @property
    def registrations(self) -> Mapping[str, Registration]: ...
    @property
    def programme(self) -> tuple[Placement, ...]: ...
    @property
    def places(self) -> Mapping[PlaceKey, tuple[tuple[str, ...], tuple[str, ...]]]: ...
    @property
    def holdings(self) -> Mapping[str, tuple[PlaceKey, ...]]: ...
    @property
    def reserve_open(self) -> frozenset[str]: ...


def _refuse(where: str, code: str, **params: Any) -> InvalidCommand:
    return InvalidCommand([Problem(where, code, params)])


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class _ProgrammeIndex:
    """The programme by (session, occurrence) and by room, built once per programme
    (the tuple is immutable: the last one indexed is kept)."""

    def __init__(self, programme: tuple[Placement, ...]) -> None:
        self.programme = programme
        self.placed = {(p.session, p.occurrence): p for p in programme}
        self.by_room: dict[str, list[Placement]] = {}
        for p in programme:
            self.by_room.setdefault(p.room, []).append(p)


_INDEX: list[_ProgrammeIndex] = []


def _index(state: PlacesView) -> _ProgrammeIndex:
    if not _INDEX or _INDEX[0].programme is not state.programme:
        _INDEX[:] = [_ProgrammeIndex(state.programme)]
    return _INDEX[0]


def _placement(state: PlacesView, session_id: str, occurrence: int) -> Placement | None:
    return _index(state).placed.get((session_id, occurrence))


def rotation_starts(state: PlacesView, session_id: str, occurrence: int) -> list[str]:
    """The start of each rotation of a scheduled occurrence ("HH:MM")."""
    session = state.sessions[session_id]
    placed = _placement(state, session_id, occurrence)
    if session.rotation is None or placed is None:
        return []
    start, end, every = minutes(placed.start), minutes(placed.end), session.rotation.every
    return [_clock(t) for t in range(start, end - every + 1, every)]


def need(session: Session) -> int:
    """The seats a session is scheduled for."""
    return max(session.attendance, session.capacity or 0)


def offered(
    state: PlacesView, session_id: str, occurrence: int, rotation: str | None
) -> int | None:
    """Places offered; None when nothing bounds them (no capacity, no room yet)."""
    session = state.sessions[session_id]
    if session.rotation is not None:
        return session.rotation.places
    placed = _placement(state, session_id, occurrence)
    room = state.rooms.get(placed.room) if placed is not None else None
    seats = None
    if placed is not None and room is not None:
        seats = room.capacity + (room.reserve if session_id in state.reserve_open else 0)
        if room.concurrent > 1 and session.capacity is None:
            # A shared hall: what the sessions running beside this one leave free.
            start, end = minutes(placed.start), minutes(placed.end)
            for other in _index(state).by_room.get(room.id, ()):
                beside = state.sessions.get(other.session)
                if (
                    beside is not None
                    and other.session != session_id
                    and other.day == placed.day
                    and minutes(other.start) < end
                    and start < minutes(other.end)
                ):
                    seats -= need(beside)
            seats = max(seats, 0)
    bounds = [x for x in (session.capacity, seats) if x is not None]
    return min(bounds) if bounds else None


def _span(state: PlacesView, key: PlaceKey) -> tuple[object, int, int] | None:
    session_id, occurrence, rotation = key
    placed = _placement(state, session_id, occurrence)
    if placed is None:
        return None
    if rotation is not None:
        every = state.sessions[session_id].rotation
        assert every is not None
        return placed.day, minutes(rotation), minutes(rotation) + every.every
    return placed.day, minutes(placed.start), minutes(placed.end)


def book(
    state: PlacesView,
    attendee: str,
    session_id: str,
    occurrence: int,
    rotation: str | None,
    profile: str | None,
) -> list[Event]:
    if not attendee:
        raise _refuse("attendee", "empty_id", kind="attendee")
    session = state.sessions.get(session_id)
    if session is None:
        raise _refuse("session_id", "unknown_session", id=session_id)
    if not 1 <= occurrence <= session.occurrences:
        raise _refuse("occurrence", "no_such_occurrence", session=session_id,
                      occurrences=session.occurrences, occurrence=occurrence)  # fmt: skip
    if session.rotation is not None:
        starts = rotation_starts(state, session_id, occurrence)
        if not starts:
            raise _refuse("rotation", "rotations_not_yet_known", session=session_id)
        if rotation not in starts:
            raise _refuse("rotation", "choose_rotation", session=session_id,
                          rotations=tuple(starts))  # fmt: skip
    elif rotation is not None:
        raise _refuse("rotation", "no_rotations", session=session_id)
    key: PlaceKey = (session_id, occurrence, rotation)
    held = state.holdings.get(attendee, ())
    if any(k[0] == session_id for k in held):
        raise _refuse("session_id", "already_holds_place", attendee=attendee, session=session_id)
    registration = state.registrations.get(attendee)
    audiences = state.info.audiences if state.info else ()
    session_audiences = session.audiences or audiences
    if registration is not None:
        chosen = registration.profile
    else:  # someone new: the audience given, else the first the session serves
        chosen = profile or next((a for a in audiences if a in session_audiences), "")
        if chosen not in audiences:
            raise _refuse("profile", "unknown_audience", id=chosen)
    if chosen not in session_audiences:
        raise _refuse("session_id", "session_not_for_audience", attendee=attendee,
                      session=session_id, audience=chosen,
                      audiences=tuple(session_audiences))  # fmt: skip
    mine = _span(state, key)
    if mine is not None:
        for other in held:
            theirs = _span(state, other)
            if theirs and theirs[0] == mine[0] and theirs[1] < mine[2] and mine[1] < theirs[2]:
                raise _refuse("session_id", "holds_overlapping_place", attendee=attendee,
                              other=other[0])  # fmt: skip
    events: list[Event] = []
    if registration is None:
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


def cancel(state: PlacesView, attendee: str, session_id: str) -> list[Event]:
    held = [k for k in state.holdings.get(attendee, ()) if k[0] == session_id]
    if not held:
        raise _refuse("session_id", "holds_no_place", attendee=attendee, session=session_id)
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


def set_reserve(state: PlacesView, session_id: str, open_: bool) -> list[Event]:
    """Offer a session's reserve chairs as places (or stop offering them). Opening
    promotes the first waiting into the new places; closing bumps back the latest
    confirmed, as any change of the places offered does (``rebalance``)."""
    session = state.sessions.get(session_id)
    if session is None:
        raise _refuse("session_id", "unknown_session", id=session_id)
    if session.rotation is not None:
        raise _refuse("session_id", "reserve_rotation", session=session_id)
    if open_ == (session_id in state.reserve_open):
        return []
    return [ReserveOpened(session_id=session_id) if open_ else ReserveClosed(session_id=session_id)]


def _at(kind: type[PlaceCancelled | PlacePromoted | PlaceBumped], who: str, key: PlaceKey) -> Event:
    return kind(attendee=who, session_id=key[0], occurrence=key[1], rotation=key[2])


def rebalance(state: PlacesView, keys: Iterable[PlaceKey] | None = None) -> list[Event]:
    """What the places must become after a change to the edition or its programme, as
    events: holders of a session that is gone, or who are no longer registered to the
    edition, lose their place; when fewer places are offered, the latest registered
    confirmed go back to the head of the waiting list; when more are, the first waiting
    are promoted. Never silently. ``keys``: only these places (default: all)."""
    events: list[Event] = []
    for key in state.places if keys is None else keys:
        if key not in state.places:
            continue
        held, queued = state.places[key]
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
    reserve_open: bool = False


def place_lines(state: PlacesView) -> list[PlaceLine]:
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
                                       len(confirmed), len(waiting),
                                       session.id in state.reserve_open))  # fmt: skip
    return lines
