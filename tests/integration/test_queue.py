"""Solve jobs through the PostgreSQL store's queue, on this host: a worker runs them and
each answer is recorded once, even when the queue hands a job out again; the HTTP API
queues and steers them; `creneau solve --queue` and `creneau scenarios` wait for them;
the health route tells the queue's depth. (Several hosts: tests/integration/test_hosts.py.)"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest

from creneau.adapters._queueing import read_sweep
from creneau.adapters.bootstrap import open_store
from creneau.adapters.jobqueue import SolveQueue, run_worker
from creneau.adapters.tokens import Tokens
from creneau.scheduler import EditionService, SolveProgramme, apply_scenario
from tests.integration.cli_helpers import METZ, run
from tests.integration.hosts import proposed
from tests.integration.serve_helpers import call as call_json
from tests.integration.serve_helpers import serving
from tests.postgres import DSN, scratch_store
from tests.validation import assert_valid

E = "nec-metz-2023"
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def store(capsys: pytest.CaptureFixture[str]) -> Iterator[str]:
    with scratch_store() as address:
        assert run(capsys, "import", str(METZ), "--store", address)[0] == 0
        yield address


@contextlib.contextmanager
def worker(address: str, concurrency: int = 2) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(address,),
                              kwargs={"concurrency": concurrency, "stop": stop})  # fmt: skip
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive()


def test_a_worker_solves_each_job_and_records_it_once_even_when_handed_out_again(
    store: str,
) -> None:
    with SolveQueue(store) as queue:
        jobs = [queue.enqueue(E, SolveProgramme(time_limit=10, workers=1, seed=k), actor="t")
                for k in range(4)]  # fmt: skip
        assert queue.depth() == {"queued": 4, "running": 0, "workers": 0}
        with worker(store):
            infos = queue.wait(jobs, timeout=120)
            assert [i.state for i in infos] == ["finished"] * 4
            assert sorted(e.job for e in proposed(store, E)) == sorted(jobs)
            # The queue hands the first job out again, as when its worker died after
            # recording its answer: run again, it records nothing more.
            with psycopg.connect(DSN, autocommit=True,
                                 options=f"-c search_path={queue.schema}") as conn:  # fmt: skip
                conn.execute(
                    "UPDATE procrastinate_jobs SET status = 'todo' "
                    "WHERE args->>'job' = %s", (jobs[0],))  # fmt: skip
            again = queue.wait([jobs[0]], timeout=60)[0]
        assert again.state == "finished" and again.attempts == 2
        assert again.schedule == infos[0].schedule
        assert len(proposed(store, E)) == 4
        assert queue.depth() == {"queued": 0, "running": 0, "workers": 0}  # it has stopped
    state = EditionService(open_store(store)).load(E)
    for schedule in state.schedules.values():
        assert_valid(state.snapshot(), schedule.assignments)


def test_the_http_api_queues_solves_and_tells_them_and_the_queue_in_health(store: str) -> None:
    secret = Tokens(open_store(store)).create(role="committee", edition=E, name="comite",
                                              actor="setup")[1]  # fmt: skip

    def call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
        status, _, answer = call_json(method, url, secret, body)
        return status, answer

    with serving(store, "--queue") as base, serving(store, "--queue") as other:
        code, job = call("POST", f"{base}/api/v1/editions/{E}/solves", {"time_limit": 10})
        assert code == 202 and job["state"] == "queued", job
        asked_on = EditionService(open_store(store)).load(E).version
        assert job["solved_version"] == asked_on
        code, health = call("GET", f"{other}/health")
        assert code == 200 and health["migrations"] and health["queue"]["queued"] == 1
        with worker(store):
            deadline = time.monotonic() + 60
            while True:  # told by the other server: the job is the queue's, not a process's
                code, told = call("GET", f"{other}/api/v1/editions/{E}/solves/{job['job']}")
                assert code == 200, told
                if told["state"] != "queued" and told["state"] != "running":
                    break
                assert time.monotonic() < deadline
                time.sleep(0.2)
            # A sweep queued through one server, followed through the other.
            code, sweep = call(
                "POST",
                f"{base}/api/v1/editions/{E}/scenarios",
                {
                    "time_limit": 10,
                    "scenario": [
                        {"name": "as it is"},
                        {"name": "Frédéric absent", "absent": [{"person": "frederic-schnur"}]},
                    ],
                },
            )
            assert code == 202, sweep
            while True:
                code, compared = call("GET", f"{other}/api/v1/editions/{E}/scenarios/"
                                      f"{sweep['sweep']}")  # fmt: skip
                assert code == 200, compared
                if compared["state"] == "finished":
                    break
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert [r["scenario"] for r in compared["rows"]] == ["as it is", "Frédéric absent"]
        assert all(r["outcome"] == "optimal" and r["schedule"] for r in compared["rows"])
        assert told["state"] == "finished" and told["schedule"] == "schedule-1", told
        assert told["figures"]["sessions_scheduled"] > 0
        assert told["solved_version"] == asked_on  # told by the server that did not queue it
        code, _ = call("GET", f"{base}/api/v1/editions/{E}/solves/solve-nope")
        assert code == 404
        # Cancelled while it waits (no worker runs now): nothing recorded.
        code, job = call("POST", f"{base}/api/v1/editions/{E}/solves", {"time_limit": 10})
        code, cancelled = call("DELETE", f"{other}/api/v1/editions/{E}/solves/{job['job']}")
        assert code == 200 and cancelled["state"] == "cancelled" and cancelled["schedule"] is None
        code, health = call("GET", f"{base}/health")
        assert health["queue"] == {"queued": 0, "running": 0, "workers": 0}
    assert [e.job for e in proposed(store, E)] == [
        told["job"],
        *(r["job"] for r in sorted(compared["rows"], key=lambda r: r["schedule"])),
    ]


def test_solve_queue_and_a_scenario_sweep_wait_for_the_workers(
    store: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with worker(store):
        code, out, err = run(capsys, "--lang", "en", "solve", "--store", store, "--queue",
                             "--time-limit", "10")  # fmt: skip
        assert code == 0, err
        assert "queued as solve-" in out and "recorded as schedule-1" in out
        assert run(capsys, "accept", "--store", store)[0] == 0
        sweep = tmp_path / "sweep.toml"
        sweep.write_text(
            'time_limit = 10\n[[scenario]]\nname = "as it is"\n'
            '[[scenario]]\nname = "Frédéric absent"\nabsent = [{ person = "frederic-schnur" }]\n'
            '[[scenario]]\nname = "no work room 1"\nclosed = [{ room = "salle-travail-1" }]\n'
            '[[scenario]]\nname = "parity hard 60 %"\n[scenario.policies.parity]\n'
            "women_min_share = 0.6\nhard = true\n",
            encoding="utf-8",
        )
        code, out, err = run(capsys, "--lang", "en", "scenarios", str(sweep), "--store", store)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("4 scenarios queued as sweep-")
    assert lines[1].split() == ["scenario", "result", "women", "conflicts", "proposals",
                                "kept", "moves", "schedule"]  # fmt: skip
    rows = {line.split("  ")[0]: line.split("  ")[1:] for line in lines[2:]}
    cells = {name: [c.strip() for c in row if c.strip()] for name, row in rows.items()}
    assert cells["as it is"][0] == "optimal" and cells["as it is"][-2] == "0"  # no moves
    assert cells["Frédéric absent"][0] == "optimal"
    assert cells["no work room 1"] == ["infeasible", "—", "—", "—", "—", "—"]
    assert cells["parity hard 60 %"][0] == "infeasible"
    state = EditionService(open_store(store)).load(E)
    assert sorted(state.scenarios.values()) == ["Frédéric absent", "as it is"]
    for sid, name in state.scenarios.items():  # each row names the schedule it recorded
        assert cells[name][-1] == sid
    # Why a scenario has no programme, in words: the rules that conflict.
    assert err.count("no schedule exists; these rules conflict:") == 2, err
    variants = {v.name: apply_scenario(state.snapshot(), v) for v in read_sweep(str(sweep))[1]}
    for sid, name in state.scenarios.items():  # valid for the edition the scenario makes
        assert_valid(variants[name], state.schedules[sid].assignments)


def test_the_queue_is_refused_without_postgres(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "metz.db")
    assert run(capsys, "import", str(METZ), "--store", db)[0] == 0
    code, _, err = run(capsys, "--lang", "en", "worker", "--store", db)
    assert code == 2 and "queue of solve jobs lives in a PostgreSQL store" in err
    code, _, err = run(capsys, "--lang", "en", "solve", "--store", db, "--queue")
    assert code == 2 and "PostgreSQL" in err


def test_re_plans_of_one_edition_run_one_at_a_time(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "solve", "--store", store, "--time-limit", "10")[0] == 0
    assert run(capsys, "accept", "--store", store)[0] == 0
    with SolveQueue(store) as queue:
        jobs = [queue.enqueue(E, SolveProgramme(time_limit=10, workers=1, seed=k), actor="t",
                              replan=True) for k in range(3)]  # fmt: skip
        with worker(store, concurrency=3):
            assert [i.state for i in queue.wait(jobs, timeout=120)] == ["finished"] * 3
        # When each ran, as the queue's own log of its jobs tells it.
        with psycopg.connect(DSN, autocommit=True) as conn:
            spans = conn.execute(
                f"SELECT min(e.at) FILTER (WHERE e.type = 'started'), "
                f"max(e.at) FILTER (WHERE e.type = 'succeeded') "
                f"FROM {queue.schema}.procrastinate_events e "
                f"JOIN {queue.schema}.procrastinate_jobs j ON j.id = e.job_id "
                f"WHERE j.args->>'job' = ANY(%s) GROUP BY j.id ORDER BY 1", (jobs,),
            ).fetchall()  # fmt: skip
    assert len(spans) == 3
    for (_, ended), (started, _) in itertools.pairwise(spans):
        assert ended <= started  # the next began once the one before had ended


def test_a_job_the_edition_no_longer_allows_is_refused_in_words_and_nothing_recorded(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from creneau.scheduler import RemovePerson, Scenario
    from creneau.scheduler._scenarios import Absence

    person = "frederic-schnur"
    with SolveQueue(store) as queue:
        job = queue.enqueue(E, SolveProgramme(time_limit=10, workers=1), actor="t",
                            scenario=Scenario(name="without him",
                                              absent=(Absence(person=person),)))  # fmt: skip
        # Before any worker takes it, the committee removes him from the edition.
        service = EditionService(open_store(store), actor="comite")
        state = service.load(E)
        for s in state.sessions.values():
            if person in s.speakers or person in s.moderators:
                from creneau.scheduler import UpdateSession

                service.execute(
                    UpdateSession(
                        session=msgspec.structs.replace(
                            s,
                            speakers=tuple(p for p in s.speakers if p != person),
                            moderators=tuple(p for p in s.moderators if p != person),
                        )
                    ),
                    edition_id=E,
                )
        service.execute(RemovePerson(person_id=person), edition_id=E)
        with worker(store):
            info = queue.wait([job], timeout=60)[0]
    assert info.state == "failed" and info.schedule is None
    assert info.error is not None and info.error["problems"][0][:2] == [
        "scenario.absent[0].person",
        "unknown_person",
    ]
    from creneau.adapters._i18n import words
    from creneau.adapters._queueing import _why

    assert _why(info, words("en")) == (
        f'the job {job} was refused: scenario.absent[0].person: unknown person "{person}"'
    )
    assert proposed(store, E) == []


def test_a_job_the_queue_could_not_take_leaves_no_row_waiting(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SolveQueue(store) as queue:

        def refuse(**_: Any) -> Any:
            raise psycopg.OperationalError("the database went away")

        monkeypatch.setattr(queue.app, "configure_task", refuse)
        with pytest.raises(psycopg.OperationalError):
            queue.enqueue(E, SolveProgramme(), actor="t", job_id="solve-lost")
        assert queue.info("solve-lost") is None


def test_a_running_job_is_stopped_with_its_best_recorded_or_cancelled_with_nothing(
    store: str,
) -> None:
    from tests.job_helpers import GATES, GatedSolver

    GATES["queue"] = threading.Event()
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(store,), kwargs={
        "concurrency": 2, "stop": stop, "solver": GatedSolver("queue")})  # fmt: skip
    thread.start()
    try:
        with SolveQueue(store) as queue:
            kept, dropped = (queue.enqueue(E, SolveProgramme(time_limit=10, workers=1), actor="t")
                             for _ in range(2))  # fmt: skip
            deadline = time.monotonic() + 30
            # Both running, and the one to stop has found a programme (the solver is
            # then held at the gate until the test opens it).
            while (getattr(queue.info(dropped), "state", None) != "running"
                   or getattr(queue.info(kept), "solutions", 0) == 0):  # fmt: skip
                assert time.monotonic() < deadline
                time.sleep(0.1)
            queue.ask(kept, "stop")
            queue.ask(dropped, "cancel")
            time.sleep(1.5)  # the worker looks at what was asked every half second
            GATES["queue"].set()
            stopped, cancelled = queue.wait([kept, dropped], timeout=60)
    finally:
        GATES["queue"].set()
        stop.set()
        thread.join(30)
    assert stopped.state == "finished" and stopped.schedule is not None
    assert cancelled.state == "cancelled" and cancelled.schedule is None
    assert [e.job for e in proposed(store, E)] == [kept]


def test_queue_tables_of_another_procrastinate_are_told_not_current_and_left_alone(
    store: str,
) -> None:
    with SolveQueue(store) as queue:
        assert queue.current()
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"UPDATE {queue.schema}.queue_schema SET version = '0.1'")
    with SolveQueue(store) as again:  # opening it does not pretend to have migrated it
        assert again.installed_version() == "0.1" and not again.current()
