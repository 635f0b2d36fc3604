"""`creneau worker`, `creneau solve --queue` and `creneau scenarios`: solves run by
workers on other hosts through the PostgreSQL store's queue (adapters/jobqueue.py), and
what-if sweeps compared side by side."""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import msgspec

from creneau.adapters._cli_common import EXIT_OK, UsageError, pick_edition, service_for
from creneau.adapters._i18n import Words, for_terminal
from creneau.adapters._messages import impossible_text
from creneau.adapters.bootstrap import is_postgres
from creneau.scheduler import (
    EditionService,
    EditionState,
    InvalidCommand,
    Problem,
    Scenario,
    SolveProgramme,
    check_scenarios,
    scenarios_of,
    schedule_changes,
)

__all__ = ["ScenarioRow", "cmd_scenarios", "cmd_worker", "comparison", "read_sweep",
           "solve_queued"]  # fmt: skip


def _queue(address: str) -> Any:
    if not is_postgres(address):
        raise UsageError("queue_needs_postgres", store=address)
    from creneau.adapters.jobqueue import SolveQueue

    return SolveQueue(address)


def cmd_worker(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    from creneau.adapters.jobqueue import run_worker, worker_name

    if not is_postgres(args.store):
        raise UsageError("queue_needs_postgres", store=args.store)
    name = worker_name()
    _queue(args.store).close()  # reachable, and its tables installed, before saying so
    print(w.nsay("worker {name} on {store}: {n} job at a time (Ctrl-C stops; its jobs go "
                 "back to the queue)", "worker {name} on {store}: {n} jobs at a time (Ctrl-C "
                 "stops; its jobs go back to the queue)", args.concurrency, name=name,
                 store=args.store), file=out, flush=True)  # fmt: skip
    run_worker(args.store, concurrency=args.concurrency, heartbeat=args.heartbeat,
               stalled_after=args.stalled_after, name=name)  # fmt: skip
    return EXIT_OK


def solve_queued(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    """`creneau solve --store URL --queue`: the solve goes to the workers; this waits for
    it (unless --detach) and tells its answer as a solve here would."""
    from creneau.adapters._solving import ProgressLine, _tell

    queue = _queue(args.store)
    with queue, service_for(args) as service:
        edition = pick_edition(service, args.edition)
        before = service.load(edition)
        command = SolveProgramme(time_limit=args.time_limit, workers=args.workers,
                                 seed=args.seed)  # fmt: skip
        job = queue.enqueue(edition, command, actor=args.actor, replan=bool(before.programme),
                            version=before.version)  # fmt: skip
        print(w.say("queued as {job}", job=job), file=out, flush=True)
        if args.detach:
            return EXIT_OK
        try:
            with ProgressLine(sys.stderr, w) as line:
                info = queue.wait([job], heard=lambda infos: line(infos[0].progress()))[0]
        except KeyboardInterrupt:
            print(w.say("stopped waiting: {job} goes on in the queue", job=job), file=sys.stderr)
            raise
        if info.schedule is None:
            print(w._("error: {message}", message=_why(info, w)), file=sys.stderr)
            return 1
        state = service.load(edition)
        document = state.schedules[info.schedule]
    code = _tell(document, args, before, out, w, interrupted=False)
    print(w.say("recorded as {schedule}: `creneau accept --store {store}` publishes it",
                schedule=info.schedule, store=args.store), file=out)  # fmt: skip
    return code


def _why(info: Any, w: Words) -> str:
    if info.state == "cancelled" or info.detail == "cancelled":
        return w.say("the job {job} was cancelled: nothing recorded", job=info.job)
    if info.error is not None:
        from creneau.adapters.jobqueue import error_text

        return w.say("the job {job} was refused: {detail}", job=info.job,
                     detail=error_text(info.error, w))  # fmt: skip
    if info.outcome == "infeasible" and info.explanation:
        return for_terminal(impossible_text(info.explanation, w))
    if info.outcome in ("infeasible", "unknown", "model_invalid"):
        return w.say("the job {job} found no schedule ({outcome}): nothing recorded",
                     job=info.job, outcome=info.outcome)  # fmt: skip
    return w.say("the job {job} failed: {detail}", job=info.job, detail=info.detail or "?")


# -- scenario sweeps ----------------------------------------------------------------------


class _SweepFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    time_limit: float = 30.0
    workers: int = 1
    seed: int = 0
    scenario: list[Any] = []


def read_sweep(path: str) -> tuple[SolveProgramme, list[Scenario]]:
    """A sweep file: the solve's defaults and its ``[[scenario]]`` tables."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError("unreadable_file", path=path, detail=str(exc)) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidCommand([Problem("", "not_toml", {"detail": str(exc)})]) from exc
    return sweep_of(raw)


def sweep_of(raw: Any) -> tuple[SolveProgramme, list[Scenario]]:
    try:
        sweep = msgspec.convert(raw, _SweepFile, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidCommand([Problem("", "scenario_bad", {"detail": str(exc)})]) from exc
    if not (sweep.time_limit > 0 and 1 <= sweep.workers <= 64):
        raise InvalidCommand([Problem("", "scenario_bad_solve", {})])
    command = SolveProgramme(time_limit=sweep.time_limit, workers=sweep.workers, seed=sweep.seed)
    return command, scenarios_of(sweep.scenario)


def scenario_command(base: SolveProgramme, scenario: Scenario) -> SolveProgramme:
    return msgspec.structs.replace(
        base,
        time_limit=scenario.time_limit if scenario.time_limit is not None else base.time_limit,
        seed=scenario.seed if scenario.seed is not None else base.seed,
    )  # fmt: skip


class ScenarioRow(msgspec.Struct, frozen=True, kw_only=True):
    """One scenario of a sweep, compared."""

    scenario: str
    job: str
    state: str  # queued, running, finished, failed, cancelled
    outcome: str | None = None  # optimal, feasible, infeasible, unknown
    schedule: str | None = None
    women_share: float | None = None
    attendee_conflicts: int | None = None
    proposals_kept: int | None = None
    moves: int | None = None  # placements changed from the published programme
    objective: float | None = None
    detail: str = ""


def comparison(state: EditionState, jobs: Sequence[tuple[str, str, str, str | None, str]]
               ) -> list[ScenarioRow]:  # fmt: skip
    """The rows of a sweep from the edition (its recorded schedules) and, per scenario,
    (name, job, job state, outcome, detail)."""
    rows = []
    for name, job, job_state, outcome, detail in jobs:
        schedule_id = state.solve_jobs.get(job)
        if schedule_id is None:
            rows.append(ScenarioRow(scenario=name, job=job, state=job_state, outcome=outcome,
                                    detail=detail))  # fmt: skip
            continue
        document = state.schedules[schedule_id]
        m = document.metrics
        moves = None
        if state.programme:
            moves = sum(1 for c in schedule_changes(state.programme, document.assignments)
                        if c.kind in ("moved", "removed"))  # fmt: skip
        rows.append(ScenarioRow(
            scenario=name, job=job, state="finished", outcome=document.status,
            schedule=schedule_id, women_share=m.get("women_share"),
            attendee_conflicts=_int(m.get("attendee_conflicts")),
            proposals_kept=_int(m.get("proposals_selected")), moves=moves,
            objective=document.objective, detail=detail,
        ))  # fmt: skip
    return rows


def _int(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def print_comparison(rows: Sequence[ScenarioRow], out: TextIO, w: Words) -> None:
    header = [w._("scenario"), w._("result"), w._("women"), w._("conflicts"),
              w._("proposals kept"), w._("moves"), w._("schedule")]  # fmt: skip

    def cell(value: Any, shown: str | None = None) -> str:
        return "—" if value is None else (shown if shown is not None else str(value))

    table = [header]
    for r in rows:
        result = {"optimal": w._("optimal"), "feasible": w._("feasible"),
                  "infeasible": w._("infeasible")}.get(r.outcome or "", "")  # fmt: skip
        if not result:
            result = {"failed": w._("failed"), "cancelled": w._("cancelled"),
                      "queued": w._("queued"), "running": w._("running")}.get(
                          r.state, r.outcome or r.state)  # fmt: skip
        table.append([
            for_terminal(r.scenario), result,
            cell(r.women_share, None if r.women_share is None else w.percent(r.women_share)),
            cell(r.attendee_conflicts), cell(r.proposals_kept), cell(r.moves),
            cell(r.schedule),
        ])  # fmt: skip
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i])
                        for i, c in enumerate(line)).rstrip(), file=out)  # fmt: skip


def run_sweep_here(service: EditionService, edition: str, actor: str,
                   command: SolveProgramme, scenarios: Sequence[Scenario], sweep: str,
                   w: Words) -> list[tuple[str, str, str, str | None, str]]:  # fmt: skip
    """A sweep solved in this process, one scenario after the other (the SQLite store:
    one machine, nothing to set up)."""
    from creneau.adapters._solving import _solver

    done: list[tuple[str, str, str, str | None, str]] = []
    for i, scenario in enumerate(scenarios, start=1):
        job_id = f"{sweep}-{i}"
        job = service.start_solve(edition, _solver(), scenario_command(command, scenario),
                                  actor=actor, job_id=job_id, scenario=scenario)  # fmt: skip
        document, _ = job.collect()
        why = ""
        if document.status == "infeasible" and document.explanation:
            why = for_terminal(impossible_text(document.explanation, w))
        done.append((scenario.name, job_id, "finished", document.status, why))
    return done


def cmd_scenarios(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    command, scenarios = read_sweep(args.file)
    if args.time_limit is not None:
        command = msgspec.structs.replace(command, time_limit=args.time_limit)
    sweep = f"sweep-{uuid.uuid4().hex[:12]}"
    queued = is_postgres(args.store) and not args.here
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        state = service.load(edition)
        check_scenarios(state.snapshot(), scenarios)  # every one, before any is queued
        if queued:
            queue = _queue(args.store)
            with queue:
                jobs = [queue.enqueue(edition, scenario_command(command, s), actor=args.actor,
                                      scenario=s, sweep=sweep, job_id=f"{sweep}-{i}",
                                      version=state.version)
                        for i, s in enumerate(scenarios, start=1)]  # fmt: skip
                print(w.nsay("{n} scenario queued as {sweep}", "{n} scenarios queued as "
                             "{sweep}", len(jobs), sweep=sweep), file=out, flush=True)  # fmt: skip
                started = time.monotonic()

                def heard(infos: Sequence[Any]) -> None:
                    if sys.stderr.isatty():
                        ended = sum(i.state not in ("queued", "running") for i in infos)
                        sys.stderr.write("\r\033[K" + w.say(
                            "{ended} of {n} done, {seconds} s", ended=ended, n=len(infos),
                            seconds=round(time.monotonic() - started)))  # fmt: skip
                        sys.stderr.flush()

                infos = queue.wait(jobs, heard=heard)
                if sys.stderr.isatty():
                    sys.stderr.write("\r\033[K")
            done = [(s.name, i.job, i.state, i.outcome, "" if i.schedule else _why(i, w))
                    for s, i in zip(scenarios, infos, strict=True)]  # fmt: skip
        else:
            done = run_sweep_here(service, edition, args.actor, command, scenarios, sweep, w)
        rows = comparison(service.load(edition), done)
    print_comparison(rows, out, w)
    for r in rows:
        if r.detail:
            print(f"{for_terminal(r.scenario)}: {for_terminal(r.detail)}", file=sys.stderr)
    return EXIT_OK
