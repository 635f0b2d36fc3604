"""The HTTP API under load, on loopback: a real `creneau serve` (one uvicorn process, the
SQLite store) holding a national-scale edition, 50 concurrent clients (asyncio + httpx,
a bounded client of the ecosystem).

    .venv/bin/python benchmarks/http_bench.py [--write]

Targets (issue "HTTP API and the committee's web page"): programme read p99 ≤ 50 ms; a
committee write (move) p99 ≤ 100 ms and a desk booking p99 ≤ 100 ms while 50 clients
load the server, and ≥ 300 bookings/s; the grid page of a national edition ≤ 300 ms.
The load comes from wrk (Debian's package), the moves from one httpx client.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import structlog  # noqa: E402

from benchmarks._readme import keep_table, run_line  # noqa: E402
from benchmarks.national import generate  # noqa: E402
from creneau.adapters.bootstrap import open_engine, open_store  # noqa: E402
from creneau.adapters.tokens import Tokens  # noqa: E402
from creneau.scheduler import (  # noqa: E402
    AcceptSchedule,
    CreneauError,
    ImportEdition,
    MoveSession,
    SolveProgramme,
)
from creneau.solver import CpSatSolver  # noqa: E402
from tests.integration.serve_helpers import serving  # noqa: E402

CLIENTS = 50


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def prepare(db: str) -> tuple[str, str, str, list[tuple[str, str, str]]]:
    """A published national edition, two tokens, and a move that is valid each way."""
    edition = generate(1.0)
    with open_engine(db, actor="bench") as engine:
        service = engine.service
        service.execute(ImportEdition(snapshot=edition))
        _, schedule = service.solve(edition.id, CpSatSolver(),
                                    SolveProgramme(time_limit=20, seed=1))  # fmt: skip
        service.execute(AcceptSchedule(schedule_id=schedule), edition_id=edition.id)
        state = service.load(edition.id)
        toggle = None
        for placed in state.programme:
            for room in state.rooms:
                if room == placed.room:
                    continue
                try:
                    service.execute(MoveSession(session_id=placed.session, room=room),
                                    edition_id=edition.id)  # fmt: skip
                except CreneauError:
                    continue
                toggle = [(placed.session, room, placed.room)]
                service.execute(MoveSession(session_id=placed.session, room=placed.room),
                                edition_id=edition.id)  # fmt: skip
                break
            if toggle:
                break
        assert toggle, "no valid move found"
    tokens = Tokens(open_store(db))
    desk = tokens.create(role="desk", edition=edition.id, name="desk", actor="bench")[1]
    committee = tokens.create(role="committee", edition=edition.id, name="comite",
                              actor="bench")[1]  # fmt: skip
    return edition.id, desk, committee, toggle


WRK_BOOKINGS = """
local sessions = {%s}
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
request = function()
  counter = counter + 1
  local body = string.format('{"attendee":"w%%d-%%d","session":"%%s"}', tid, counter,
                             sessions[(counter %% #sessions) + 1])
  return wrk.format("POST", nil, nil, body)
end
"""


def wrk(url: str, *, seconds: int, script: str | None = None,
        headers: dict[str, str] | None = None) -> tuple[float, float, float, int]:  # fmt: skip
    """p50 and p99 latency (seconds), requests per second and requests done, as wrk
    measures them with 50 connections on one thread (the server has the other core)."""
    import re
    import subprocess

    command = ["wrk", "-t1", f"-c{CLIENTS}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    assert "Non-2xx" not in out, out

    def latency(q: str) -> float:
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        return float(m[1]) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m[2]]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    done = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    return latency("50"), latency("99"), rate, done


def load(base: str, edition: str, desk: str, committee: str, toggle: list[tuple[str, str, str]],
         folder: str) -> list[tuple[str, int, float, float, str, str]]:  # fmt: skip
    import subprocess
    import urllib.request

    api = f"{base}/api/v1/editions/{edition}"
    rows = []
    p50, p99, rate, n = wrk(f"{api}/programme", seconds=10)
    rows.append(("programme read", n, p50, p99, f"{rate:,.0f}/s", "p99 ≤ 50 ms"))
    programme = json.loads(urllib.request.urlopen(f"{api}/programme").read())
    sessions = sorted({a["session"] for a in programme["assignments"]})
    script = Path(folder) / "bookings.lua"
    script.write_text(WRK_BOOKINGS % ", ".join(f'"{x}"' for x in sessions))
    p50, p99, rate, n = wrk(f"{api}/bookings", seconds=10, script=str(script),
                            headers={"Authorization": f"Bearer {desk}",
                                     "Content-Type": "application/json"})  # fmt: skip
    rows.append(("desk booking", n, p50, p99, f"{rate:,.0f}/s", "p99 ≤ 100 ms, ≥ 300/s"))
    # Moves by one committee client while wrk keeps 50 connections reading.
    readers = subprocess.Popen(["wrk", "-t1", f"-c{CLIENTS}", "-d30s", f"{api}/programme"],
                               stdout=subprocess.DEVNULL)  # fmt: skip
    time.sleep(1)
    session, there, back = toggle[0]
    times = []
    with httpx.Client(timeout=60) as client:
        headers = {"Authorization": f"Bearer {committee}"}
        for i in range(40):
            version = client.get(api, headers=headers).headers["etag"]
            t = time.perf_counter()
            r = client.post(f"{api}/moves", json={"session": session,
                                                  "room": there if i % 2 == 0 else back},
                            headers={**headers, "If-Match": version})  # fmt: skip
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
        readers.terminate()
        readers.wait()
        rows.append(("move, 50 connections reading meanwhile", len(times),
                     statistics.median(times), p(times, 0.99), "", "p99 ≤ 100 ms"))  # fmt: skip
        grid = []
        for _ in range(20):
            t = time.perf_counter()
            assert client.get(f"{base}/editions/{edition}/grid").status_code == 200
            grid.append(time.perf_counter() - t)
        rows.append(("grid page, national edition", len(grid), statistics.median(grid),
                     p(grid, 0.99), "", "≤ 300 ms"))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/national.db"
        edition, desk, committee, toggle = prepare(db)
        with serving(db) as base:
            rows = load(base, edition, desk, committee, toggle, tmp)
    table = [
        run_line(f"one `creneau serve` (uvicorn, one process) on SQLite, national edition; "
                 f"wrk (one thread, {CLIENTS} connections) on loopback, on the same 2 cores."),
        "",
        "| request | n | p50 ms | p99 ms | throughput | target |",
        "|---|---:|---:|---:|---:|---|",
        *(f"| {name} | {n:,} | {p50 * 1000:.1f} | {p99 * 1000:.1f} | {rate} | {target} |"
          for name, n, p50, p99, rate, target in rows),
    ]  # fmt: skip
    print("\n".join(table))
    if args.write:
        keep_table("http-bench", "\n".join(table), "HTTP API — `benchmarks/http_bench.py`")


if __name__ == "__main__":
    main()
