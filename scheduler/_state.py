"""The edition aggregate's state, rebuilt purely from its events.

``evolve(state, event)`` is the pure fold step. Replaying a long stream through it
would copy the entity maps once per event, so ``replay`` folds a whole run of events
into one working copy and freezes it once; both go through the same ``_apply``, so
there is one definition of what each event does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, assert_never

import attrs
import msgspec

from creneau.scheduler._events import (
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
    entity_of,
)
from creneau.scheduler._layered import Draft, Layered
from creneau.scheduler._schedule import Placement, ScheduleDocument
from creneau.scheduler._values import (
    EditionInfo,
    EditionSnapshot,
    Person,
    Policies,
    Registration,
    Room,
    Session,
)

__all__ = ["EditionState", "Fold", "PlaceKey", "evolve", "replay"]

# Maps at least this large are changed through a draft rather than copied.
DRAFT_FROM = 512
PlaceKey = tuple[str, int, str | None]  # (session, occurrence, rotation start or None)


def _frozen_map(m: Mapping[Any, Any]) -> Mapping[Any, Any]:
    # A layered map is kept as it is (read-only, its base never changed once shared);
    # anything else is copied, so that the state cannot change under its holder.
    return m if isinstance(m, Layered) else Layered(dict(m))


@attrs.frozen
class EditionState:
    """An edition as its stream says it is at ``version``; ``info`` is None before it exists."""

    version: int = 0
    info: EditionInfo | None = None
    rooms: Mapping[str, Room] = attrs.field(factory=dict, converter=_frozen_map)
    people: Mapping[str, Person] = attrs.field(factory=dict, converter=_frozen_map)
    sessions: Mapping[str, Session] = attrs.field(factory=dict, converter=_frozen_map)
    registrations: Mapping[str, Registration] = attrs.field(factory=dict, converter=_frozen_map)
    policies: Policies = attrs.field(factory=Policies)
    schedules: Mapping[str, ScheduleDocument] = attrs.field(factory=dict, converter=_frozen_map)
    accepted: str | None = None  # the schedule the programme was published from
    programme: tuple[Placement, ...] = ()  # the published programme, with the moves since
    # Places by (session, occurrence, rotation): (confirmed, waiting), each in booking order.
    places: Mapping[PlaceKey, tuple[tuple[str, ...], tuple[str, ...]]] = attrs.field(
        factory=dict, converter=_frozen_map
    )
    # Who holds or waits for which places: the index of ``places`` by attendee.
    holdings: Mapping[str, tuple[PlaceKey, ...]] = attrs.field(factory=dict, converter=_frozen_map)
    # Sessions whose room's reserve chairs are offered as places.
    reserve_open: frozenset[str] = frozenset()
    # What a solve reads as rules (not registrations or places), by entity ("room:r1",
    # "policies", "programme"…): the version that last changed it. A schedule solved
    # on version N is recordable while none of these is above N.
    inputs: Mapping[str, int] = attrs.field(factory=dict, converter=_frozen_map)
    # Solve jobs whose answer is recorded: job id -> schedule id.
    solve_jobs: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    # Schedules solved under a what-if scenario: schedule id -> the scenario's name.
    scenarios: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)

    @property
    def exists(self) -> bool:
        return self.info is not None

    def snapshot(self, *, erased: str | None = None) -> EditionSnapshot:
        """The whole edition as one value, entities in the order they were added;
        ``erased`` the name given to erased people (to show them by, in a language)."""
        if self.info is None:
            raise ValueError("the edition does not exist yet")
        fields = {f: getattr(self.info, f) for f in EditionInfo.__struct_fields__}
        people = tuple(self.people.values())
        if erased is not None:
            people = tuple(msgspec.structs.replace(p, name=erased) if p.erased else p
                           for p in people)  # fmt: skip
        return EditionSnapshot(
            **fields,
            rooms=tuple(self.rooms.values()),
            people=people,
            sessions=tuple(self.sessions.values()),
            registrations=tuple(self.registrations.values()),
            policies=self.policies,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EditionState):
            return NotImplemented
        # Order of entities matters: it is the document order an export gives back.
        return (
            self.version == other.version
            and self.info == other.info
            and list(self.rooms.items()) == list(other.rooms.items())
            and list(self.people.items()) == list(other.people.items())
            and list(self.sessions.items()) == list(other.sessions.items())
            and list(self.registrations.items()) == list(other.registrations.items())
            and self.policies == other.policies
            and list(self.schedules.items()) == list(other.schedules.items())
            and self.accepted == other.accepted
            and self.programme == other.programme
            and dict(self.places) == dict(other.places)
            and dict(self.holdings) == dict(other.holdings)
            and self.reserve_open == other.reserve_open
            and dict(self.inputs) == dict(other.inputs)
            and dict(self.solve_jobs) == dict(other.solve_jobs)
            and dict(self.scenarios) == dict(other.scenarios)
        )

    __hash__ = None  # type: ignore[assignment]


class _Working:
    """A working copy of a state for the length of one fold. Entity maps are shared with
    the state folded from until an event changes them, and then only their changes are
    kept apart (``Draft``): a command that books one place copies no room, person or
    registration."""

    MAPS = ("rooms", "people", "sessions", "registrations", "schedules", "places", "holdings",
            "inputs", "solve_jobs", "scenarios")  # fmt: skip

    def __init__(self, s: EditionState) -> None:
        self.version = s.version
        self.info = s.info
        self.policies = s.policies
        self.accepted = s.accepted
        self.programme = s.programme
        self.rooms: Mapping[Any, Any] = s.rooms
        self.people: Mapping[Any, Any] = s.people
        self.sessions: Mapping[Any, Any] = s.sessions
        self.registrations: Mapping[Any, Any] = s.registrations
        self.schedules: Mapping[Any, Any] = s.schedules
        self.places: Mapping[Any, Any] = s.places
        self.holdings: Mapping[Any, Any] = s.holdings
        self.inputs: Mapping[Any, Any] = s.inputs
        self.solve_jobs: Mapping[Any, Any] = s.solve_jobs
        self.scenarios: Mapping[Any, Any] = s.scenarios
        self.reserve_open = s.reserve_open
        self._owned: dict[str, MutableMapping[Any, Any]] = {}

    def own(self, name: str) -> MutableMapping[Any, Any]:
        """The map ``name``, the first time it is about to change: a draft sharing the
        entries of a large map, a plain copy of a small one (a dict is faster to fill and
        read than a draft, and a replay from the start fills every map from empty)."""
        owned = self._owned.get(name)
        if owned is None:
            current = getattr(self, name)
            owned = Draft(current) if len(current) >= DRAFT_FROM else dict(current)
            self._owned[name] = owned
            setattr(self, name, owned)
        return owned

    def freeze(self) -> EditionState:
        def frozen(m: MutableMapping[Any, Any]) -> Layered:
            return m.freeze() if isinstance(m, Draft) else Layered(m)  # type: ignore[arg-type]

        maps = {name: frozen(self._owned[name]) if name in self._owned
                else getattr(self, name) for name in self.MAPS}  # fmt: skip
        return EditionState(
            version=self.version, info=self.info, policies=self.policies,
            accepted=self.accepted, programme=self.programme, reserve_open=self.reserve_open,
            **maps,
        )  # fmt: skip

    def hold(self, attendee: str, key: PlaceKey) -> None:
        keys = self.holdings.get(attendee, ())
        if key not in keys:
            self.own("holdings")[attendee] = (*keys, key)

    def release(self, attendee: str, key: PlaceKey) -> None:
        keys = tuple(k for k in self.holdings.get(attendee, ()) if k != key)
        if keys:
            self.own("holdings")[attendee] = keys
        else:
            self.own("holdings").pop(attendee, None)


def _apply(w: _Working, event: Event) -> None:
    match event:
        case EditionDefined(info=info):
            w.info = info
        case RoomAdded(room=r) | RoomUpdated(room=r):
            w.own("rooms")[r.id] = r
        case RoomRemoved(room_id=rid):
            del w.own("rooms")[rid]
        case PersonAdded(person=p) | PersonUpdated(person=p):
            w.own("people")[p.id] = p
        case PersonRemoved(person_id=pid):
            del w.own("people")[pid]
        case PersonAvailabilitySet(person_id=pid):
            w.own("people")[pid] = msgspec.structs.replace(
                w.people[pid],
                available=event.available,
                unavailable=event.unavailable,
                preferred=event.preferred,
            )
        case SessionAdded(session=s) | SessionUpdated(session=s):
            w.own("sessions")[s.id] = s
        case SessionRemoved(session_id=sid):
            del w.own("sessions")[sid]
        case SessionPinned(session_id=sid, fixed=fixed):
            w.own("sessions")[sid] = msgspec.structs.replace(w.sessions[sid], fixed=fixed)
        case SessionUnpinned(session_id=sid):
            w.own("sessions")[sid] = msgspec.structs.replace(w.sessions[sid], fixed=None)
        case RegistrationRecorded(registration=reg):
            w.own("registrations")[reg.attendee] = reg
        case RegistrationRemoved(attendee=a):
            del w.own("registrations")[a]
        case PoliciesChanged(policies=p):
            w.policies = p
        case DocumentImported():
            pass
        case ScheduleProposed(schedule_id=sid, schedule=schedule, job=job, scenario=scenario):
            w.own("schedules")[sid] = schedule
            if job is not None:
                w.own("solve_jobs")[job] = sid
            if scenario is not None:
                w.own("scenarios")[sid] = scenario
        case ScheduleAccepted(schedule_id=sid):
            w.accepted = sid
            w.programme = w.schedules[sid].assignments
        case PlaceBooked(attendee=a, session_id=sid, occurrence=k, rotation=r, confirmed=ok):
            confirmed, waiting = w.places.get((sid, k, r), ((), ()))
            w.own("places")[(sid, k, r)] = (
                ((*confirmed, a), waiting) if ok else (confirmed, (*waiting, a))
            )
            w.hold(a, (sid, k, r))
        case PlaceCancelled(attendee=a, session_id=sid, occurrence=k, rotation=r):
            confirmed, waiting = w.places[(sid, k, r)]
            w.own("places")[(sid, k, r)] = (
                tuple(x for x in confirmed if x != a),
                tuple(x for x in waiting if x != a),
            )
            w.release(a, (sid, k, r))
        case PlacePromoted(attendee=a, session_id=sid, occurrence=k, rotation=r):
            confirmed, waiting = w.places[(sid, k, r)]
            w.own("places")[(sid, k, r)] = ((*confirmed, a), tuple(x for x in waiting if x != a))
        case PlaceBumped(attendee=a, session_id=sid, occurrence=k, rotation=r):
            confirmed, waiting = w.places[(sid, k, r)]
            w.own("places")[(sid, k, r)] = (tuple(x for x in confirmed if x != a), (a, *waiting))
        case SessionMoved(placement=moved):
            w.programme = tuple(
                moved if (p.session, p.occurrence) == (moved.session, moved.occurrence) else p
                for p in w.programme
            )
        case ReserveOpened(session_id=sid):
            w.reserve_open = w.reserve_open | {sid}
        case ReserveClosed(session_id=sid):
            w.reserve_open = w.reserve_open - {sid}
        case SubjectErased(kind="person", person_id=pid) if pid in w.people:
            # What a reader without the key sees; an attendee's identifier is the key of
            # its places, which the service folds again from the log (EditionService.load).
            w.own("people")[pid] = msgspec.structs.replace(
                w.people[pid], name="", organisation="", gender="undisclosed", erased=True
            )
        case SubjectErased():
            pass
        case _:
            assert_never(event)
    w.version += 1
    read = _read_by_solver(event)
    if read is not None:
        w.own("inputs")[read] = w.version


_LIVE_OR_RECORD = frozenset({
    RegistrationRecorded, RegistrationRemoved, PlaceBooked, PlaceCancelled, PlacePromoted,
    PlaceBumped, ReserveOpened, ReserveClosed, ScheduleProposed, DocumentImported,
})  # fmt: skip


def _read_by_solver(event: Event) -> str | None:
    """What of the edition's rules an event changed, as a solve reads them; None for the
    live data (registrations, places, reserve chairs) and for what only records."""
    if type(event) in _LIVE_OR_RECORD:  # most of a desk's stream: one lookup
        return None
    match event:
        case SubjectErased(kind="attendee"):
            return None
        case ScheduleAccepted() | SessionMoved():  # a re-plan starts from the programme
            return "programme"
        case _:
            return entity_of(event)


class Fold(_Working):
    """A state being folded one event at a time, readable as a state between events:
    deciding a long run of commands (a spreadsheet of registrations) on it copies the
    entity maps once, not once per command."""

    def apply(self, events: Iterable[Event]) -> None:
        for event in events:
            _apply(self, event)


def evolve(state: EditionState, event: Event) -> EditionState:
    """The state after one more event."""
    w = _Working(state)
    _apply(w, event)
    return w.freeze()


def replay(events: Iterable[Event], state: EditionState | None = None) -> EditionState:
    """The state after a run of events, from ``state`` (an empty edition by default)."""
    w = _Working(state or EditionState())
    for event in events:
        _apply(w, event)
    return w.freeze()
