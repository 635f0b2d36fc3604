"""The events of an edition's stream: a msgspec tagged union with stable tags.

Evolving an event: a new field gets a default; a field's type never changes; a tag is
never reused. An older shape is upcast on read by a function registered in
``UPCASTERS`` under ``(tag, schema_version)``, which turns that version's payload (as
plain data) into the next version's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, assert_never

import msgspec

from creneau.scheduler._schedule import Placement, ScheduleDocument
from creneau.scheduler._values import (
    EditionInfo,
    Fixed,
    Person,
    Policies,
    Registration,
    Room,
    Session,
    Window,
)

__all__ = [
    "CURRENT_SCHEMA",
    "ERASED_PREFIX",
    "UPCASTERS",
    "DocumentImported",
    "EditionDefined",
    "Event",
    "PersonAdded",
    "PersonAvailabilitySet",
    "PersonRemoved",
    "PersonUpdated",
    "PlaceBooked",
    "PlaceBumped",
    "PlaceCancelled",
    "PlacePromoted",
    "PoliciesChanged",
    "RegistrationRecorded",
    "RegistrationRemoved",
    "ReserveClosed",
    "ReserveOpened",
    "RoomAdded",
    "RoomRemoved",
    "RoomUpdated",
    "ScheduleAccepted",
    "ScheduleProposed",
    "SessionAdded",
    "SessionMoved",
    "SessionPinned",
    "SessionRemoved",
    "SessionUnpinned",
    "SessionUpdated",
    "SubjectErased",
    "decode_event",
    "encode_event",
    "entity_of",
    "event_type",
]


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    pass


class EditionDefined(_Event, frozen=True, kw_only=True, tag="edition.defined"):
    """The edition's calendar, vocabulary and venues, set at creation or changed since."""

    info: EditionInfo


class RoomAdded(_Event, frozen=True, kw_only=True, tag="room.added"):
    room: Room


class RoomUpdated(_Event, frozen=True, kw_only=True, tag="room.updated"):
    room: Room


class RoomRemoved(_Event, frozen=True, kw_only=True, tag="room.removed"):
    room_id: str


class PersonAdded(_Event, frozen=True, kw_only=True, tag="person.added"):
    person: Person


class PersonUpdated(_Event, frozen=True, kw_only=True, tag="person.updated"):
    person: Person


class PersonRemoved(_Event, frozen=True, kw_only=True, tag="person.removed"):
    person_id: str


class PersonAvailabilitySet(_Event, frozen=True, kw_only=True, tag="person.availability_set"):
    person_id: str
    available: tuple[Window, ...] | None = None
    unavailable: tuple[Window, ...] = ()
    preferred: tuple[Window, ...] = ()


class SessionAdded(_Event, frozen=True, kw_only=True, tag="session.added"):
    session: Session


class SessionUpdated(_Event, frozen=True, kw_only=True, tag="session.updated"):
    session: Session


class SessionRemoved(_Event, frozen=True, kw_only=True, tag="session.removed"):
    session_id: str


class SessionPinned(_Event, frozen=True, kw_only=True, tag="session.pinned"):
    session_id: str
    fixed: Fixed


class SessionUnpinned(_Event, frozen=True, kw_only=True, tag="session.unpinned"):
    session_id: str


class RegistrationRecorded(_Event, frozen=True, kw_only=True, tag="registration.recorded"):
    registration: Registration


class RegistrationRemoved(_Event, frozen=True, kw_only=True, tag="registration.removed"):
    attendee: str


class PoliciesChanged(_Event, frozen=True, kw_only=True, tag="policies.changed"):
    policies: Policies


class ScheduleProposed(_Event, frozen=True, kw_only=True, tag="schedule.proposed"):
    """A solve's answer, recorded with its status, objective, bound, time and parameters."""

    schedule_id: str
    schedule: ScheduleDocument
    job: str | None = None  # the solve job that found it: a job's answer is recorded once
    scenario: str | None = None  # the what-if scenario it was solved under, if any


class ScheduleAccepted(_Event, frozen=True, kw_only=True, tag="schedule.accepted"):
    """The committee publishes a proposed schedule: it becomes the programme."""

    schedule_id: str


class SessionMoved(_Event, frozen=True, kw_only=True, tag="session.moved"):
    """The committee moved one occurrence of the published programme by hand."""

    placement: Placement


class PlaceBooked(_Event, frozen=True, kw_only=True, tag="place.booked"):
    """An attendee took a place in one occurrence (or rotation) of a session: confirmed
    while places remained, otherwise at the end of its waiting list."""

    attendee: str
    session_id: str
    occurrence: int = 1
    rotation: str | None = None  # the rotation's start, "HH:MM"
    confirmed: bool


class PlaceCancelled(_Event, frozen=True, kw_only=True, tag="place.cancelled"):
    attendee: str
    session_id: str
    occurrence: int = 1
    rotation: str | None = None


class PlacePromoted(_Event, frozen=True, kw_only=True, tag="place.promoted"):
    """The first of a waiting list got the place a cancellation freed."""

    attendee: str
    session_id: str
    occurrence: int = 1
    rotation: str | None = None


