"""Créneau on three hosts sharing one PostgreSQL (tests/integration/hosts.py: network
namespaces on this machine, a cluster of the test's own): two web servers and two
workers. Solve jobs sent to both servers are each solved once and recorded once, and a
worker killed mid-solve leaves its job to the other; two registration desks on two
hosts share the last places exactly; a scenario sweep runs on both workers."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.national import generate
from creneau.adapters._queueing import read_sweep
from creneau.adapters.bootstrap import open_store
from creneau.adapters.edition_document import to_document
from creneau.adapters.jobqueue import SolveQueue
from creneau.adapters.tokens import Tokens
from creneau.scheduler import BookPlace, BookPlaces, EditionService, apply_scenario
from tests.integration.cli_helpers import METZ, run
from tests.integration.hosts import Host, network, proposed
from tests.integration.serve_helpers import call
from tests.validation import assert_valid

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
E = "nec-metz-2023"
NATIONAL = "nec-national-x1"


class Platform:
    def __init__(self, hosts: list[Host], logs: Path) -> None:
        self.hosts = hosts
        self.logs = logs
        self.schema = "platform"
        self.here = hosts[0].store(self.schema)  # how the test itself reaches the store

    def call(self, method: str, url: str, token: str, body: Any = None) -> tuple[int, Any]:
        status, _, answer = call(method, url, token, body)
        return status, answer


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    logs = tmp_path_factory.mktemp("hosts")
    with network(3) as hosts:
        p = Platform(hosts, logs)
        from creneau.adapters.cli import main

        assert main(["import", str(METZ), "--store", p.here, "--actor", "setup"]) == 0
        national = logs / "national.json"
        national.write_text(json.dumps(to_document(generate(1.0))), encoding="utf-8")
        assert main(["import", str(national), "--store", p.here, "--actor", "setup"]) == 0
        SolveQueue(p.here).close()  # the queue's tables, before anyone uses them
        yield p


def worker(platform: Platform, host: Host, name: str) -> Any:
    return host.start("worker", "--store", host.store(platform.schema), "--heartbeat", "1",
                      "--stalled-after", "4", log=platform.logs / f"{name}.log")  # fmt: skip


def test_jobs_from_two_servers_are_solved_once_and_a_killed_workers_job_finishes_elsewhere(
    platform: Platform,
) -> None:
    h1, h2, h3 = platform.hosts
    tokens = Tokens(open_store(platform.here))
    metz = tokens.create(role="committee", edition=E, name="comite-metz", actor="setup")[1]
    national = tokens.create(role="committee", edition=NATIONAL, name="comite-national",
                             actor="setup")[1]  # fmt: skip
    a = h1.serve(h1.store(platform.schema), platform.logs / "serve-a.log")
    b = h2.serve(h2.store(platform.schema), platform.logs / "serve-b.log")
    w1 = worker(platform, h2, "worker-1")
    w2 = worker(platform, h3, "worker-2")

    # A long solve first: it is the one a worker dies in.
    code, long_job = platform.call("POST", f"{a}/api/v1/editions/{NATIONAL}/solves", national,
                                   {"time_limit": 8, "workers": 1})  # fmt: skip
    assert code == 202, long_job

    def send(i: int) -> str:
        server = a if i % 2 else b
        code, job = platform.call("POST", f"{server}/api/v1/editions/{E}/solves", metz,
                                  {"time_limit": 10, "workers": 1, "seed": i})  # fmt: skip
        assert code == 202, job
        return str(job["job"])

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        jobs = list(pool.map(send, range(20)))
    assert len(set(jobs)) == 20

    queue = SolveQueue(platform.here)
    deadline = time.monotonic() + 60
    while (info := queue.info(long_job["job"])) is None or info.state != "running" \
            or info.solutions == 0:  # fmt: skip
        assert time.monotonic() < deadline, info
        time.sleep(0.2)
    victim, survivor = (w1, w2) if info.worker and info.worker.endswith(f":{w1.pid}") else (w2, w1)
    assert info.worker == f"{os.uname().nodename}:{victim.pid}", info
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()

    finished = queue.wait([*jobs, long_job["job"]], timeout=120)
    assert [i.state for i in finished] == ["finished"] * 21, finished
    again = finished[-1]
    assert again.attempts == 2 and again.worker == f"{os.uname().nodename}:{survivor.pid}"
    # Each job recorded once, from whichever server it came; none lost.
    metz_jobs = sorted(e.job for e in proposed(platform.here, E) if e.job is not None)
    assert metz_jobs == sorted(jobs)
    assert [e.job for e in proposed(platform.here, NATIONAL)] == [long_job["job"]]
    # Either server tells any job.
    code, told = platform.call("GET", f"{b}/api/v1/editions/{NATIONAL}/solves/"
                               f"{long_job['job']}", national)  # fmt: skip
    assert code == 200 and told["state"] == "finished" and told["schedule"] == "schedule-1"
    state = EditionService(open_store(platform.here)).load(NATIONAL)
    assert_valid(state.snapshot(), state.schedules["schedule-1"].assignments)
    code, health = platform.call("GET", f"{a}/health", metz)
    assert code == 200 and health["migrations"]
    assert health["queue"]["queued"] == health["queue"]["running"] == 0
    assert health["queue"]["workers"] >= 1
    queue.close()
    for host in (h1, h2, h3):
        host.stop()


def test_two_desks_on_two_hosts_share_the_last_ten_places_exactly(platform: Platform) -> None:
    h1, h2, _ = platform.hosts
    from creneau.adapters.cli import main

    service = EditionService(open_store(platform.here), actor="setup")
    at = ["--store", platform.here, "--edition", E, "--actor", "setup"]
    if not service.load(E).schedules:
        assert main(["solve", *at, "--time-limit", "10"]) == 0
    assert main(["accept", *at]) == 0
    session = "visite-bliiida"
    tokens = Tokens(open_store(platform.here))
    desk = tokens.create(role="desk", edition=E, name="accueil", actor="setup")[1]
    a = h1.serve(h1.store(platform.schema), platform.logs / "desk-a.log", port=8001)
    b = h2.serve(h2.store(platform.schema), platform.logs / "desk-b.log", port=8001)
    # A page served by host B follows the edition: it hears of what host A writes.
    stream = urllib.request.urlopen(f"{b}/api/v1/editions/{E}/changes", timeout=20)
    first = _version(stream)
    code, _ = platform.call("POST", f"{a}/api/v1/editions/{E}/bookings", desk,
                            {"attendee": "early", "session": session})  # fmt: skip
    assert code == 200 and _version(stream) > first
    stream.close()
    code, places = platform.call("GET", f"{a}/api/v1/editions/{E}/places", desk)
    line = next(p for p in places if p["session"] == session)
    left = line["offered"] - len(line["confirmed"])
    assert left > 10
    service.execute(BookPlaces(bookings=tuple(
        BookPlace(attendee=f"early-{i}", session_id=session) for i in range(left - 10))),
        edition_id=E)  # fmt: skip

    def book(i: int) -> int:
        server = a if i % 2 else b
        code, _ = platform.call("POST", f"{server}/api/v1/editions/{E}/bookings", desk,
                                   {"attendee": f"last-{i}", "session": session})  # fmt: skip
        return code

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(book, range(30)))
    assert codes == [200] * 30
    code, places = platform.call("GET", f"{b}/api/v1/editions/{E}/places", desk)
    line = next(p for p in places if p["session"] == session)
    last_confirmed = [x for x in line["confirmed"] if x.startswith("last-")]
    last_waiting = [x for x in line["waiting"] if x.startswith("last-")]
    assert len(last_confirmed) == 10 and len(last_waiting) == 20
    held = line["confirmed"] + line["waiting"]
    assert len(held) == len(set(held))  # none twice
    assert sorted(last_confirmed + last_waiting) == sorted(f"last-{i}" for i in range(30))
    assert len(line["confirmed"]) == line["offered"]
    for host in (h1, h2):
        host.stop()


def _version(stream: Any) -> int:
    for line in stream:
        if line.startswith(b"data:"):
            return int(line.removeprefix(b"data:").strip())
    raise AssertionError("the change stream ended")


def test_a_sweep_of_six_scenarios_runs_on_two_workers(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    _, h2, h3 = platform.hosts
    worker(platform, h2, "sweep-worker-1")
    worker(platform, h3, "sweep-worker-2")
    people = [p.id for p in generate(1.0).people[:3]]
    rooms = [r.id for r in generate(1.0).rooms[-2:]]
    sweep = platform.logs / "sweep.toml"
    sweep.write_text("\n".join([
        "time_limit = 3", "workers = 1",
        '[[scenario]]', 'name = "as it is"',
        '[[scenario]]', 'name = "parity 50 %"', "[scenario.policies.parity]",
        "women_min_share = 0.5", "hard = false",
        '[[scenario]]', f'name = "{rooms[0]} closed"', f'closed = [{{ room = "{rooms[0]}" }}]',
        '[[scenario]]', f'name = "{rooms[1]} closed"', f'closed = [{{ room = "{rooms[1]}" }}]',
        '[[scenario]]', f'name = "{people[0]} absent"',
        f'absent = [{{ person = "{people[0]}" }}]',
        '[[scenario]]', "name = \"two absent\"",
        f'absent = [{{ person = "{people[1]}" }}, {{ person = "{people[2]}" }}]',
    ]), encoding="utf-8")  # fmt: skip
    code, out, err = run(capsys, "--lang", "en", "scenarios", str(sweep), "--store",
                         platform.here, "--edition", NATIONAL)  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("6 scenarios queued as sweep-")
    assert len(lines) == 2 + 6 and "women" in lines[1] and "conflicts" in lines[1]
    sweep_id = lines[0].split()[-1]
    with SolveQueue(platform.here) as queue:
        infos = queue.sweep(sweep_id)
    assert [i.state for i in infos] == ["finished"] * 6
    assert len({i.worker for i in infos}) == 2  # both workers took part
    state = EditionService(open_store(platform.here)).load(NATIONAL)
    scenarios = read_sweep(str(sweep))[1]
    names = ["as it is", "parity 50 %", f"{rooms[0]} closed", f"{rooms[1]} closed",
             f"{people[0]} absent", "two absent"]  # fmt: skip
    assert [i.scenario for i in infos] == names
    # Each row tells its own outcome: a schedule, tagged with the scenario, or why none
    # (taking someone away can leave a session without the moderator it needs).
    assert infos[0].schedule is not None and infos[1].schedule is not None
    for info, line in zip(infos, lines[2:], strict=True):
        assert line.startswith(info.scenario)
        if info.schedule is not None:
            assert state.scenarios[info.schedule] == info.scenario
            assert info.schedule in line and info.outcome in line
            variant = apply_scenario(state.snapshot(), scenarios[names.index(info.scenario)])
            assert_valid(variant, state.schedules[info.schedule].assignments)
        else:
            assert info.outcome in line and line.rstrip().endswith("—")
    for host in platform.hosts:
        host.stop()
