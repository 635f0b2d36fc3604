"""Hypothesis strategies and small builders shared by the tests."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import strategies as st

from creneau.scheduler import Metadata, NewEvent, new_event_id

DAY = dt.date(2023, 10, 12)


def new_event(n: int = 0, *, type: str = "test.happened", payload: bytes | None = None) -> NewEvent:
    return NewEvent(
        event_id=new_event_id(),
        type=type,
        schema_version=1,
        payload=payload if payload is not None else b'{"n":%d}' % n,
        metadata=Metadata(
            actor="tester",
            recorded_at="2023-10-12T08:00:00.000000Z",
            correlation_id=str(uuid.uuid4()),
        ),
    )


def batch(size: int, start: int = 0) -> list[NewEvent]:
    return [new_event(start + i) for i in range(size)]


ids = st.sampled_from([f"x{i}" for i in range(6)])


# -- editions and commands ----------------------------------------------------------------

from creneau.scheduler import (  # noqa: E402
    AddPerson,
    AddRoom,
    AddSession,
    After,
    BookPlace,
    CancelPlace,
    ChangePolicies,
    Command,
    Day,
    DefineEdition,
    EditionInfo,
    Fixed,
    Person,
    PinSession,
    Policies,
    RecordRegistration,
    Registration,
    RemovePerson,
    RemoveRegistration,
    RemoveRoom,
    RemoveSession,
    Room,
    Session,
    SetAvailability,
    UnpinSession,
    UpdatePerson,
    UpdateRoom,
    UpdateSession,
    Window,
)

INFO = EditionInfo(
    id="ed",
    name="Test edition",
    days=(
        Day(day=DAY, open="08:30", close="17:00"),
        Day(day=DAY + dt.timedelta(days=1), open="09:00", close="12:00"),
    ),
)
ROOM_IDS = ["r0", "r1", "r2"]
PERSON_IDS = ["p0", "p1", "p2", "p3"]
SESSION_IDS = ["s0", "s1", "s2", "s3"]


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def windows(draw: st.DrawFn) -> Window:
    day = draw(st.sampled_from([d.day for d in INFO.days]))
    start = draw(st.integers(8 * 12, 15 * 12)) * 5
    length = draw(st.integers(1, 24)) * 5
    return Window(day=day, start=clock(start), end=clock(start + length))


def some(ids: list[str], max_size: int = 3) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(ids), unique=True, max_size=max_size).map(tuple)


rooms = st.builds(
    Room,
    id=st.sampled_from(ROOM_IDS),
    name=st.text(max_size=8),
    capacity=st.integers(0, 300),
    reserve=st.integers(0, 50),
    features=some(["stage", "screen", "tables"]),
    concurrent=st.integers(1, 3),
)
people = st.builds(
    Person,
    id=st.sampled_from(PERSON_IDS),
    name=st.text(max_size=8),
    gender=st.sampled_from(["woman", "man", "nonbinary", "undisclosed"]),
    can_moderate=st.booleans(),
    max_per_day=st.none() | st.integers(1, 4),
)
sessions = st.builds(
    Session,
    id=st.sampled_from(SESSION_IDS),
    title=st.text(max_size=8),
    format=st.sampled_from(["workshop", "plenary", "panel"]),
    duration=st.integers(1, 24).map(lambda n: n * 5),
    speakers=some(PERSON_IDS),
    rooms=st.none() | some(ROOM_IDS).filter(bool),
    attendance=st.integers(0, 200),
    capacity=st.none() | st.integers(1, 3),
    after=st.lists(
        st.builds(After, session=st.sampled_from(SESSION_IDS), min_gap=st.integers(0, 30)),
        max_size=1,
    ).map(tuple),
)
fixed = st.builds(
    Fixed,
    day=st.none() | st.sampled_from([d.day for d in INFO.days]),
    start=st.none() | st.integers(8 * 12, 15 * 12).map(lambda n: clock(n * 5)),
    room=st.none() | st.sampled_from(ROOM_IDS),
)
registrations = st.builds(
    Registration,
    attendee=st.sampled_from(["a0", "a1", "a2"]),
    profile=st.sampled_from(["professionals", "general_public"]),
    sessions=some(SESSION_IDS),
)

_command_kinds: list[st.SearchStrategy[Command]] = [
    st.builds(AddRoom, room=rooms),
    st.builds(UpdateRoom, room=rooms),
    st.builds(RemoveRoom, room_id=st.sampled_from(ROOM_IDS)),
    st.builds(AddPerson, person=people),
    st.builds(UpdatePerson, person=people),
    st.builds(RemovePerson, person_id=st.sampled_from(PERSON_IDS)),
    st.builds(
        SetAvailability,
        person_id=st.sampled_from(PERSON_IDS),
        available=st.none() | st.lists(windows(), max_size=2).map(tuple),
        unavailable=st.lists(windows(), max_size=1).map(tuple),
    ),
    # Sessions are what an edition is about: draw their commands more often.
    *[st.builds(AddSession, session=sessions)] * 4,
    *[st.builds(UpdateSession, session=sessions)] * 2,
    st.builds(RemoveSession, session_id=st.sampled_from(SESSION_IDS)),
    *[st.builds(PinSession, session_id=st.sampled_from(SESSION_IDS), fixed=fixed)] * 2,
    st.builds(UnpinSession, session_id=st.sampled_from(SESSION_IDS)),
    st.builds(
        ChangePolicies,
        policies=st.builds(Policies, changeover=st.integers(0, 20), speaker_gap=st.integers(0, 20)),
    ),
    st.builds(RecordRegistration, registration=registrations),
    st.builds(RemoveRegistration, attendee=st.sampled_from(["a0", "a1", "a2"])),
    *[
        st.builds(
            BookPlace,
            attendee=st.sampled_from(["a0", "a1", "a2", "a3"]),
            session_id=st.sampled_from(SESSION_IDS),
        )
    ]
    * 3,
    st.builds(
        CancelPlace,
        attendee=st.sampled_from(["a0", "a1", "a2", "a3"]),
        session_id=st.sampled_from(SESSION_IDS),
    ),
]
# Drawn by kind first, so that a kind listed twice is drawn twice as often.
commands: st.SearchStrategy[Command] = st.sampled_from(_command_kinds).flatmap(lambda k: k)

define = DefineEdition(info=INFO)

# Rooms and people every generated run starts from, so that sessions can name them.
setup: list[Command] = [
    define,
    *(AddRoom(room=Room(id=r, capacity=100)) for r in ROOM_IDS),
    *(AddPerson(person=Person(id=p)) for p in PERSON_IDS),
]
