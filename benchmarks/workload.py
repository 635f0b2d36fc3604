"""Seeded event streams shaped like a national edition, for the store benchmarks."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator

import msgspec

from creneau.scheduler import (
    Day,
    EditionInfo,
    Fixed,
    Metadata,
    NewEvent,
    Person,
    Registration,
    Room,
    Session,
    Window,
    encode_event,
    event_type,
    new_event_id,
)
from creneau.scheduler._events import (
    EditionDefined,
    Event,
    PersonAdded,
    PersonAvailabilitySet,
    PlaceBooked,
    RegistrationRecorded,
    RoomAdded,
    RoomUpdated,
    SessionAdded,
    SessionPinned,
    SessionUnpinned,
    SessionUpdated,
)

DAYS = (dt.date(2022, 10, 17), dt.date(2022, 10, 18))


def edition_events(count: int, seed: int = 7, *, attendees: bool = False) -> Iterator[Event]:
    """A valid stream of ``count`` events: a Lens-sized edition, then committee edits;
    with ``attendees``, half of what follows the edition is the registration desk's
    (an attendee registered, a place booked): events with personal fields to seal."""
    rng = random.Random(seed)
    registered: list[str] = []
    info = EditionInfo(
        id="bench",
        name="Bench national edition",
        days=tuple(Day(day=d, open="08:30", close="18:30") for d in DAYS),
    )
    rooms = [
        Room(
            id=f"room-{i}",
            name=f"Salle {i}",
            capacity=rng.choice([30, 60, 120, 400]),
            features=("screen",),
        )
        for i in range(20)
    ]
    people = [
        Person(
            id=f"person-{i}",
            name=f"Personne {i}",
            gender=rng.choice(["woman", "man", "undisclosed"]),
        )
        for i in range(230)
    ]
    sessions = [
        Session(
            id=f"session-{i}",
            title=f"Session {i}",
            duration=rng.choice([45, 60, 90]),
            audiences=("professionals", "general_public"),
            exclusive=False,
            speakers=tuple(f"person-{rng.randrange(230)}" for _ in range(2)),
        )
        for i in range(100)
    ]
    setup: list[Event] = [EditionDefined(info=info)]
    setup += [RoomAdded(room=r) for r in rooms]
    setup += [PersonAdded(person=p) for p in people]
    setup += [SessionAdded(session=s) for s in sessions]
    yield from setup[:count]
    for _ in range(count - len(setup)):
        if attendees and (not registered or rng.random() < 0.25):
            who = f"attendee-{len(registered)}@example.org"
            registered.append(who)
            yield RegistrationRecorded(registration=Registration(
                attendee=who, profile=rng.choice(["professionals", "general_public"])))  # fmt: skip
            continue
        if attendees and rng.random() < 1 / 3:
            yield PlaceBooked(attendee=rng.choice(registered),
                              session_id=rng.choice(sessions).id, confirmed=True)  # fmt: skip
            continue
        kind = rng.randrange(5)
        if kind == 0:
            r = rng.choice(rooms)
            yield RoomUpdated(room=msgspec.structs.replace(r, capacity=rng.randrange(20, 500)))
        elif kind == 1:
            p = rng.choice(people)
            day = rng.choice(DAYS)
            start = rng.randrange(9, 16)
            yield PersonAvailabilitySet(
                person_id=p.id,
                available=(Window(day=day, start=f"{start:02d}:00", end=f"{start + 2:02d}:00"),),
            )
        elif kind == 2:
            s = rng.choice(sessions)
            yield SessionPinned(
                session_id=s.id,
                fixed=Fixed(day=rng.choice(DAYS), start=f"{rng.randrange(9, 16):02d}:30"),
            )
        elif kind == 3:
            yield SessionUnpinned(session_id=rng.choice(sessions).id)
        else:
            s = rng.choice(sessions)
            yield SessionUpdated(session=msgspec.structs.replace(s, attendance=rng.randrange(300)))


def new_events(events: list[Event]) -> list[NewEvent]:
    meta = Metadata(
        actor="bench", recorded_at="2022-10-17T08:00:00.000000Z", correlation_id=str(uuid.uuid4())
    )
    return [
        NewEvent(
            event_id=new_event_id(),
            type=event_type(e),
            schema_version=1,
            payload=encode_event(e),
            metadata=meta,
        )
        for e in events
    ]
