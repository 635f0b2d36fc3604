"""Commands a committee sends, and ``decide``: a command against the state gives events.

``decide`` never writes: it returns the events that carry the change out, after
checking that the edition they lead to keeps every rule (``validate_snapshot``), so
a refused command leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, assert_never

import msgspec

from creneau.scheduler._checker import check_schedule
from creneau.scheduler._errors import InvalidCommand, Problem
from creneau.scheduler._events import (
    DocumentImported,
    EditionDefined,
    Event,
    PersonAdded,
    PersonAvailabilitySet,
    PersonRemoved,
    PersonUpdated,
    PlaceCancelled,
    PoliciesChanged,
    RegistrationRecorded,
    RegistrationRemoved,
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
)
from creneau.scheduler._places import book, cancel, rebalance, set_reserve
from creneau.scheduler._schedule import ScheduleDocument
from creneau.scheduler._state import EditionState, Fold, replay
from creneau.scheduler._validation import (
    is_clock,
    validate_change,
    validate_snapshot,
    validate_state,
)
from creneau.scheduler._values import (
    EditionInfo,
    EditionSnapshot,
    Fixed,
    Person,
    Policies,
    Registration,
    Room,
    Session,
    Window,
    minutes,
)

__all__ = [
    "AcceptSchedule",
    "AddPerson",
    "AddRoom",
    "AddSession",
    "BookPlace",
    "BookPlaces",
    "CancelPlace",
    "ChangePolicies",
    "CloseReserve",
    "Command",
    "DefineEdition",
    "ImportEdition",
    "MoveSession",
    "OpenReserve",
    "PinSession",
    "RecordRegistration",
    "RecordSchedule",
    "RemovePerson",
    "RemoveRegistration",
    "RemoveRoom",
    "RemoveSession",
    "SetAvailability",
    "SolveProgramme",
    "UnpinSession",
    "UpdatePerson",
    "UpdateRoom",
    "UpdateSession",
    "decide",
]


class _Command(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="command"
):
    pass


class DefineEdition(_Command, frozen=True, kw_only=True, tag="define_edition"):
    info: EditionInfo


class AddRoom(_Command, frozen=True, kw_only=True, tag="add_room"):
    room: Room


class UpdateRoom(_Command, frozen=True, kw_only=True, tag="update_room"):
    room: Room


class RemoveRoom(_Command, frozen=True, kw_only=True, tag="remove_room"):
    room_id: str


class AddPerson(_Command, frozen=True, kw_only=True, tag="add_person"):
    person: Person


class UpdatePerson(_Command, frozen=True, kw_only=True, tag="update_person"):
    person: Person


class RemovePerson(_Command, frozen=True, kw_only=True, tag="remove_person"):
    person_id: str


class SetAvailability(_Command, frozen=True, kw_only=True, tag="set_availability"):
    person_id: str
    available: tuple[Window, ...] | None = None
    unavailable: tuple[Window, ...] = ()
    preferred: tuple[Window, ...] = ()


class AddSession(_Command, frozen=True, kw_only=True, tag="add_session"):
    session: Session


class UpdateSession(_Command, frozen=True, kw_only=True, tag="update_session"):
    session: Session


class RemoveSession(_Command, frozen=True, kw_only=True, tag="remove_session"):
    session_id: str


class PinSession(_Command, frozen=True, kw_only=True, tag="pin_session"):
    session_id: str
    fixed: Fixed


class UnpinSession(_Command, frozen=True, kw_only=True, tag="unpin_session"):
    session_id: str


class ChangePolicies(_Command, frozen=True, kw_only=True, tag="change_policies"):
    policies: Policies


class RecordRegistration(_Command, frozen=True, kw_only=True, tag="record_registration"):
    registration: Registration


class RemoveRegistration(_Command, frozen=True, kw_only=True, tag="remove_registration"):
    attendee: str


class ImportEdition(_Command, frozen=True, kw_only=True, tag="import_edition"):
    """Make the edition what a whole document says: only the differences become events.

    An import changes what the document describes. What the edition holds and the
    document does not name (rooms, people, sessions, registrations, the sessions an
    attendee chose) is kept, unless ``prune``: then it is removed, and so are the places
    of the attendees it removes. Without ``prune`` an import that would cancel places is
    refused, naming them."""

    snapshot: EditionSnapshot
    source: str = ""
    sha256: str = ""
    prune: bool = False


class BookPlace(_Command, frozen=True, kw_only=True, tag="book_place"):
    """Register an attendee to a session occurrence (or rotation): a place while places
    remain, otherwise the end of the waiting list. Registers them to the edition first
    when needed, with ``profile`` (default: the edition's first audience)."""

    attendee: str
    session_id: str
    occurrence: int = 1
    rotation: str | None = None
    profile: str | None = None


class BookPlaces(_Command, frozen=True, kw_only=True, tag="book_places"):
    """Several bookings at once, in order, all or none (an imported spreadsheet)."""

    bookings: tuple[BookPlace, ...]


class CancelPlace(_Command, frozen=True, kw_only=True, tag="cancel_place"):
    """Give a place back; the first of the waiting list takes it."""

    attendee: str
    session_id: str


class OpenReserve(_Command, frozen=True, kw_only=True, tag="open_reserve"):
    """Offer the reserve chairs of a session's room as places too: the first waiting
    take them, each promotion an event."""

    session_id: str


class CloseReserve(_Command, frozen=True, kw_only=True, tag="close_reserve"):
    """Stop offering the reserve chairs: the latest confirmed beyond the seats go back
    to the head of the waiting list."""

    session_id: str


class SolveProgramme(_Command, frozen=True, kw_only=True, tag="solve_programme"):
    """Solve the edition as it is and record the answer as a proposed schedule. Carried
    out by ``EditionService.solve`` (solving is not a pure decision); what it records
    goes through ``RecordSchedule``."""

    time_limit: float = 30.0
    workers: int = 2
    seed: int = 0


class RecordSchedule(_Command, frozen=True, kw_only=True, tag="record_schedule"):
    """Record a solve's answer as a proposed schedule (the service solves, then sends this)."""

    schedule: ScheduleDocument
    # The solve job it comes from: recording a job's answer again records nothing.
    job: str | None = None
    # The what-if scenario it was solved under (scheduler/_scenarios.py), if any.
    scenario: str | None = None


class AcceptSchedule(_Command, frozen=True, kw_only=True, tag="accept_schedule"):
    """Publish a proposed schedule as the programme; the latest one when none is named."""

    schedule_id: str | None = None


class MoveSession(_Command, frozen=True, kw_only=True, tag="move_session"):
    """Move one occurrence of the published programme by hand: refused, naming the rule,
    when the programme would break a hard rule."""

    session_id: str
    occurrence: int = 1
    day: dt.date | None = None
    start: str | None = None
    room: str | None = None


Command = (
    DefineEdition
    | AddRoom
    | UpdateRoom
    | RemoveRoom
    | AddPerson
    | UpdatePerson
    | RemovePerson
    | SetAvailability
    | AddSession
    | UpdateSession
    | RemoveSession
    | PinSession
    | UnpinSession
    | ChangePolicies
    | RecordRegistration
    | RemoveRegistration
    | ImportEdition
    | RecordSchedule
    | AcceptSchedule
    | MoveSession
    | BookPlace
    | BookPlaces
    | CancelPlace
    | OpenReserve
    | CloseReserve
)


def _refuse(where: str, code: str, **params: Any) -> InvalidCommand:
    return InvalidCommand([Problem(where, code, params)])


T = TypeVar("T")


def _require(entities: Mapping[str, T], ident: str, kind: str, path: str) -> T:
    if ident not in entities:
        raise _refuse(path, f"unknown_{kind}", id=ident)
    return entities[ident]


def _absent(entities: Mapping[str, object], ident: str, kind: str, path: str) -> None:
    if ident in entities:
        raise _refuse(path, f"{kind}_exists", id=ident)


def _session_change(old: Session, new: Session) -> list[Event]:
    if old == new:
        return []
    if msgspec.structs.replace(old, fixed=new.fixed) == new:
        if new.fixed is None:
            return [SessionUnpinned(session_id=new.id)]
        return [SessionPinned(session_id=new.id, fixed=new.fixed)]
    return [SessionUpdated(session=new)]


def _person_change(old: Person, new: Person) -> list[Event]:
    if old == new:
        return []
    same_but_times = msgspec.structs.replace(
        old, available=new.available, unavailable=new.unavailable, preferred=new.preferred
    )
    if same_but_times == new:
        return [
            PersonAvailabilitySet(
                person_id=new.id,
                available=new.available,
                unavailable=new.unavailable,
                preferred=new.preferred,
            )
        ]
    return [PersonUpdated(person=new)]


E = TypeVar("E")


def _sync(
    current: Mapping[str, E],
    wanted: Sequence[E],
    key: Callable[[E], str],
    added: Callable[[E], Event],
    changed: Callable[[E, E], list[Event]],
    removed: Callable[[str], Event],
    prune: bool,
) -> tuple[list[Event], list[Event]]:
    """(removals, additions and changes) that turn ``current`` into ``wanted``; what
    ``wanted`` does not name is removed only when pruning."""
    removals: list[Event] = []
    if prune:
        wanted_ids = {key(w) for w in wanted}
        removals = [removed(k) for k in current if k not in wanted_ids]
    rest: list[Event] = []
    for w in wanted:
        old = current.get(key(w))
        rest += [added(w)] if old is None else changed(old, w)
    return removals, rest


def _registration_change(prune: bool) -> Callable[[Registration, Registration], list[Event]]:
    def changed(old: Registration, new: Registration) -> list[Event]:
        if not prune:  # the sessions the attendee chose through other commands stay
            extra = tuple(s for s in old.sessions if s not in new.sessions)
            new = msgspec.structs.replace(new, sessions=(*new.sessions, *extra))
        return [] if old == new else [RegistrationRecorded(registration=new)]

    return changed


def _import(state: EditionState, cmd: ImportEdition) -> list[Event]:
    snap = cmd.snapshot
    problems = validate_snapshot(snap)
    if problems:
        raise InvalidCommand(problems)
    prune = cmd.prune or not state.exists
    events: list[Event] = []
    if state.info != snap.info:
        events.append(EditionDefined(info=snap.info))
    s_rm, s_rest = _sync(
        state.sessions, snap.sessions, lambda s: s.id, lambda s: SessionAdded(session=s),
        _session_change, lambda k: SessionRemoved(session_id=k), prune,
    )  # fmt: skip
    p_rm, p_rest = _sync(
        state.people, snap.people, lambda p: p.id, lambda p: PersonAdded(person=p),
        _person_change, lambda k: PersonRemoved(person_id=k), prune,
    )  # fmt: skip
    r_rm, r_rest = _sync(
        state.rooms, snap.rooms, lambda r: r.id, lambda r: RoomAdded(room=r),
        lambda o, n: [] if o == n else [RoomUpdated(room=n)],
        lambda k: RoomRemoved(room_id=k), prune,
    )  # fmt: skip
    g_rm, g_rest = _sync(
        state.registrations, snap.registrations, lambda g: g.attendee,
        lambda g: RegistrationRecorded(registration=g), _registration_change(prune),
        lambda k: RegistrationRemoved(attendee=k), prune,
    )  # fmt: skip
    # Removals first, dependents before what they depend on; then additions the other way.
    events += g_rm + s_rm + p_rm + r_rm + r_rest + p_rest + s_rest + g_rest
    if state.policies != snap.policies:
        events.append(PoliciesChanged(policies=snap.policies))
    if events or not state.exists:
        events.append(DocumentImported(source=cmd.source, sha256=cmd.sha256, changes=len(events)))
    return events


def _check_import(before: EditionState, after: EditionState, cmd: ImportEdition,
                  balance: Sequence[Event]) -> None:  # fmt: skip
    """What an import keeps of the edition must hold with what it changes; and without
    ``prune`` it cancels no place."""
    if before.exists and not cmd.prune:
        problems = validate_state(after)
        if problems:
            raise InvalidCommand(problems)
        cancelled = [e for e in balance if isinstance(e, PlaceCancelled)]
        if cancelled:
            raise InvalidCommand([
                Problem("", "import_cancels_place", {"attendee": e.attendee,
                        "session": e.session_id, "occurrence": e.occurrence})
                for e in cancelled
            ])  # fmt: skip


def _events_for(state: EditionState, cmd: Command) -> list[Event]:
    audiences = state.info.audiences if state.info else ()
    match cmd:
        case DefineEdition(info=info):
            if state.info is not None and state.info.id != info.id:
                raise _refuse("info.id", "other_edition", edition=state.info.id)
            return [] if info == state.info else [EditionDefined(info=info)]
        case AddRoom(room=r):
            _absent(state.rooms, r.id, "room", "room.id")
            return [RoomAdded(room=r)]
        case UpdateRoom(room=r):
            old_room = _require(state.rooms, r.id, "room", "room.id")
            return [] if old_room == r else [RoomUpdated(room=r)]
        case RemoveRoom(room_id=rid):
            _require(state.rooms, rid, "room", "room_id")
            return [RoomRemoved(room_id=rid)]
        case AddPerson(person=p):
            _absent(state.people, p.id, "person", "person.id")
            return [PersonAdded(person=p)]
        case UpdatePerson(person=p):
            return _person_change(_require(state.people, p.id, "person", "person.id"), p)
        case RemovePerson(person_id=pid):
            _require(state.people, pid, "person", "person_id")
            return [PersonRemoved(person_id=pid)]
        case SetAvailability(person_id=pid):
            old_person = _require(state.people, pid, "person", "person_id")
            new_person = msgspec.structs.replace(
                old_person,
                available=cmd.available,
                unavailable=cmd.unavailable,
                preferred=cmd.preferred,
            )
            return _person_change(old_person, new_person)
        case AddSession(session=s):
            _absent(state.sessions, s.id, "session", "session.id")
            return [SessionAdded(session=s.resolved(audiences))]
        case UpdateSession(session=s):
            old_session = _require(state.sessions, s.id, "session", "session.id")
            return _session_change(old_session, s.resolved(audiences))
        case RemoveSession(session_id=sid):
            _require(state.sessions, sid, "session", "session_id")
            return [SessionRemoved(session_id=sid)]
        case PinSession(session_id=sid, fixed=fixed):
            old_session = _require(state.sessions, sid, "session", "session_id")
            return _session_change(old_session, msgspec.structs.replace(old_session, fixed=fixed))
        case UnpinSession(session_id=sid):
            old_session = _require(state.sessions, sid, "session", "session_id")
            return _session_change(old_session, msgspec.structs.replace(old_session, fixed=None))
        case ChangePolicies(policies=pol):
            return [] if pol == state.policies else [PoliciesChanged(policies=pol)]
        case RecordRegistration(registration=reg):
            if state.registrations.get(reg.attendee) == reg:
                return []
            return [RegistrationRecorded(registration=reg)]
        case RemoveRegistration(attendee=a):
            _require(state.registrations, a, "attendee", "attendee")
            return [RegistrationRemoved(attendee=a)]
        case ImportEdition():
            return _import(state, cmd)
        case RecordSchedule():
            return _record(state, cmd)
        case AcceptSchedule():
            return _accept(state, cmd)
        case MoveSession():
            return _move(state, cmd)
        case BookPlace():
            return book(state, cmd.attendee, cmd.session_id, cmd.occurrence, cmd.rotation,
                        cmd.profile)  # fmt: skip
        case BookPlaces(bookings=bookings):
            events, problems = book_all(state, bookings)
            if problems:
                raise InvalidCommand(problems)
            return events
        case CancelPlace():
            return cancel(state, cmd.attendee, cmd.session_id)
        case OpenReserve(session_id=sid):
            return set_reserve(state, sid, True)
        case CloseReserve(session_id=sid):
            return set_reserve(state, sid, False)
        case _:
            assert_never(cmd)


def book_all(
    state: EditionState, bookings: Sequence[BookPlace]
) -> tuple[list[Event], list[Problem]]:
    """Bookings in order, each decided on the edition the ones before it lead to: the
    events of those that hold, and the problems of the others, each under
    ``bookings[i]``. One fold for the whole run, however long."""
    fold = Fold(state)
    events: list[Event] = []
    problems: list[Problem] = []
    for i, b in enumerate(bookings):
        try:
            more = book(fold, b.attendee, b.session_id, b.occurrence, b.rotation, b.profile)
        except InvalidCommand as refused:
            problems += [Problem(f"bookings[{i}].{p.path}", p.code, p.params)
                         for p in refused.problems]  # fmt: skip
            continue
        fold.apply(more)
        events += more
    return events, problems


def _record(state: EditionState, cmd: RecordSchedule) -> list[Event]:
    """A solve's answer, recordable while what the solver read is as it read it: the
    registrations and places booked since do not matter (they are live; a schedule
    solved before them breaks no rule they make), a room, a person, a session, the
    policies or the published programme changed since do."""
    if cmd.job is not None and cmd.job in state.solve_jobs:
        return []
    solved = cmd.schedule.stream_version
    if solved is None or solved > state.version:
        raise _refuse("schedule.stream_version", "schedule_stale", solved=solved,
                      now=state.version)  # fmt: skip
    changed = [key for key, version in state.inputs.items() if version > solved]
    if changed:
        raise _refuse("schedule.stream_version", "schedule_changed_inputs", solved=solved,
                      now=state.version, changes=changed)  # fmt: skip
    schedule_id = f"schedule-{len(state.schedules) + 1}"
    return [ScheduleProposed(schedule_id=schedule_id, schedule=cmd.schedule, job=cmd.job,
                             scenario=cmd.scenario)]  # fmt: skip


def _accept(state: EditionState, cmd: AcceptSchedule) -> list[Event]:
    if not state.schedules:
        raise _refuse("schedule_id", "no_schedule_yet")
    sid = cmd.schedule_id or list(state.schedules)[-1]
    schedule = _require(state.schedules, sid, "schedule", "schedule_id")
    if schedule.status not in ("optimal", "feasible"):
        raise _refuse("schedule_id", "schedule_has_no_programme", schedule=sid,
                      status=schedule.status)  # fmt: skip
    broken = check_schedule(state.snapshot(), schedule.assignments)
    if broken:
        raise InvalidCommand([
            Problem("schedule_id", "schedule_no_longer_fits",
                    {"schedule": sid, "rule": v.rule, "violation": v})
            for v in broken
        ])  # fmt: skip
    return [ScheduleAccepted(schedule_id=sid)]


def _move(state: EditionState, cmd: MoveSession) -> list[Event]:
    if not state.programme:
        raise _refuse("", "no_programme_yet")
    session = _require(state.sessions, cmd.session_id, "session", "session_id")
    current = next(
        (p for p in state.programme
         if (p.session, p.occurrence) == (cmd.session_id, cmd.occurrence)), None,
    )  # fmt: skip
    if current is None:
        raise _refuse("occurrence", "not_in_programme", session=cmd.session_id,
                      occurrence=cmd.occurrence)  # fmt: skip
    start = cmd.start or current.start
    if not is_clock(start):
        raise _refuse("start", "bad_clock", value=start)
    end = minutes(start) + session.duration
    moved = msgspec.structs.replace(
        current, day=cmd.day or current.day, start=start, room=cmd.room or current.room,
        end=f"{end // 60:02d}:{end % 60:02d}",
    )  # fmt: skip
    if moved == current:
        return []
    snap = state.snapshot()
    before = set(check_schedule(snap, state.programme))
    after = check_schedule(snap, [moved if p is current else p for p in state.programme])
    new = [v for v in after if v not in before]
    if new:
        raise InvalidCommand(
            [Problem("", "move_breaks_rule", {"rule": v.rule, "violation": v}) for v in new]
        )
    return [SessionMoved(placement=moved)]


def decide(state: EditionState, cmd: Command) -> list[Event]:
    """The events that carry ``cmd`` out on ``state``; raises ``InvalidCommand`` instead
    when the command, or the edition it would lead to, breaks a rule."""
    return decide_and_fold(state, cmd)[0]


def decide_and_fold(state: EditionState, cmd: Command) -> tuple[list[Event], EditionState]:
    """``decide``, and the state its events lead to (folded once, for the deciding)."""
    if state.info is None and not isinstance(cmd, DefineEdition | ImportEdition):
        raise _refuse("", "no_edition_yet")
    events = _events_for(state, cmd)
    if not events:
        return events, state
    after = replay(events, state)
    if not isinstance(cmd, ImportEdition):
        problems = validate_change(after, events)
        if problems:
            raise InvalidCommand(problems)
    if after.places and not isinstance(cmd, BookPlace | BookPlaces | CancelPlace):
        # A change to sessions, rooms or the programme may change the places offered
        # (booking and cancelling keep the balance themselves).
        balance = rebalance(after)
        if isinstance(cmd, ImportEdition):
            _check_import(state, after, cmd, balance)
        events += balance
        after = replay(balance, after)
    elif isinstance(cmd, ImportEdition):
        _check_import(state, after, cmd, ())
    return events, after
