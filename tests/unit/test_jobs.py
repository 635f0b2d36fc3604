"""Solves as jobs: started, followed, stopped, cancelled and collected; their answers
recorded once, and refused only when what the solve read has changed."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import msgspec
import pytest

from benchmarks.national import generate
from creneau.adapters._i18n import words
from creneau.adapters._messages import Names, problem_text
from creneau.adapters.edition_document import load_edition
from creneau.events_store import MemoryEventStore, SQLiteEventStore
from creneau.scheduler import (
    AcceptSchedule,
    BookPlace,
    ChangePolicies,
    EditionService,
    ImportEdition,
    InvalidCommand,
    ProcessRunner,
    RecordRegistration,
    RecordSchedule,
    Registration,
    SolveProgramme,
    UpdateRoom,
    decode_event,
)
from creneau.scheduler._events import ScheduleProposed
from creneau.solver import CpSatSolver
from tests.job_helpers import GATES, FailingSolver, GatedSolver, PidFileSolver
from tests.validation import assert_valid

METZ = Path(__file__).resolve().parents[2] / "examples" / "nec-metz-2023.toml"
ED = "nec-metz-2023"


def metz(store: object | None = None) -> EditionService:
    service = EditionService(store or MemoryEventStore(), actor="tester")  # type: ignore[arg-type]
    service.execute(ImportEdition(snapshot=load_edition(METZ).snapshot))
    return service


def proposed(service: EditionService, edition: str = ED) -> list[str]:
    """The schedule.proposed events of the edition, by schedule id."""
    events = (decode_event(r.type, r.schema_version, r.payload)
              for r in service.store.read_stream(f"edition-{edition}"))  # fmt: skip
    return [e.schedule_id for e in events if isinstance(e, ScheduleProposed)]


@pytest.fixture
def gate() -> str:
    name = uuid.uuid4().hex
    GATES[name] = threading.Event()
    yield name  # type: ignore[misc]
    GATES.pop(name).set()


def test_a_job_is_followed_then_collected_and_recorded_once() -> None:
    service = EditionService(MemoryEventStore(), actor="tester")
    national = generate(1.0)
    service.execute(ImportEdition(snapshot=national))
    job = service.start_solve(national.id, CpSatSolver(), SolveProgramme(time_limit=60, seed=1))
    assert job.state == "running"
    seen = []
    for progress in job.follow(timeout=30):
        seen.append(progress)
        if len(seen) == 3:
            job.stop()  # the best so far is the answer
    assert len(seen) >= 3 and job.state == "finished"
    objectives = [p.objective for p in seen]
    assert None not in objectives and objectives == sorted(objectives, reverse=True)
    assert all(p.bound is not None and p.bound <= p.objective for p in seen)  # type: ignore[operator]
    assert [p.solutions for p in seen] == sorted({p.solutions for p in seen})
    # The quality figures are those of the schedule each progress is about.
    last = seen[-1]
    assert {"women_share", "all_male_panels", "attendee_conflicts"} <= set(last.figures)

    document, schedule_id = job.collect()
    assert schedule_id == "schedule-1" and document.interrupted
    assert document.objective is not None and document.objective <= last.objective  # type: ignore[operator]
    assert_valid(national, document)
    # Collected again, here or by another service on the same store: recorded once.
    assert job.collect() == (document, schedule_id)
    other = EditionService(service.store, actor="someone else")
    assert (
        other.execute(RecordSchedule(schedule=document, job=job.id), edition_id=national.id) == []
    )
    assert proposed(service, national.id) == ["schedule-1"]
    assert service.load(national.id).solve_jobs == {job.id: "schedule-1"}


def test_a_cancelled_job_records_nothing() -> None:
    service = EditionService(MemoryEventStore(), actor="tester")
    national = generate(1.0)
    service.execute(ImportEdition(snapshot=national))
    version = service.store.stream_version(f"edition-{national.id}")
    job = service.start_solve(national.id, CpSatSolver(), SolveProgramme(time_limit=120))
    next(job.follow(timeout=60))  # a first schedule exists: cancelling throws it away
    job.cancel()
    assert job.wait(30) and job.state == "cancelled"
    document, schedule_id = job.collect()
    assert schedule_id is None and document.assignments  # found, and not recorded
    assert service.store.stream_version(f"edition-{national.id}") == version
    assert proposed(service, national.id) == []


def test_a_booking_during_a_solve_leaves_it_recordable(gate: str) -> None:
    service = metz()
    _, first = service.solve(ED, CpSatSolver(), SolveProgramme(time_limit=10))
    service.execute(AcceptSchedule(schedule_id=first), edition_id=ED)
    job = service.start_solve(ED, GatedSolver(gate), SolveProgramme(time_limit=10))
    service.execute(BookPlace(attendee="ada", session_id="atelier-education"), edition_id=ED)
    service.execute(
        RecordRegistration(registration=Registration(attendee="bob", profile="professionals")),
        edition_id=ED,
    )
    assert job.state == "running"  # held at the gate: the booking came during the solve
    GATES[gate].set()
    document, schedule_id = job.collect(timeout=30)
    assert schedule_id == "schedule-2"
    assert document.stream_version is not None
    assert document.stream_version < service.store.stream_version(f"edition-{ED}") - 1
    service.execute(AcceptSchedule(schedule_id=schedule_id), edition_id=ED)
    assert_valid(service.load(ED).snapshot(), document)


def test_a_room_changed_during_a_solve_makes_it_stale_and_says_so(gate: str) -> None:
    service = metz()
    job = service.start_solve(ED, GatedSolver(gate), SolveProgramme(time_limit=10))
    room = service.load(ED).rooms["salle-travail-1"]
    smaller = msgspec.structs.replace(room, capacity=room.capacity - 5)
    service.execute(UpdateRoom(room=smaller), edition_id=ED)
    GATES[gate].set()
    with pytest.raises(InvalidCommand) as refused:
        job.collect(timeout=30)
    (problem,) = refused.value.problems
    assert problem.code == "schedule_changed_inputs"
    assert problem.params["changes"] == ["room:salle-travail-1"]
    names = Names.of(service.load(ED).snapshot())
    text = problem_text(problem, words("en"), names)
    assert "the room « Salle de travail 1 »" in text and "solve again" in text
    assert "la salle « Salle de travail 1 »" in problem_text(problem, words("fr"), names)
    assert proposed(service) == []


def test_what_a_solve_reads_decides_whether_its_answer_is_recordable() -> None:
    service = metz()
    job = service.start_solve(ED, CpSatSolver(), SolveProgramme(time_limit=10))
    document = job.document(timeout=30)  # the answer, not collected yet
    service.execute(BookPlace(attendee="ada", session_id="atelier-education"), edition_id=ED)
    policies = service.load(ED).policies
    service.execute(
        ChangePolicies(
            policies=msgspec.structs.replace(policies, changeover=policies.changeover + 5)
        ),
        edition_id=ED,
    )
    with pytest.raises(InvalidCommand) as refused:
        service.execute(RecordSchedule(schedule=document), edition_id=ED)
    assert refused.value.problems[0].params["changes"] == ["policies"]
    # A schedule said to come from a version the edition has not reached is refused too.
    ahead = msgspec.structs.replace(document, stream_version=10_000)
    with pytest.raises(InvalidCommand) as refused:
        service.execute(RecordSchedule(schedule=ahead), edition_id=ED)
    assert refused.value.problems[0].code == "schedule_stale"


def test_a_job_can_solve_in_another_process(tmp_path: Path) -> None:
    service = metz(SQLiteEventStore(tmp_path / "metz.db"))
    where = tmp_path / "pid"
    job = service.start_solve(ED, PidFileSolver(where), SolveProgramme(time_limit=20),
                              runner=ProcessRunner())  # fmt: skip
    progress = list(job.follow(timeout=60))
    document, schedule_id = job.collect(timeout=60)
    assert int(where.read_text()) != os.getpid()
    assert progress and progress[-1].objective is not None and progress[-1].figures
    assert schedule_id == "schedule-1" and proposed(service) == ["schedule-1"]
    assert_valid(service.load(ED).snapshot(), document)


def test_a_solver_that_fails_fails_the_job_and_records_nothing() -> None:
    service = metz()
    job = service.start_solve(ED, FailingSolver(), SolveProgramme(time_limit=5))  # type: ignore[arg-type]
    assert job.wait(10) and job.state == "failed"
    with pytest.raises(RuntimeError, match="broke down"):
        job.collect()
    assert proposed(service) == []
    # In a child process too: the parent says what the child's solver said.
    job = service.start_solve(ED, FailingSolver(), SolveProgramme(time_limit=5),  # type: ignore[arg-type]
                              runner=ProcessRunner())  # fmt: skip
    with pytest.raises(RuntimeError, match="broke down"):
        job.collect(timeout=60)


def test_a_job_refuses_a_missing_actor_before_it_solves() -> None:
    service = EditionService(MemoryEventStore())
    service.execute(ImportEdition(snapshot=load_edition(METZ).snapshot), actor="tester")
    with pytest.raises(InvalidCommand) as refused:
        service.start_solve(ED, CpSatSolver())
    assert refused.value.problems[0].code == "bad_actor"


def test_a_job_in_another_process_stops_when_asked() -> None:
    service = EditionService(MemoryEventStore(), actor="tester")
    national = generate(1.0)
    service.execute(ImportEdition(snapshot=national))
    job = service.start_solve(national.id, CpSatSolver(), SolveProgramme(time_limit=120),
                              runner=ProcessRunner())  # fmt: skip
    next(job.follow(timeout=60))
    job.stop()
    assert job.wait(30) and job.state == "finished"
    document, schedule_id = job.collect()
    assert document.interrupted and schedule_id == "schedule-1"
    assert_valid(national, document)
