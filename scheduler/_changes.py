"""What changed: between two schedules of one edition (sessions moved in time or room,
added, removed, given another moderator), and what a run of events does to an edition
(entities added, changed field by field, removed; places taken and given back)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, assert_never

import attrs
import msgspec

from creneau.scheduler._events import (
    ERASED_PREFIX,
    DocumentImported,
    EditionDefined,
    Event,
    PersonAdded,
    PersonAvailabilitySet,
    PersonRemoved,
    PersonUpdated,
    PlaceBooked,
    PlaceBumped,
    PlaceCancelled,
    PlacePromoted,
    PoliciesChanged,
    RegistrationRecorded,
    RegistrationRemoved,
    ReserveClosed,
    ReserveOpened,
    RoomAdded,
    RoomRemoved,
    RoomUpdated,
    ScheduleAccepted,
    ScheduleProposed,
    SessionAdded,
    SessionMoved,
    SessionPinned,
    SessionRemoved,
    SessionUnpinned,
    SessionUpdated,
    SubjectErased,
)
from creneau.scheduler._schedule import Placement
from creneau.scheduler._state import EditionState, Fold

__all__ = [
    "Change",
    "EntityChange",
    "Narrator",
    "describe_events",
    "field_changes",
    "schedule_changes",
]


@attrs.frozen
class Change:
    kind: str  # moved, added, removed, moderators
    session: str
    occurrence: int
    before: Placement | None
    after: Placement | None

    @property
    def moved_time(self) -> bool:
        return (
            self.before is not None
            and self.after is not None
            and (self.before.day, self.before.start) != (self.after.day, self.after.start)
        )

    @property
    def moved_room(self) -> bool:
        return (
            self.before is not None
            and self.after is not None
            and self.before.room != self.after.room
        )


def schedule_changes(before: Sequence[Placement], after: Sequence[Placement]) -> list[Change]:
    """The changes from ``before`` to ``after``, in the order of ``before`` then of the
    sessions ``after`` adds."""
    old = {(p.session, p.occurrence): p for p in before}
    new = {(p.session, p.occurrence): p for p in after}
    out = []
    for key, a in old.items():
        b = new.get(key)
        if b is None:
            out.append(Change("removed", key[0], key[1], a, None))
        elif (a.day, a.start, a.room) != (b.day, b.start, b.room):
            out.append(Change("moved", key[0], key[1], a, b))
        elif tuple(a.moderators) != tuple(b.moderators):
            out.append(Change("moderators", key[0], key[1], a, b))
    for key, b in new.items():
        if key not in old:
            out.append(Change("added", key[0], key[1], None, b))
    return out


@attrs.frozen
class EntityChange:
    """What one event did to one entity. ``kind``: edition, room, person, session,
    registration, policies, place, schedule, programme; ``action``: added, changed,
    removed (and for places: booked, waiting, cancelled, promoted, bumped, reserve_opened,
    reserve_closed; schedules: proposed, accepted, moved; people and attendees: erased).
    ``fields``: (name, before, after) of what changed, as plain data."""

    kind: str
    action: str
    id: str
    fields: tuple[tuple[str, Any, Any], ...] = ()
    detail: tuple[tuple[str, Any], ...] = ()


def field_changes(
    before: msgspec.Struct | None, after: msgspec.Struct
) -> list[tuple[str, Any, Any]]:
    """The fields of ``after`` that differ from ``before``, as plain data; a field that
    holds fields of its own (``parity``) by each of those (``parity.women_min_share``)."""
    new = msgspec.to_builtins(after)
    old = msgspec.to_builtins(before) if before is not None else {}
    assert isinstance(new, dict) and isinstance(old, dict)
    out: list[tuple[str, Any, Any]] = []

    def walk(prefix: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        for k in dict.fromkeys((*a, *b)):
            x, y = a.get(k), b.get(k)
            if x == y or (not prefix and k == "id"):
                continue
            if isinstance(x, dict) and isinstance(y, dict) and before is not None:
                walk(f"{prefix}{k}.", x, y)
            else:
                out.append((f"{prefix}{k}", x, y))

    walk("", old, new)
    return out


def _entity(state: EditionState | Fold, event: Event) -> EntityChange | None:
    match event:
        case EditionDefined(info=info):
            if state.info is None:
                return EntityChange("edition", "added", info.id)
            return EntityChange("edition", "changed", info.id,
                                tuple(field_changes(state.info, info)))  # fmt: skip
        case RoomAdded(room=r):
            return EntityChange("room", "added", r.id)
        case RoomUpdated(room=r):
            return EntityChange("room", "changed", r.id,
                                tuple(field_changes(state.rooms.get(r.id), r)))  # fmt: skip
        case RoomRemoved(room_id=rid):
            return EntityChange("room", "removed", rid)
        case PersonAdded(person=p):
            return EntityChange("person", "added", p.id)
        case PersonUpdated(person=p):
            return EntityChange("person", "changed", p.id,
                                tuple(field_changes(state.people.get(p.id), p)))  # fmt: skip
        case PersonAvailabilitySet(person_id=pid):
            old = state.people.get(pid)
            if old is None:
                return EntityChange("person", "changed", pid)
            new = msgspec.structs.replace(old, available=event.available,
                                          unavailable=event.unavailable,
                                          preferred=event.preferred)  # fmt: skip
            return EntityChange("person", "changed", pid, tuple(field_changes(old, new)))
        case PersonRemoved(person_id=pid):
            return EntityChange("person", "removed", pid)
        case SessionAdded(session=s):
            return EntityChange("session", "added", s.id)
        case SessionUpdated(session=s):
            return EntityChange("session", "changed", s.id,
                                tuple(field_changes(state.sessions.get(s.id), s)))  # fmt: skip
        case SessionPinned(session_id=sid, fixed=fixed):
            old_fixed = state.sessions[sid].fixed if sid in state.sessions else None
            return EntityChange(
                "session",
                "changed",
                sid,
                (("fixed", msgspec.to_builtins(old_fixed), msgspec.to_builtins(fixed)),),
            )
        case SessionUnpinned(session_id=sid):
            old_fixed = state.sessions[sid].fixed if sid in state.sessions else None
            return EntityChange("session", "changed", sid,
                                (("fixed", msgspec.to_builtins(old_fixed), None),))  # fmt: skip
        case SessionRemoved(session_id=sid):
            return EntityChange("session", "removed", sid)
        case RegistrationRecorded(registration=g):
            old_reg = state.registrations.get(g.attendee)
            if old_reg is None:
                return EntityChange("registration", "added", g.attendee)
            return EntityChange("registration", "changed", g.attendee,
                                tuple(field_changes(old_reg, g)))  # fmt: skip
        case RegistrationRemoved(attendee=a):
            return EntityChange("registration", "removed", a)
        case PoliciesChanged(policies=p):
            return EntityChange("policies", "changed", "",
                                tuple(field_changes(state.policies, p)))  # fmt: skip
        case DocumentImported():
            return None
        case ScheduleProposed(schedule_id=sid, schedule=doc):
            return EntityChange("schedule", "proposed", sid, detail=(("status", doc.status),))
        case ScheduleAccepted(schedule_id=sid):
            return EntityChange("schedule", "accepted", sid)
        case SessionMoved(placement=p):
            old_place = next(
                (
                    x
                    for x in state.programme
                    if (x.session, x.occurrence) == (p.session, p.occurrence)
                ),
                None,
            )
            fields = tuple(
                (k, getattr(old_place, k) if old_place else None, getattr(p, k))
                for k in ("day", "start", "room")
                if old_place is None or getattr(old_place, k) != getattr(p, k)
            )  # fmt: skip
            return EntityChange("programme", "moved", p.session, fields,
                                (("occurrence", p.occurrence),))  # fmt: skip
        case PlaceBooked(attendee=a, session_id=sid, confirmed=ok):
            return EntityChange("place", "booked" if ok else "waiting", a, (),
                                _where(sid, event.occurrence, event.rotation))  # fmt: skip
        case PlaceCancelled(attendee=a, session_id=sid):
            return EntityChange("place", "cancelled", a, (),
                                _where(sid, event.occurrence, event.rotation))  # fmt: skip
        case PlacePromoted(attendee=a, session_id=sid):
            return EntityChange("place", "promoted", a, (),
                                _where(sid, event.occurrence, event.rotation))  # fmt: skip
        case PlaceBumped(attendee=a, session_id=sid):
            return EntityChange("place", "bumped", a, (),
                                _where(sid, event.occurrence, event.rotation))  # fmt: skip
        case ReserveOpened(session_id=sid):
            return EntityChange("place", "reserve_opened", sid)
        case ReserveClosed(session_id=sid):
            return EntityChange("place", "reserve_closed", sid)
        case SubjectErased(kind="person", person_id=pid) if pid is not None:
            return EntityChange("person", "erased", pid)
        case SubjectErased(subject=subject):
            return EntityChange("attendee", "erased", ERASED_PREFIX + subject)
        case _:
            assert_never(event)


def _where(session: str, occurrence: int, rotation: str | None) -> tuple[tuple[str, Any], ...]:
    return (("session", session), ("occurrence", occurrence), ("rotation", rotation))


class Narrator:
    """Follows an edition event by event and says what each one does to it."""

    def __init__(self, state: EditionState | None = None) -> None:
        self.fold = Fold(state or EditionState())

    def __call__(self, event: Event) -> EntityChange | None:
        change = _entity(self.fold, event)
        self.fold.apply([event])
        return change


def describe_events(
    state: EditionState, events: Iterable[Event]
) -> list[tuple[Event, EntityChange | None]]:
    """Each event with what it does to the edition, folded from ``state`` one by one."""
    tell = Narrator(state)
    return [(event, tell(event)) for event in events]
