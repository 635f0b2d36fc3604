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
from collections.abc import Callable, Iterator

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
from creneau.scheduler._envelope import Metadata, NewEvent, RecordedEvent, format_time, new_event_id
from creneau.scheduler._errors import (
    ConcurrencyError,
    CreneauError,
    InvalidCommand,
    Problem,
    StoreError,
    UnknownEdition,
)
from creneau.scheduler._events import (
    CURRENT_SCHEMA,
    Event,
    ScheduleProposed,
    decode_event,
    encode_event,
    entity_of,
    event_type,
)
from creneau.scheduler._jobs import THREADS, SolveJob, SolveProgress, SolveRunner
from creneau.scheduler._problem import (
    SolveParameters,
    derive_problem,
    with_previous,
)
from creneau.scheduler._schedule import ScheduleDocument
from creneau.scheduler._state import EditionState, replay
from creneau.scheduler._values import is_name
from creneau.scheduler._views import Views, state_from_snapshot
from creneau.scheduler.ports import EventStore, Solver

__all__ = ["STREAM_PREFIX", "AuditEntry", "EditionService", "stream_id_of"]

STREAM_PREFIX = "edition-"
log = structlog.get_logger()


def stream_id_of(edition_id: str) -> str:
    return STREAM_PREFIX + edition_id


def _decode(stream_id: str, version: int, type: str, schema_version: int, payload: bytes) -> Event:
    try:
        return decode_event(type, schema_version, payload)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise StoreError("unreadable_event", stream=stream_id, version=version,
                         detail=str(exc)) from exc  # fmt: skip


def _decode_record(r: RecordedEvent) -> Event:
    return _decode(r.stream_id, r.version, r.type, r.schema_version, r.payload)


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
        self.views = Views(store)  # what reads use, brought up to date with catch_up()
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
            return replay((_decode_record(r) for r in chosen), base)
        cached = self._cache.get(edition_id)
        if cached is None:  # the latest snapshot the store keeps, then what came after it
            cached = state_from_snapshot(self.store, edition_id) or EditionState()
        newer = self.store.read_payloads(stream, cached.version + 1)
        state = replay((_decode(stream, *r) for r in newer), cached)
        self._cache[edition_id] = state
        return state

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
            event = _decode_record(r)
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
    ) -> SolveJob:
        """Start solving the edition as it is now; returns the running job at once.

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
        problem = derive_problem(snapshot, demand)
        if state.programme:  # re-planning: change the published programme as little as can be
            problem = with_previous(problem, state.programme)

        def record(job: SolveJob, document: ScheduleDocument) -> str | None:
            recorded = self.execute(
                RecordSchedule(schedule=document, job=job.id), edition_id=edition_id, actor=who
            )
            if not recorded:  # this job's answer was recorded already (by another process)
                return self.load(edition_id).solve_jobs.get(job.id)
            proposed = decode_event(
                recorded[0].type, recorded[0].schema_version, recorded[0].payload
            )
            assert isinstance(proposed, ScheduleProposed)
            return proposed.schedule_id

        return SolveJob.start(
            solver, problem, params, job_id=f"solve-{self._new_id()}", runner=runner,
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

    # -- writing -------------------------------------------------------------------

    def _who(self, actor: str | None) -> str:
        """Who acts: the call's actor, else the service's; refused when neither names one."""
        who = actor if actor is not None else self.actor
        if who is None or not who.strip() or not is_name(who):
            raise InvalidCommand([Problem("actor", "bad_actor", {"actor": who or ""})])
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
            batch = [
                NewEvent(
                    event_id=self._new_id(),
                    type=event_type(e),
                    schema_version=CURRENT_SCHEMA[event_type(e)],
                    payload=encode_event(e),
                    metadata=meta,
                )
                for e in events
            ]
            try:
                recorded = self.store.append(stream_id_of(edition_id), batch, state.version)
            except ConcurrencyError:
                if attempt == attempts:
                    raise
                log.info("append_conflict_retrying", edition=edition_id, attempt=attempt)
                continue
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
