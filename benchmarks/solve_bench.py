"""Solve benchmark on generated national editions (``benchmarks/national.py``), with the
PyCon UK ``conference-scheduler`` (PuLP and CBC) side by side on the rules it can
express: fixed slots with a capacity, speaker clashes, speaker availability.

    .venv/bin/python benchmarks/solve_bench.py [--scales 1 5] [--time-limit 60]
                                               [--cs-time-limit 600] [--rounds 3] [--write]

Prints, per scale: sessions, rooms, people, time to the first schedule, time to the
best one, objective, bound and gap for Créneau on every rule of the edition; then the
time each tool takes on the reduced instance (the same sessions, rooms and people, the
rules conference-scheduler has), and their ratio. ``--write`` keeps the table in
benchmarks/README.md. Every schedule Créneau returns is checked with check_schedule.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402

from benchmarks._readme import keep_table  # noqa: E402
from benchmarks.national import generate  # noqa: E402
from creneau.scheduler import (  # noqa: E402
    DAY_MINUTES,
    EditionSnapshot,
    Progress,
    SchedulingProblem,
    SolveParameters,
    check_schedule,
    derive_problem,
    schedule_document,
)
from creneau.solver import CpSatSolver  # noqa: E402

# conference-scheduler works with slots: these blocks, in every room, every day.
BLOCKS = (("09:00", 90), ("10:45", 90), ("14:00", 90), ("15:45", 90))


def solve_full(edition: EditionSnapshot, time_limit: float, seed: int) -> dict[str, Any]:
    problem = derive_problem(edition)
    improvements: list[float] = []
    params = SolveParameters(time_limit=time_limit, workers=2, seed=seed)
    started = time.perf_counter()
    result = CpSatSolver().solve(problem, params, lambda p: improvements.append(p.elapsed))
    wall = time.perf_counter() - started
    if result.assignments:
        document = schedule_document(problem, result, params)
        broken = check_schedule(edition, document.assignments)
        assert not broken, broken[:3]
    gap = Progress(0, result.objective, result.bound).gap
    return {
        "status": result.status, "first": result.first_solution_time,
        "best": improvements[-1] if improvements else None, "objective": result.objective,
        "bound": result.bound, "gap": gap, "wall": wall,
    }  # fmt: skip


def reduced(edition: EditionSnapshot) -> EditionSnapshot:
    """The edition with only the rules conference-scheduler can express: every session
    starts at one of the blocks, needs its seats, and its speakers' time."""
    import msgspec

    from creneau.scheduler import Window

    def block(day: dt.date, start: str, length: int) -> Window:
        end = int(start[:2]) * 60 + int(start[3:]) + length
        return Window(day=day, start=start, end=f"{end // 60:02d}:{end % 60:02d}")

    windows = tuple(block(d.day, start, length) for d in edition.days for start, length in BLOCKS)
    sessions = tuple(
        msgspec.structs.replace(s, requires=(), after=(), fixed=None, format="workshop",
                                exclusive=False, windows=windows)
        for s in edition.sessions
    )  # fmt: skip
    rooms = tuple(msgspec.structs.replace(r, features=(), venue=None) for r in edition.rooms)
    policies = msgspec.structs.replace(edition.policies, speaker_gap=0)
    people = tuple(msgspec.structs.replace(p, max_per_day=None) for p in edition.people)
    return msgspec.structs.replace(
        edition,
        sessions=sessions,
        rooms=rooms,
        venues=(),
        travel=(),
        policies=policies,
        people=people,
    )


def creneau_reduced(edition: EditionSnapshot, seed: int, time_limit: float) -> tuple[float, str]:
    """Seconds for Créneau to its first schedule of the reduced instance (each session
    starts and ends inside a block: its windows are the blocks), and how the solve ended."""
    result = CpSatSolver().solve(
        derive_problem(edition), SolveParameters(time_limit=time_limit, workers=2, seed=seed)
    )
    assert result.first_solution_time is not None, result.status
    return result.first_solution_time, result.status