class PlaceBumped(_Event, frozen=True, kw_only=True, tag="place.bumped"):
    """A confirmed attendee no longer fits (a smaller room, a lower capacity, a moved
    session): back to the head of the waiting list, the latest registered first."""

    attendee: str
    session_id: str
    occurrence: int = 1
    rotation: str | None = None


class ReserveOpened(_Event, frozen=True, kw_only=True, tag="places.reserve_opened"):
    """The committee offers the reserve chairs of a session's room as places too."""

    session_id: str


class ReserveClosed(_Event, frozen=True, kw_only=True, tag="places.reserve_closed"):
    session_id: str


class DocumentImported(_Event, frozen=True, kw_only=True, tag="document.imported"):
    """Closes the batch of an import: which document, by its digest, brought the changes."""

    source: str
    sha256: str
    changes: int


# An attendee whose identifier was erased is named erased-<subject> from then on.
ERASED_PREFIX = "erased-"


class SubjectErased(_Event, frozen=True, kw_only=True, tag="subject.erased"):
    """A data subject's key was destroyed on request: its personal fields read as
    erased from now on, in every event. Holds no personal data: the subject is a random
    id, and a person is named by its id in the edition (never by name)."""

    subject: str
    kind: Literal["person", "attendee"]
    person_id: str | None = None


Event = (
    EditionDefined
    | RoomAdded
    | RoomUpdated
    | RoomRemoved
    | PersonAdded
    | PersonUpdated
    | PersonRemoved
    | PersonAvailabilitySet
    | SessionAdded
    | SessionUpdated
    | SessionRemoved
    | SessionPinned
    | SessionUnpinned
    | RegistrationRecorded
    | RegistrationRemoved
    | PoliciesChanged
    | DocumentImported
    | ScheduleProposed
    | ScheduleAccepted
    | SessionMoved
    | PlaceBooked
    | PlaceCancelled
    | PlacePromoted
    | PlaceBumped
    | ReserveOpened
    | ReserveClosed
    | SubjectErased
)

# Every event type is at schema version 1 so far.
CURRENT_SCHEMA: dict[str, int] = {cls.__struct_config__.tag: 1 for cls in Event.__args__}

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}

_encoder = msgspec.json.Encoder(order="deterministic")
_decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)


def event_type(event: Event) -> str:
    tag = type(event).__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def decode_event(
    type: str,
    schema_version: int,
    payload: bytes,
    upcasters: Mapping[tuple[str, int], Upcaster] = UPCASTERS,
) -> Event:
    """Decode a stored payload, upcasting it first when it was written by an older schema."""
    current = CURRENT_SCHEMA.get(type)
    if current is None:
        raise ValueError(f'unknown event type "{type}"')
    if schema_version == current:
        return _decoder.decode(payload)
    if schema_version > current:
        raise ValueError(
            f'event type "{type}" has schema version {schema_version}; this Créneau knows '
            f"up to {current}: upgrade Créneau to read this store"
        )
    data: dict[str, Any] = msgspec.json.decode(payload)
    for version in range(schema_version, current):
        step = upcasters.get((type, version))
        if step is None:
            raise ValueError(f'no upcaster for "{type}" from schema version {version}')
        data = step(data)
    data["type"] = type
    return msgspec.convert(data, Event)  # type: ignore[no-any-return]


def entity_of(event: Event) -> str:
    """The entity an event touched, as ``kind:id``: what the audit log filters on."""
    match event:
        case EditionDefined(info=info):
            return f"edition:{info.id}"
        case RoomAdded(room=r) | RoomUpdated(room=r):
            return f"room:{r.id}"
        case RoomRemoved(room_id=rid):
            return f"room:{rid}"
        case PersonAdded(person=p) | PersonUpdated(person=p):
            return f"person:{p.id}"
        case PersonRemoved(person_id=pid) | PersonAvailabilitySet(person_id=pid):
            return f"person:{pid}"
        case SessionAdded(session=s) | SessionUpdated(session=s):
            return f"session:{s.id}"
        case SessionRemoved(session_id=sid) | SessionPinned(session_id=sid):
            return f"session:{sid}"
        case SessionUnpinned(session_id=sid):
            return f"session:{sid}"
        case RegistrationRecorded(registration=reg):
            return f"attendee:{reg.attendee}"
        case RegistrationRemoved(attendee=a):
            return f"attendee:{a}"
        case PoliciesChanged():
            return "policies"
        case DocumentImported(source=src):
            return f"document:{src}"
        case ScheduleProposed(schedule_id=sid) | ScheduleAccepted(schedule_id=sid):
            return f"schedule:{sid}"
        case SessionMoved(placement=p):
            return f"session:{p.session}"
        case PlaceBooked(attendee=a) | PlaceCancelled(attendee=a) | PlacePromoted(attendee=a):
            return f"attendee:{a}"
        case PlaceBumped(attendee=a):
            return f"attendee:{a}"
        case ReserveOpened(session_id=sid) | ReserveClosed(session_id=sid):
            return f"session:{sid}"
        case SubjectErased(kind="person", person_id=pid) if pid is not None:
            return f"person:{pid}"
        case SubjectErased(subject=subject):
            return f"subject:{subject}"
        case _:
            assert_never(event)
