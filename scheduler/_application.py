"""The application service: load an edition from its stream, run a command, append.

A request flows one way: command → ``decide`` on the folded stream → events appended
with the expected version. A concurrent writer makes the append fail with
``ConcurrencyError``; the service then reloads and decides again, since a command
states an intent, not a diff.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import msgspec
import structlog

from creneau.scheduler._commands import (
    Command,
    DefineEdition,
    ImportEdition,
    RecordSchedule,
    SolveProgramme,
    decide_and_fold,
)
from creneau.scheduler._envelope import (
    Metadata,
    NewEvent,
    RecordedEvent,
    SubjectKey,
    format_time,
    new_event_id,
)
from creneau.scheduler._errors import (
    ConcurrencyError,
    CreneauError,
    InvalidCommand,
    Problem,
    UnknownEdition,
)
from creneau.scheduler._events import (
    CURRENT_SCHEMA,
    ERASED_PREFIX,
    Event,
    ScheduleProposed,
    SessionAdded,
    SessionUpdated,
    SubjectErased,
    decode_event,
    entity_of,
    event_type,
)
from creneau.scheduler._jobs import THREADS, SolveJob, SolveProgress, SolveRunner
from creneau.scheduler._personal import Kind, Personal, lookup_of, open_record, opener
from creneau.scheduler._problem import (
    SolveParameters,
    derive_problem,
    with_previous,
)
from creneau.scheduler._scenarios import Scenario, apply_scenario
from creneau.scheduler._schedule import ScheduleDocument
from creneau.scheduler._state import EditionState, replay
from creneau.scheduler._values import actor_fault
from creneau.scheduler._views import Views, state_from_snapshot
from creneau.scheduler.ports import EventStore, Solver

__all__ = ["STREAM_PREFIX", "AuditEntry", "EditionService", "stream_id_of"]

STREAM_PREFIX = "edition-"
log = structlog.get_logger()


def stream_id_of(edition_id: str) -> str:
    return STREAM_PREFIX + edition_id


def _names_person(event: Event, person: str) -> bool:
    """Whether ``event`` names the person by id (their own events, their sessions)."""
    if entity_of(event) == f"person:{person}":
        return True
    match event:
        case SessionAdded(session=x) | SessionUpdated(session=x):
            return person in x.speakers or person in x.moderators
    return False


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@attrs.frozen
class AuditEntry:
    """One line of the audit trail."""

    record: RecordedEvent
    event: Event
    entity: str

    @property
    def edition_id(self) -> str:
        return self.record.stream_id.removeprefix(STREAM_PREFIX)


class EditionService:
    """Runs commands on the editions of one event store."""

    def __init__(
        self,
        store: EventStore,
        *,
        actor: str | None = None,
        clock: Callable[[], dt.datetime] = _utc_now,
        new_id: Callable[[], uuid.UUID] = new_event_id,
    ) -> None:
        """``actor``: who the commands are recorded as, unless a call names another (the
        entry point always says who acts; the core never guesses)."""
        self.store = store
        self.actor = actor
        self.personal = Personal(store)  # personal fields sealed per data subject
        self.views = Views(store, self.personal)  # brought up to date with catch_up()
        self._clock = clock
        self._new_id = new_id
        self._cache: dict[str, EditionState] = {}

    # -- reading -------------------------------------------------------------------

    def editions(self) -> list[str]:
        return [
            s.removeprefix(STREAM_PREFIX)
            for s in self.store.streams()
            if s.startswith(STREAM_PREFIX)
        ]

    def load(
        self,
        edition_id: str,
        *,
        at_version: int | None = None,
        at_time: dt.datetime | None = None,
    ) -> EditionState:
        """The edition now, or as it was after ``at_version`` or at ``at_time`` (UTC)."""
        stream = stream_id_of(edition_id)
        if at_version is not None or at_time is not None:
            until = format_time(at_time) if at_time is not None else None
            base = EditionState()
            if at_time is None and at_version is not None:
                snapshot = state_from_snapshot(self.store, edition_id)
                if snapshot is not None and snapshot.version <= at_version:
                    base = snapshot
            records = self.store.read_stream(stream, base.version + 1)
            chosen = (
                r
                for r in records
                if (at_version is None or r.version <= at_version)
                and (until is None or r.metadata.recorded_at <= until)
            )
            return replay((open_record(self.personal, r) for r in chosen), base)
        cached = self._cache.get(edition_id)
        if cached is None:  # the latest snapshot the store keeps, then what came after it
            cached = state_from_snapshot(self.store, edition_id) or EditionState()
        open_ = opener(self.personal, stream)
        self.personal.learn(edition_id, cached.people, cached.registrations)
        newer = [open_(*r) for r in self.store.read_payloads(stream, cached.version + 1)]
        erased = [e.subject for e in newer if isinstance(e, SubjectErased)]
        if erased and cached.version > 0:
            # Someone was erased since: what this process holds of them goes, and the
            # edition is folded again from the log, where their fields no longer open.
            self.personal.forget(erased)
            self._cache.pop(edition_id, None)
            newer = [open_(*r) for r in self.store.read_payloads(stream)]
            cached = EditionState()
        state = replay(newer, cached)
        self._cache[edition_id] = state
        return state

    def events_of(self, records: Iterable[RecordedEvent]) -> list[Event]:
        """The events ``records`` hold, their personal fields opened where they still
        can be."""
        return [open_record(self.personal, r) for r in records]

    def history(
        self, edition_id: str | None = None, *, entity: str | None = None
    ) -> Iterator[AuditEntry]:
        """The audit trail in global order, for one edition or all, optionally for the
        entity whose id (``s-12``) or ``kind:id`` (``session:s-12``) is given."""
        records = (
            self.store.read_stream(stream_id_of(edition_id))
            if edition_id is not None
            else self.store.read_all()
        )
        for r in records:
            if not r.stream_id.startswith(STREAM_PREFIX):
                continue
            event = open_record(self.personal, r)
            touched = entity_of(event)
            if entity is not None and entity not in (touched, touched.partition(":")[2]):
                continue
            yield AuditEntry(record=r, event=event, entity=touched)

    # -- solving -------------------------------------------------------------------

    def start_solve(
        self,
        edition_id: str,
        solver: Solver,
        command: SolveProgramme | None = None,
        *,
        actor: str | None = None,
        runner: SolveRunner = THREADS,
        job_id: str | None = None,
        scenario: Scenario | None = None,
    ) -> SolveJob:
        """Start solving the edition as it is now; returns the running job at once.

        ``job_id`` names the job (a queue's job, run again after its worker died, gives
        the same id: its answer is still recorded once); ``scenario`` solves a what-if
        variant of the edition instead, recorded tagged with its name.

        ``job.collect()`` records its answer as a proposed schedule, with its status,
        objective, bound, time and the solver's parameters, once. The answer stays
        recordable when only registrations and places changed in the meantime; when a
        room, a person, a session, the policies or the programme did, collecting says
        which (``InvalidCommand``, code ``schedule_changed_inputs``).
        """
        command = command or SolveProgramme()
        who = self._who(actor)  # refused now, not after the solve
        params = SolveParameters(
            time_limit=command.time_limit, workers=command.workers, seed=command.seed
        )
        state = self.load(edition_id)
        if not state.exists:
            raise UnknownEdition(edition_id)
        demand: dict[str, int] = {}
        for (session_id, _, _), (confirmed, waiting) in state.places.items():
            demand[session_id] = max(demand.get(session_id, 0), len(confirmed) + len(waiting))
        snapshot = state.snapshot()
        if scenario is not None:
            snapshot = apply_scenario(snapshot, scenario, "scenario")
        problem = derive_problem(snapshot, demand)
        if state.programme:  # re-planning: change the published programme as little as can be
            problem = with_previous(problem, state.programme)

        def record(job: SolveJob, document: ScheduleDocument) -> str | None:
            recorded = self.execute(
                RecordSchedule(schedule=document, job=job.id,
                               scenario=None if scenario is None else scenario.name),
                edition_id=edition_id, actor=who,
            )  # fmt: skip
            if not recorded:  # this job's answer was recorded already (by another process)
                return self.load(edition_id).solve_jobs.get(job.id)
            proposed = decode_event(
                recorded[0].type, recorded[0].schema_version, recorded[0].payload
            )
            assert isinstance(proposed, ScheduleProposed)
            return proposed.schedule_id

        return SolveJob.start(
            solver, problem, params, job_id=job_id or f"solve-{self._new_id()}", runner=runner,
            edition=snapshot, stream_version=state.version, record=record,
        )  # fmt: skip

    def solve(
        self,
        edition_id: str,
        solver: Solver,
        command: SolveProgramme | None = None,
        *,
        actor: str | None = None,
        progress: Callable[[SolveProgress], None] | None = None,
        stop: threading.Event | None = None,
        runner: SolveRunner = THREADS,
    ) -> tuple[ScheduleDocument, str | None]:
        """Carry out ``SolveProgramme`` and wait for it: a job started, followed and
        collected. ``progress`` hears of each better schedule; setting ``stop`` ends the
        search with the best schedule so far.

        Returns the schedule document and the id it was recorded under (None when no
        schedule was found: an infeasible or timed-out solve records nothing).
        """
        job = self.start_solve(edition_id, solver, command, actor=actor, runner=runner)
        told = 0
        while not job.wait(0.1):
            if stop is not None and stop.is_set():
                job.stop()
            if progress is not None:
                now = job.progress()
                if now.solutions != told:
                    told = now.solutions
                    progress(now)
        return job.collect()

    # -- personal data -------------------------------------------------------------

    def subjects_of(self, kind: Kind, entity: str, edition_id: str | None = None
                    ) -> list[tuple[str, str]]:  # fmt: skip
        """The live data subjects of a person or an attendee, as (edition, subject), in
        one edition or in every edition of the store."""
        editions = [edition_id] if edition_id is not None else self.editions()
        return [(e, s) for e in editions
                for s in self.store.subjects_for(e, lookup_of(e, kind, entity))]  # fmt: skip

    def forget(self, kind: Kind, entity: str, *, edition_id: str | None = None,
               actor: str | None = None) -> list[tuple[str, str]]:  # fmt: skip
        """Erase a person or an attendee (GDPR art. 17): a ``subject.erased`` event in
        each edition that holds them, then their keys destroyed, then the views folded
        again without them. Nothing is rewritten: the chain still verifies, the
        programme still replays, their fields read as erased from now on.

        Returns the (edition, subject) erased; ``nothing_to_forget`` when none is held.
        An erasure interrupted after its events is completed by running it again: the
        keys are still there to find the subjects by, and go then."""
        who = self._who(actor)
        found = self.subjects_of(kind, entity, edition_id)
        if not found:
            raise CreneauError("nothing_to_forget", kind=kind, id=entity)
        for edition in dict.fromkeys(e for e, _ in found):
            # The person is named by the placeholder their fields will read as: the
            # event itself names nobody.
            events: list[Event] = [
                SubjectErased(subject=s, kind=kind,
                              person_id=ERASED_PREFIX + s if kind == "person" else None)
                for e, s in found if e == edition
            ]  # fmt: skip
            self._record(edition, events, who)
        subjects = [s for _, s in found]
        self.personal.forget(subjects)
        self.store.erase_subjects(subjects)
        self._cache.clear()
        # The views and snapshots hold copies of personal fields in clear: fold them
        # again from the log, then let the store leave nothing of the old rows behind.
        self.views.rebuild()
        self.store.compact()
        log.info("subject_erased", kind=kind, subjects=len(subjects), actor=who)
        return found

    def _record(self, edition_id: str, events: list[Event], who: str) -> list[RecordedEvent]:
        """Append events that no command decides (an erasure), on the stream's head."""
        stream = stream_id_of(edition_id)
        meta = Metadata(actor=who, recorded_at=format_time(self._clock()),
                        correlation_id=str(self._new_id()), causation_id=None)  # fmt: skip
        batch, keys = self._batch(edition_id, events, meta)
        for _ in range(20):
            version = self.store.stream_version(stream)
            try:
                return self.store.append(stream, batch, version, keys)
            except ConcurrencyError:
                continue
        raise ConcurrencyError(stream, version, self.store.stream_version(stream))

    def _batch(self, edition_id: str, events: list[Event], meta: Metadata
               ) -> tuple[list[NewEvent], list[SubjectKey]]:  # fmt: skip
        """The events to append, their personal fields sealed, and the keys of the
        subjects the store may not hold yet (appended with them)."""
        batch, subjects = [], []
        for e in events:
            event_id = self._new_id()
            payload, sealed_to = self.personal.seal(edition_id, e, event_id)
            subjects += sealed_to
            batch.append(NewEvent(event_id=event_id, type=event_type(e),
                                  schema_version=CURRENT_SCHEMA[event_type(e)],
                                  payload=payload, metadata=meta))  # fmt: skip
        return batch, self.personal.keys.pending(subjects)

    def personal_data(self, kind: Kind, entity: str, edition_id: str | None = None
                      ) -> dict[str, Any]:  # fmt: skip
        """Everything the store holds about a person or an attendee (GDPR art. 15), as
        plain data: per edition, what it holds now and every event that names them,
        their personal fields opened. ``nothing_held`` when there is nothing."""
        editions = []
        for edition in [edition_id] if edition_id is not None else self.editions():
            subjects = set(self.store.subjects_for(edition, lookup_of(edition, kind, entity)))
            if not subjects:
                continue
            state = self.load(edition)
            events = []
            for r in self.store.read_stream(stream_id_of(edition)):
                # Opened, an event names them by id, whichever of their subjects sealed it.
                event = open_record(self.personal, r)
                if not (entity_of(event) == f"{kind}:{entity}"
                        or (kind == "person" and _names_person(event, entity))):  # fmt: skip
                    continue
                events.append({"version": r.version, "recorded_at": r.metadata.recorded_at,
                               "actor": r.metadata.actor, "type": r.type,
                               "event": msgspec.to_builtins(event)})  # fmt: skip
            now: dict[str, Any] = {}
            if kind == "person":
                person = state.people.get(entity)
                now["person"] = msgspec.to_builtins(person) if person else None
                now["sessions"] = sorted(
                    x.id for x in state.sessions.values()
                    if entity in x.speakers or entity in x.moderators)  # fmt: skip
            else:
                registration = state.registrations.get(entity)
                now["registration"] = msgspec.to_builtins(registration) if registration \
                    else None  # fmt: skip
                now["places"] = [
                    {"session": sid, "occurrence": k, "rotation": rot,
                     "confirmed": entity in confirmed}
                    for (sid, k, rot) in state.holdings.get(entity, ())
                    for confirmed, _ in (state.places[(sid, k, rot)],)
                ]  # fmt: skip
            editions.append({"edition": edition, "subjects": sorted(subjects), "now": now,
                             "events": events})  # fmt: skip
        if not editions:
            raise CreneauError("nothing_held", kind=kind, id=entity)
        return {"kind": kind, "id": entity, "editions": editions}

    # -- writing -------------------------------------------------------------------

    def _who(self, actor: str | None) -> str:
        """Who acts: the call's actor, else the service's; refused when neither names one."""
        who = actor if actor is not None else self.actor
        fault = actor_fault(who)
        if fault is not None or who is None:
            raise InvalidCommand([Problem("actor", fault or "bad_actor", {"actor": who or ""})])
        return who

    @staticmethod
    def _decide(
        edition_id: str, state: EditionState, command: Command
    ) -> tuple[list[Event], EditionState]:
        if not state.exists and not isinstance(command, ImportEdition | DefineEdition):
            raise UnknownEdition(edition_id)
        return decide_and_fold(state, command)

    def _current(self, edition_id: str, state: EditionState) -> bool:
        """Whether ``state`` is the edition as its stream is now (one query): a refusal
        decided on it is then the right answer, without reading the stream again."""
        return self.store.stream_version(stream_id_of(edition_id)) == state.version

    def execute(
        self,
        command: Command,
        *,
        edition_id: str | None = None,
        actor: str | None = None,
        causation_id: str | None = None,
        attempts: int = 3,
        expected_version: int | None = None,
    ) -> list[RecordedEvent]:
        """Decide and append; returns the recorded events (none when nothing changes).

        ``expected_version``: the version the caller last read (an HTTP ``If-Match``);
        when the edition has moved on since, nothing is decided or written and
        ``ConcurrencyError`` says the version it is at (no retry: the caller decides)."""
        if edition_id is None:
            if isinstance(command, ImportEdition):
                edition_id = command.snapshot.id
            elif isinstance(command, DefineEdition):
                edition_id = command.info.id
            else:
                raise TypeError("edition_id is required for this command")
        correlation = str(self._new_id())
        who = self._who(actor)
        if expected_version is not None:
            # The caller read this version: refuse at once when the stream is past it, and
            # decide on the state this service keeps when it is that version.
            attempts = 1
            current = self.store.stream_version(stream_id_of(edition_id))
            if current != expected_version:
                raise ConcurrencyError(stream_id_of(edition_id), expected_version, current)
            kept = self._cache.get(edition_id)
            if kept is not None and kept.version != current:
                del self._cache[edition_id]
        for attempt in range(1, attempts + 1):
            # Optimistic: decide on the state this service last saw, without reading the
            # stream again; the append's expected version catches a stale state. A
            # refusal or a no-op is only trusted on a state read just now.
            cached = self._cache.get(edition_id) if attempt == 1 else None
            state = cached if cached is not None else self.load(edition_id)
            if expected_version is not None and state.version != expected_version:
                raise ConcurrencyError(stream_id_of(edition_id), expected_version, state.version)
            try:
                events, after = self._decide(edition_id, state, command)
            except CreneauError:
                if cached is None or self._current(edition_id, cached):
                    raise
                state = self.load(edition_id)
                events, after = self._decide(edition_id, state, command)
            if not events and cached is not None and not self._current(edition_id, cached):
                state = self.load(edition_id)
                events, after = self._decide(edition_id, state, command)
            if not events:
                return []
            now = format_time(self._clock())
            meta = Metadata(
                actor=who, recorded_at=now, correlation_id=correlation, causation_id=causation_id
            )
            batch, keys = self._batch(edition_id, events, meta)
            try:
                recorded = self.store.append(stream_id_of(edition_id), batch, state.version,
                                             keys)  # fmt: skip
            except ConcurrencyError:
                if attempt == attempts:
                    raise
                log.info("append_conflict_retrying", edition=edition_id, attempt=attempt)
                continue
            self.personal.keys.kept(keys)
            self._cache[edition_id] = after
            log.info(
                "command_executed",
                edition=edition_id,
                command=type(command).__name__,
                events=len(recorded),
                version=recorded[-1].version,
                actor=who,
            )
            return recorded
        raise AssertionError("unreachable")