def _cs_instance(problem: SchedulingProblem) -> tuple[list[Any], list[Any]]:
    from conference_scheduler.resources import Event, Slot

    slots = []
    for day in problem.days:
        for start, length in BLOCKS:
            minute = int(start[:2]) * 60 + int(start[3:])
            for room in problem.rooms:
                slots.append(Slot(
                    venue=room.id,
                    starts_at=dt.datetime.combine(day.day, dt.time(minute // 60, minute % 60)),
                    duration=length, capacity=room.capacity + room.reserve,
                    session=f"{day.index}-{start}",
                ))  # fmt: skip
    events = [Event(name=s.id, duration=s.duration, demand=s.need) for s in problem.sessions]
    by_name = {e.name: e for e in events}
    for s in problem.sessions:
        event = by_name[s.id]
        clash = [
            by_name[o.id]
            for o in problem.sessions
            if o.id != s.id and set(o.people) & set(s.people)
        ]
        event.add_unavailability(*clash)
        closed = []
        for slot in slots:
            day = next(d for d in problem.days if d.day == slot.starts_at.date())
            start = day.index * DAY_MINUTES + slot.starts_at.hour * 60 + slot.starts_at.minute
            end = start + s.duration
            too_small = slot.capacity < s.need
            away = any(
                (p.available is not None and not any(a <= start and end <= b
                                                     for a, b in p.available))
                or any(start < b and a < end for a, b in p.unavailable)
                for p in (problem.person(pid) for pid in s.people)
            )  # fmt: skip
            if too_small or away:
                closed.append(slot)
        event.add_unavailability(*closed)
    return events, slots


def _cs_run(problem: SchedulingProblem, time_limit: float, queue: Any) -> None:
    import pulp
    from conference_scheduler import scheduler

    events, slots = _cs_instance(problem)
    started = time.perf_counter()
    try:
        schedule = scheduler.schedule(
            events, slots, solver=pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)
        )
        queue.put(("solved", time.perf_counter() - started, len(schedule)))
    except Exception as exc:
        queue.put(("failed", time.perf_counter() - started, f"{type(exc).__name__}: {exc}"))


def conference_scheduler(problem: SchedulingProblem, time_limit: float) -> tuple[str, float]:
    """Seconds conference-scheduler takes, in a child process it may not outlive."""
    queue: Any = multiprocessing.Queue()
    child = multiprocessing.Process(target=_cs_run, args=(problem, time_limit, queue))
    started = time.perf_counter()
    child.start()
    child.join(time_limit * 1.5 + 30)
    if child.is_alive():
        child.kill()
        child.join()
        return "no schedule: stopped", time.perf_counter() - started
    outcome, seconds, detail = queue.get()
    if outcome == "solved":
        return f"solved, {detail} sessions placed", seconds
    return f"failed ({detail})"[:80], seconds


def replan(edition: EditionSnapshot, document: Any, seed: int, limit: float) -> dict[str, Any]:
    """One cancellation: the first speaker of the first masterclass placed cannot come at
    its time; the published schedule re-planned (the fewest changes first)."""
    import msgspec

    from creneau.scheduler import Window, with_previous

    placed = {p.session: p for p in document.assignments}
    hit = next(placed[s.id] for s in edition.sessions
               if s.format == "masterclass" and s.id in placed)  # fmt: skip
    who = next(s for s in edition.sessions if s.id == hit.session).speakers[0]
    people = tuple(
        p if p.id != who
        else msgspec.structs.replace(p, unavailable=(Window(day=hit.day, start=hit.start,
                                                            end=hit.end),))
        for p in edition.people
    )  # fmt: skip
    changed = msgspec.structs.replace(edition, people=people)
    problem = with_previous(derive_problem(changed), document.assignments)
    params = SolveParameters(time_limit=limit, workers=2, seed=seed)
    started = time.perf_counter()
    again = CpSatSolver().solve(problem, params)
    wall = time.perf_counter() - started
    assert again.assignments, again.status
    redone = schedule_document(problem, again, params, edition=changed)
    assert not check_schedule(changed, redone.assignments)
    before = {(p.session, p.occurrence): (p.day, p.start, p.room) for p in document.assignments}
    after = {(p.session, p.occurrence): (p.day, p.start, p.room) for p in redone.assignments}
    return {"who": who, "hit": hit, "result": again, "wall": wall, "total": len(before),
            "moved": sum(1 for k, v in before.items() if after.get(k) != v)}  # fmt: skip


def replan_rows(edition: EditionSnapshot, document: Any, seed: int, limit: float) -> list[str]:
    r = replan(edition, document, seed, limit)
    again, hit = r["result"], r["hit"]
    return [
        "",
        "| re-planning after one cancellation | fewest changes found | proven | wall time "
        "| sessions moved |",
        "|---|---:|---|---:|---:|",
        f"| {r['who']} unavailable {hit.day} {hit.start}–{hit.end} ({hit.session}) "
        f"| {again.fewest_changes_time:.1f} s | {'yes' if again.fewest_changes_proven else 'no'} "
        f"| {r['wall']:.1f} s ({again.status}) | {r['moved']} of {r['total']} |",
    ]


def quality(scale: float, time_limit: float, replan_limit: float, seed: int) -> list[str]:
    """The issue-4 edition (parity, moderators, proposals, tracks, registrations): the solve,
    its metrics, then a re-plan after one speaker cancels."""
    edition = generate(scale, full=True)
    problem = derive_problem(edition)
    params = SolveParameters(time_limit=time_limit, workers=2, seed=seed)
    improvements: list[float] = []
    result = CpSatSolver().solve(problem, params, lambda p: improvements.append(p.elapsed))
    assert result.assignments, result.status
    document = schedule_document(problem, result, params, edition=edition)
    broken = check_schedule(edition, document.assignments)
    assert not broken, broken[:3]
    gap = Progress(0, result.objective, result.bound).gap
    m = document.metrics
    proposals = sum(1 for s in edition.sessions if s.optional)
    rows = [
        f"| {scale:g} | {len(edition.sessions)} ({proposals} proposals) | {len(edition.rooms)} "
        f"| {len(edition.people)} | {len(edition.registrations)} | {result.status} "
        f"| {result.first_solution_time:.1f} s | {improvements[-1]:.1f} s | {result.objective:g} "
        f"| {result.bound:g} | {gap:.1%} |",
        "",
        "| women share | all-male panels | parity not established | attendee conflicts "
        "| proposals selected | seats used / offered |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {m.get('women_share', 0):.1%} | {m['all_male_panels']} "
        f"| {m['parity_not_established']} | {m['attendee_conflicts']} "
        f"| {m['proposals_selected']} / {proposals} | {m['seats_used']} / {m['seats_offered']} |",
    ]
    rows += replan_rows(edition, document, seed, replan_limit)
    return rows


# -- the search at the size of real conferences (issue "Solver at the size of real
# conferences") ------------------------------------------------------------------------

# Timefold Solver 1.24 at 60 s on a comparable national edition, plenaries honoured,
# measured outside this benchmark (the issue's figures): attendee conflicts, proposals'
# priority kept.
TIMEFOLD_60S = (715, 157)


def _search_run(
    edition: EditionSnapshot, limit: float, seed: int, search: str, at: float
) -> dict[str, Any]:
    """One solve, checked by the independent validator on the raw documents; its figures,
    and its objective as it stood ``at`` seconds in."""
    import json

    import msgspec

    from creneau.adapters.edition_document import document_bytes
    from creneau.adapters.validator import check_documents
    from creneau.solver._bounds import cheap_bounds

    problem = derive_problem(edition)
    params = SolveParameters(time_limit=limit, workers=2, seed=seed, search=search)
    told: list[Progress] = []
    result = CpSatSolver().solve(problem, params, told.append)
    out: dict[str, Any] = {"status": result.status, "first": result.first_solution_time,
                           "objective": result.objective, "bound": result.bound,
                           "cheap": sum(cheap_bounds(problem).values())}  # fmt: skip
    if not result.assignments:
        return out
    document = schedule_document(problem, result, params, edition=edition)
    findings = check_documents(json.loads(document_bytes(edition)), msgspec.to_builtins(document))
    assert not findings, findings[:3]
    before = [p for p in told if p.elapsed <= at]
    placed = {a.session for a in document.assignments}
    out.update(
        best=told[-1].elapsed if told else None,
        at=before[-1].objective if before else None,
        conflicts=document.metrics.get("attendee_conflicts"),
        women=document.metrics.get("women_share"),
        priority=sum(s.priority for s in edition.sessions if s.optional and s.id in placed),
        document=document,
    )
    return out


def _cell(value: Any, pattern: str) -> str:
    return "—" if value is None else pattern.format(value)


def _search_row(name: str, size: str, seed: int, search: str, limit: float, r: dict[str, Any],
                ratio: str) -> str:  # fmt: skip
    label = {"auto": "Créneau", "whole": "plain CP-SAT"}[search]
    return (
        f"| {name} | {size} | {label}, {limit:g} s | {seed} | {_cell(r['first'], '{:.1f} s')} "
        f"| {_cell(r.get('best'), '{:.1f} s')} | {_cell(r.get('at'), '{:,.0f}')} "
        f"| {_cell(r['objective'], '{:,.0f}')} "
        f"| {_cell(r['bound'], '{:,.0f}')} / {_cell(r['cheap'], '{:,.0f}')} "
        f"| {_cell(r.get('conflicts'), '{:,}')} | {_cell(r.get('priority'), '{}')} "
        f"| {_cell(r.get('women'), '{:.1%}')} | {ratio} |"
    )


def impossible(edition: EditionSnapshot, kind: str) -> EditionSnapshot:
    """``edition`` made impossible: "parity", at least 75 % women (hard); "tables", one
    room left of those with tables, for every workshop."""
    import msgspec

    from creneau.scheduler import Parity

    if kind == "parity":
        policies = msgspec.structs.replace(edition.policies, parity=Parity(women_min_share=0.75))
        return msgspec.structs.replace(edition, policies=policies)
    kept = [r for r in edition.rooms if "tables" not in r.features]
    kept.append(next(r for r in edition.rooms if "tables" in r.features))
    return msgspec.structs.replace(edition, rooms=tuple(kept))


def explain_rows() -> list[str]:
    """Impossible national editions: the solve's time until it says which rules conflict."""
    rows = [
        "",
        "| impossible edition | sessions | status | seconds to the explanation | target "
        "| rules named |",
        "|---|---:|---|---:|---|---|",
    ]
    for scale, target in ((1.0, 10), (5.0, 60)):
        for kind, what in (("parity", "at least 75 % women"),
                           ("tables", "one room with tables")):  # fmt: skip
            edition = impossible(generate(scale, full=True), kind)
            problem = derive_problem(edition)
            started = time.perf_counter()
            result = CpSatSolver().solve(problem, SolveParameters(time_limit=300, workers=2))
            seconds = time.perf_counter() - started
            named = ", ".join(f"{c.rule} {c.subject}" for c in result.conflicts)
            size = len(edition.sessions)
            rows.append(
                f"| national full ×{scale:g}, {what} | {size} | {result.status} "
                f"| {seconds:.1f} | ≤ {target} s | {named} |"
            )
            print(rows[-1], flush=True)
    return rows


def search_table(
    seeds: list[int], plain_limit: float, replan_limit: float, factor: float = 1.0
) -> str:
    """Créneau's search beside plain CP-SAT (the whole model from the construction's hint,
    as ``solve`` did before), on every edition of the issue; the two take turns."""
    import msgspec

    from benchmarks.fosdem import editions as fosdem_editions
    from creneau.adapters.edition_document import read_raw

    fosdem = {k: read_raw(v) for k, v in fosdem_editions().items()}
    full = generate(1.0, full=True)
    # Every proposal worth more than any conflicts it brings: the programme keeps them all,
    # so that its conflicts compare with a solver's that kept most of them (Timefold's).
    weights = {**full.policies.weights, "proposal_priority": 1000}
    keeping = msgspec.structs.replace(
        full, policies=msgspec.structs.replace(full.policies, weights=weights)
    )
    cases: list[tuple[str, EditionSnapshot, float, float, list[int]]] = [
        ("national core", generate(1.0), 60, 60, seeds[:1]),
        ("national full", full, 60, plain_limit, seeds),
        ("national full, every proposal kept", keeping, 60, 60, seeds[:1]),
        ("national full ×5", generate(5.0, full=True), 120, plain_limit, seeds[:1]),
        ("FOSDEM 2024, rooms as published", fosdem["rooms as published"], 60, 60, seeds[:1]),
        ("FOSDEM 2024, any room", fosdem["any room"], 60, 60, seeds[:1]),
    ]
    rows = []
    replanned: list[str] = []
    for name, edition, full_limit, full_plain, case_seeds in cases:
        limit, plain = full_limit * factor, full_plain * factor
        size = f"{len(edition.sessions)} / {len(edition.rooms)}"
        for seed in case_seeds:
            ours = _search_run(edition, limit, seed, "auto", limit)
            theirs = _search_run(edition, plain, seed, "whole", limit)
            ratio = "—"
            if ours["objective"] is not None and theirs["objective"] is not None:
                ratio = (f"{ours['objective'] / max(theirs['objective'], 1e-9):.3f} "
                         f"(at {limit:g} s against its {plain:g} s)")  # fmt: skip
            elif ours["objective"] is not None:
                ratio = "plain CP-SAT found none"
            rows.append(_search_row(name, size, seed, "auto", limit, ours, ratio))
            rows.append(_search_row(name, size, seed, "whole", plain, theirs, ""))
            print(rows[-2], rows[-1], sep="\n", flush=True)
            if name == "national full" and not replanned and ours.get("document"):
                replanned = replan_rows(edition, ours["document"], seed, replan_limit)
    head = (
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; 2 workers everywhere; "
        "every schedule checked by the independent validator on the raw documents. "
        "Créneau: the construction completed, our neighbourhood search, then CP-SAT on the "
        "whole model from the best (the default, `search=auto`); plain CP-SAT: the whole "
        "model from the construction's hint (`search=whole`, the solve before this issue). "
        'The two run one after the other on each edition and seed. "at" is the objective '
        "the run held at Créneau's limit. Bound: CP-SAT's proven bound (or the best of it "
        "and the next) / the bound that costs no search (`solver/_bounds.py`). Timefold 1.24 "
        f"at 60 s on a comparable edition (the issue's figures): {TIMEFOLD_60S[0]} attendee "
        f"conflicts, proposals' priority {TIMEFOLD_60S[1]}.\n\n"
    )
    return head + "\n".join([
        "| edition | sessions / rooms | search, limit | seed | first schedule | best found at "
        "| objective at Créneau's limit | objective | bound / no-search bound "
        "| attendee conflicts | proposals' priority kept | women share "
        "| Créneau / plain CP-SAT |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *rows,
        *replanned,
        *explain_rows(),
    ]) + "\n"  # fmt: skip


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--cs-time-limit", type=float, default=600.0)
    parser.add_argument(
        "--reduced-time-limit",
        type=float,
        default=20.0,
        help="Créneau's limit on the reduced instance (only its first schedule is timed)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of each tool on the reduced instance"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--quality-scale", type=float, default=1.0)
    parser.add_argument("--quality-time-limit", type=float, default=120.0)
    parser.add_argument("--replan-time-limit", type=float, default=5.0)
    parser.add_argument(
        "--quality-only", action="store_true", help="only the parity/tracks/proposals run"
    )
    parser.add_argument(
        "--search-only",
        action="store_true",
        help="only the search at scale beside plain CP-SAT (about 55 minutes)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--plain-time-limit",
        type=float,
        default=600.0,
        help="plain CP-SAT's limit on the national full editions",
    )
    parser.add_argument(
        "--limits-factor",
        type=float,
        default=1.0,
        help="every time limit of the search table times this (for a quick try)",
    )
    args = parser.parse_args()

    if args.search_only:
        table = search_table(
            args.seeds, args.plain_time_limit, args.replan_time_limit, args.limits_factor
        )
        print(table)
        _keep(args.write, "search-bench", table)
        return

    quality_rows = quality(
        args.quality_scale, args.quality_time_limit, args.replan_time_limit, args.seed
    )
    quality_table = "\n".join([
        f"Programme quality (parity 40 % hard, moderators, proposals, tracks, registrations), "
        f"2 workers, seed {args.seed}, {args.quality_time_limit:g} s limit; re-planning "
        f"{args.replan_time_limit:g} s limit:",
        "",
        "| scale | sessions | rooms | people | registrations | status | first schedule "
        "| best found at | objective | bound | gap |",
        "|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
        *quality_rows,
    ]) + "\n"  # fmt: skip
    print(quality_table, flush=True)
    if args.quality_only:
        _keep(args.write, "quality-bench", quality_table)
        return

    full_rows, cs_rows = [], []
    for scale in args.scales:
        edition = generate(scale)
        sessions, rooms, people = len(edition.sessions), len(edition.rooms), len(edition.people)
        r = solve_full(edition, args.time_limit, args.seed)
        fmt = lambda v, pat: "—" if v is None else pat.format(v)  # noqa: E731
        full_rows.append(
            f"| {scale:g} | {sessions} | {rooms} | {people} | {r['status']} | "
            f"{fmt(r['first'], '{:.1f} s')} | {fmt(r['best'], '{:.1f} s')} | "
            f"{fmt(r['objective'], '{:g}')} | {fmt(r['bound'], '{:g}')} | "
            f"{fmt(r['gap'], '{:.1%}')} |"
        )
        print(full_rows[-1], flush=True)
        small = reduced(edition)
        # The two take turns, round by round, so that the machine's drifts fall on both;
        # the medians are compared. A conference-scheduler run that found no schedule in
        # its limit is not run again.
        ours_runs: list[float] = []
        theirs_runs: list[float] = []
        outcome = ""
        for _ in range(args.rounds):
            ours, how = creneau_reduced(small, args.seed, args.reduced_time_limit)
            ours_runs.append(ours)
            if not theirs_runs or outcome.startswith("solved"):
                outcome, theirs = conference_scheduler(derive_problem(small), args.cs_time_limit)
                theirs_runs.append(theirs)
        ours, theirs = statistics.median(ours_runs), statistics.median(theirs_runs)
        ratio = (
            f"{theirs / ours:.0f}×"
            if outcome.startswith("solved")
            else f"> {theirs / ours:.0f}× (it found none)"
        )
        cs_rows.append(
            f"| {scale:g} | {ours:.2f} s{spread(ours_runs)} ({how} within "
            f"{args.reduced_time_limit:g} s) | {theirs:.1f} s{spread(theirs_runs)}, {outcome} "
            f"| {ratio} |"
        )
        print(cs_rows[-1], flush=True)

    head = (
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; Créneau with 2 workers, "
        f"seed {args.seed}, {args.time_limit:g} s limit; conference-scheduler with CBC, "
        f"{args.cs_time_limit:g} s limit. Reduced instance: medians of {args.rounds} runs "
        f"each, taking turns (range in brackets).\n\n"
    )
    table = head + "\n".join([
        "| scale | sessions | rooms | people | status | first schedule | best found at "
        "| objective | bound | gap |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
        *full_rows,
        "",
        "Reduced instance (slots with capacity, speaker clashes, availability):",
        "",
        "| scale | Créneau, first schedule | conference-scheduler, its schedule | ratio |",
        "|---:|---:|---|---:|",
        *cs_rows,
    ]) + "\n"  # fmt: skip
    print()
    print(table)
    _keep(args.write, "solve-bench", table)
    _keep(args.write, "quality-bench", quality_table)


def spread(runs: list[float]) -> str:
    """The range of several timings, in brackets."""
    return f" ({min(runs):.2f}–{max(runs):.2f} s)" if len(runs) > 1 else ""


def _keep(write: bool, tag: str, table: str) -> None:
    """Keep ``table`` in benchmarks/README.md between ``<!-- tag -->`` markers."""
    if write:
        keep_table(tag, table, f"Solver — `benchmarks/solve_bench.py` ({tag})")


if __name__ == "__main__":
    main()
