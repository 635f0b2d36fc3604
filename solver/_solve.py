"""Solving a programme with CP-SAT, and explaining why none exists."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import structlog
from ortools.sat.python import cp_model

from creneau.scheduler import (
    DAY_MINUTES,
    Assignment,
    Conflict,
    Progress,
    SchedulingProblem,
    SessionSpec,
    SolveParameters,
    SolveResult,
    Span,
)
from creneau.solver._bounds import cheap_bounds
from creneau.solver._construct import Placed, first_fit
from creneau.solver._diagnostics import diagnose
from creneau.solver._lns import Incumbent, NeighbourhoodSearch, Reading, fix, hint_all
from creneau.solver._model import ProgrammeModel

__all__ = ["CpSatSolver", "conflict", "describe", "relaxed_is_feasible"]

log = structlog.get_logger()
DEFAULT_PARAMETERS = SolveParameters()
FINISHING = 0.25  # seconds kept at the end of the time limit (at most 5 % of it)


class _Watch(cp_model.CpSolverSolutionCallback):
    """Hears of each better schedule: the time of the first, and the progress told."""

    def __init__(
        self, started: float, report: Callable[[Progress], None] | None, model: ProgrammeModel
    ) -> None:
        super().__init__()
        self.started = started
        self.report = report
        self.model = model
        self.first: float | None = None
        self.told: float | None = None  # the objective last told
        self.lock = threading.Lock()  # the search's threads tell their programmes in turn

    def on_solution_callback(self) -> None:
        elapsed = time.perf_counter() - self.started
        if self.first is None:
            self.first = elapsed
        if self.report is not None and self.better(self.objective_value):
            self.report(Progress(elapsed, self.objective_value, self.best_objective_bound,
                                 tuple(_assignments(self.model, self))))  # fmt: skip

    def better(self, objective: float) -> bool:
        """Whether ``objective`` is better than the last told (and is now the last)."""
        if self.told is not None and objective >= self.told - 1e-6:
            return False
        self.told = objective
        return True


def _configure(solver: cp_model.CpSolver, params: SolveParameters, time_limit: float) -> None:
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = params.workers
    solver.parameters.random_seed = params.seed
    # Probing in presolve took 12 of the 13 s before the first schedule of a national
    # edition with parity, tracks and registrations (benchmarks/solve_bench.py), and did
    # not improve the schedule found in 40 s; without it the first comes in 1.6 s.
    solver.parameters.cp_model_probing_level = 0
    # Interrupting is the caller's to ask (``stop``), not CP-SAT's to catch: a Ctrl-C it
    # caught would end the search as if its time were up, and say nothing.
    solver.parameters.catch_sigint_signal = False


class _Stopper:
    """Stops the searches under way when ``stop`` is set (from another thread)."""

    def __init__(self, stop: threading.Event | None) -> None:
        self.stop = stop
        self._active: set[cp_model.CpSolver] = set()
        self._lock = threading.Lock()
        self._done = threading.Event()
        if stop is not None:
            threading.Thread(target=self._watch, daemon=True, name="solve-stop").start()

    @property
    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def run(self, solver: cp_model.CpSolver, model: cp_model.CpModel, watch: Any = None) -> Any:
        with self._lock:
            self._active.add(solver)
        try:
            if self.stopped:
                return cp_model.UNKNOWN
            return solver.solve(model, watch)
        finally:
            with self._lock:
                self._active.discard(solver)

    def _watch(self) -> None:
        assert self.stop is not None
        while not self._done.is_set():
            if self.stop.wait(0.05):
                with self._lock:
                    for solver in self._active:
                        solver.stop_search()
                if self._done.wait(0.05):
                    return

    def close(self) -> None:
        self._done.set()


class CpSatSolver:
    """The solver port's CP-SAT implementation."""

    def solve(
        self,
        problem: SchedulingProblem,
        params: SolveParameters = DEFAULT_PARAMETERS,
        progress: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
    ) -> SolveResult:
        """Solve ``problem`` within ``params.time_limit``; setting ``stop`` (from another
        thread) ends the search early, with the best schedule found so far, if any,
        marked ``interrupted``."""
        stopper = _Stopper(stop)
        try:
            return self._solve(problem, params, progress, stopper)
        finally:
            stopper.close()

    def _solve(
        self,
        problem: SchedulingProblem,
        params: SolveParameters,
        progress: Callable[[Progress], None] | None,
        stopper: _Stopper,
    ) -> SolveResult:
        started = time.perf_counter()
        conflicts = diagnose(problem)
        if conflicts:
            if params.explain and not stopper.stopped:
                conflicts = explain(problem, params, params.time_limit, known=conflicts)
            return SolveResult(
                status="infeasible",
                conflicts=tuple(conflicts),
                wall_time=time.perf_counter() - started,
            )
        fewest: tuple[float | None, bool] = (None, False)
        building = time.perf_counter()
        hint: Placed = {}
        hosts: dict[tuple[str, int], tuple[str, ...]] = {}
        if problem.previous:
            model = ProgrammeModel(problem)
        else:
            hint, hosts = first_fit(problem)
            model = ProgrammeModel(problem, hint=hint, hint_moderators=hosts)
        watch = _Watch(started, progress, model)
        solver = cp_model.CpSolver()
        # The time limit covers everything: the search, and saying why proposals were
        # left out (time kept for it when the edition has proposals: that model takes
        # about as long to build as this one, then a few quick probes).
        build = time.perf_counter() - building
        # CP-SAT stops a little after its limit, and the answer is assembled after it:
        # the searches end this much before the time limit, so the whole call fits in it.
        deadline = started + params.time_limit - min(FINISHING, 0.05 * params.time_limit)
        reserve = 0.0
        # (When re-planning, the fewest changes come first: the reasons get only what
        # time is left.)
        if any(s.optional for s in problem.sessions) and not problem.previous:
            reserve = min(0.3 * params.time_limit, 1.5 * build + 0.5)

        def left(share: float = 1.0) -> float:
            # At least half a second for a search, unless the time limit itself is gone.
            now = time.perf_counter()
            return max(min(0.5, deadline - now), share * (deadline - reserve - now), 0.0)

        # What no programme can avoid: a bound of every programme found, however found.
        cheap = float(sum(cheap_bounds(problem).values()))
        found: _Found | None = None
        if problem.previous:
            # Re-planning: first the fewest changes the rules allow, then the best
            # programme among those.
            model.objective(moves_only=True)
            _configure(solver, params, left(0.85))
            status = stopper.run(solver, model.m, watch)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) and not stopper.stopped:
                fewest = (time.perf_counter() - started, status == cp_model.OPTIMAL)
                least = round(solver.objective_value)
                model.m.add(model.move_cost() <= least)
                _hint_solution(model, solver)
                log.info("replanned", edition=problem.edition, move_cost=least,
                         proven=status == cp_model.OPTIMAL,
                         seconds=round(time.perf_counter() - started, 3))  # fmt: skip
                phase_one = solver
                solver = cp_model.CpSolver()
                model.objective()
                _configure(solver, params, left())
                status = stopper.run(solver, model.m, watch)
                if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                    solver, status = phase_one, cp_model.FEASIBLE  # keep the fewest changes
            found = _Found.of(solver, status)
        else:
            model.objective()
            found = _search(model, hint, hosts, params, watch, stopper, left, started, cheap)
        interrupted = stopper.stopped
        wall = time.perf_counter() - started
        log.info(
            "solved",
            edition=problem.edition,
            status=found.status_name,
            seconds=round(wall, 3),
            objective=found.objective if found.values is not None else None,
            interrupted=interrupted,
        )
        if found.values is not None:
            reading = Reading(found.values)
            assignments = _assignments(model, reading)
            left_out = [o.session for o in model.occurrences
                        if o.number == 1 and o.present is not True
                        and not reading.boolean_value(o.present)]  # fmt: skip
            budget = 0.0 if interrupted else deadline - time.perf_counter()
            if budget < 1.5 * build:  # not enough to build the model that says why
                budget = 0
            unscheduled = why_left_out(problem, assignments, left_out, params, budget)
            # The best bound proven: CP-SAT's, or what no programme can avoid when larger.
            bound = max(found.bound or 0.0, cheap)
            return SolveResult(
                status="optimal" if found.proven and not interrupted else "feasible",
                assignments=tuple(assignments), unscheduled=tuple(unscheduled),
                objective=found.objective, bound=bound,
                wall_time=time.perf_counter() - started, first_solution_time=watch.first,
                fewest_changes_time=fewest[0], fewest_changes_proven=fewest[1],
                interrupted=interrupted,
            )  # fmt: skip
        if found.status == cp_model.INFEASIBLE:
            remaining = max(1.0, params.time_limit - wall)
            conflicts_found = (
                explain(problem, params, remaining, start=(hint, hosts) if hint else None)
                if params.explain else []
            )  # fmt: skip
            return SolveResult(
                status="infeasible", conflicts=tuple(conflicts_found),
                wall_time=time.perf_counter() - started,
            )  # fmt: skip
        if found.status == cp_model.MODEL_INVALID:
            raise RuntimeError(f"CP-SAT rejected the model: {model.m.validate()}")
        return SolveResult(status="unknown", wall_time=wall, interrupted=interrupted)


@attrs.define
class _Found:
    """What a search ended with: CP-SAT's status, the best programme (every variable's
    value) and its objective, the best bound proven, and whether it is proven optimal."""

    status: Any
    values: list[int] | None = None
    objective: float | None = None
    bound: float | None = None
    proven: bool = False

    @property
    def status_name(self) -> str:
        return cp_model.CpSolverStatus(self.status).name if self.status is not None else ""

    @classmethod
    def of(cls, solver: cp_model.CpSolver, status: Any) -> _Found:
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return cls(status)
        return cls(status, list(solver.response_proto.solution), solver.objective_value,
                   solver.best_objective_bound, status == cp_model.OPTIMAL)  # fmt: skip


# Editions with at most this many runs to place are left to CP-SAT whole: it proves them
# optimal in about a second (the local editions); above, our neighbourhood search leads.
WHOLE_MODEL_UP_TO = 40
# Of the time left after the first programme, the share given at the end to CP-SAT on the
# whole model, hinted with the best programme: it proves a bound, and sometimes improves.
# Since the parts have models of their own the neighbourhoods gain more than it does:
# national edition with registrations, 60 s, seeds 1-3, taking turns: 30 % 6,056 / 5,834
# / 5,838 (every best found as the neighbourhoods stopped, at 39-40 s), 5 % 5,834 / 5,512
# / 5,475; ×5 at 120 s, its last 30 % took 8,342 to 8,272, the neighbourhoods gaining
# about 20 a second there.
FINAL_SHARE = 0.05


def _search(
    model: ProgrammeModel,
    hint: Placed,
    hosts: dict[tuple[str, int], tuple[str, ...]],
    params: SolveParameters,
    watch: _Watch,
    stopper: _Stopper,
    left: Callable[..., float],
    started: float,
    cheap: float,
) -> _Found:
    """A fresh solve: the construction completed into a first programme, improved by our
    neighbourhood search, then handed to CP-SAT whole (see ``_lns``)."""
    whole = params.search == "whole" or (
        params.search == "auto" and len(model.occurrences) <= WHOLE_MODEL_UP_TO
    )
    if whole:
        solver = cp_model.CpSolver()
        _configure(solver, params, left())
        return _Found.of(solver, stopper.run(solver, model.m, watch))
    first = _complete(model, hint, hosts, params, stopper, left)
    if first.values is None:
        # The construction could not be completed with its runs kept: CP-SAT looks for a
        # first programme on the whole model, from the construction as a hint.
        solver = cp_model.CpSolver()
        _configure(solver, params, left())
        solver.parameters.stop_after_first_solution = True
        first = _Found.of(solver, stopper.run(solver, model.m, watch))
        if first.values is None:
            return first
    if watch.first is None:
        watch.first = time.perf_counter() - started
    incumbent = Incumbent(first.values, first.objective or 0.0, watch.first)
    # Told with the bound that costs no search (the completion's own bound is of the part
    # it solved, not of the whole).
    _told(watch, model, incumbent, cheap)
    if first.proven and first.objective == 0:
        return first  # nothing left to gain
    lns = NeighbourhoodSearch(
        model, incumbent, seed=params.seed, workers=params.workers, run=stopper.run,
        stopped=lambda: stopper.stopped, started=started,
        better=lambda best: _told(watch, model, best, cheap),
    )  # fmt: skip
    best = lns.search(time.perf_counter() + left(1.0 - FINAL_SHARE))
    if lns.proven:
        return _Found(cp_model.OPTIMAL, best.values, best.objective, best.objective, True)
    if stopper.stopped:
        return _Found(cp_model.FEASIBLE, best.values, best.objective)
    # CP-SAT on the whole model, from the best programme: a bound, perhaps better.
    solver = cp_model.CpSolver()
    hint_all(model.m, best.values)
    _configure(solver, params, left())
    final = _Found.of(solver, stopper.run(solver, model.m, watch))
    if (
        final.values is not None
        and final.objective is not None
        and final.objective <= best.objective + 1e-6
    ):
        return final
    bound = final.bound if final.status == cp_model.FEASIBLE else None
    return _Found(cp_model.FEASIBLE, best.values, best.objective, bound)


def _told(watch: _Watch, model: ProgrammeModel, best: Incumbent, bound: float | None) -> None:
    with watch.lock:
        if watch.report is not None and watch.better(best.objective):
            watch.report(Progress(best.found_at, best.objective, bound,
                                  tuple(_assignments(model, Reading(best.values)))))  # fmt: skip


def _complete(
    model: ProgrammeModel,
    hint: Placed,
    hosts: dict[tuple[str, int], tuple[str, ...]],
    params: SolveParameters,
    stopper: _Stopper,
    left: Callable[..., float],
) -> _Found:
    """The construction's programme with every variable's value: its runs kept where it
    placed them, CP-SAT sets what follows and places what it could not. When what it
    could not place does not fit around the rest, the runs tied to those (sharing a
    person, one following the other) are freed too, and CP-SAT tries again."""
    missing = {o.session.id for o in model.occurrences
               if (o.session.id, o.number) not in hint and o.present is True}  # fmt: skip
    tied = set(missing)
    for o in model.occurrences:
        s = o.session
        if s.id in missing:
            tied.update(a for a, _, _ in s.after)
        elif any(a in missing for a, _, _ in s.after):
            tied.add(s.id)
    people = {pid for o in model.occurrences if o.session.id in tied for pid in o.session.people}
    tied.update(o.session.id for o in model.occurrences if people & set(o.session.people))
    tries = [frozenset(missing), frozenset(tied)] if missing else [frozenset()]
    found = _Found(None)
    for free in tries:
        fixed: list[tuple[int, int]] = []
        for o in model.occurrences:
            placed = hint.get((o.session.id, o.number))
            if o.session.id in free:
                continue
            if placed is None:
                if o.present is not True and (o.session.id, 1) not in hint:
                    fixed.append((o.present.index, 0))  # a proposal it did not take
                continue
            start, room = placed
            if room not in o.rooms:
                continue
            fixed += [(o.start.index, start), (o.rooms[room].index, 1)]
            if o.present is not True:
                fixed.append((o.present.index, 1))
            fixed += [(o.moderators[pid].index, 1)
                      for pid in hosts.get((o.session.id, o.number), ())
                      if pid in o.moderators]  # fmt: skip
        copy = model.m.clone()
        fix(copy, fixed)
        solver = cp_model.CpSolver()
        _configure(solver, params, min(left(), max(2.0, 0.1 * left())))
        found = _Found.of(solver, stopper.run(solver, copy))
        log.info("construction_completed", freed=len(free), status=found.status_name)
        if found.values is not None or stopper.stopped:
            break
    return found


def _assignments(model: ProgrammeModel, solver: Any) -> list[Assignment]:
    """The assignments of the solution ``solver`` holds (a solver, or a callback during
    the search)."""
    out = []
    for o in model.occurrences:
        if o.present is not True and not solver.boolean_value(o.present):
            continue
        room = next(r for r, lit in o.rooms.items() if solver.boolean_value(lit))
        start = solver.value(o.start)
        hosts = tuple(pid for pid, lit in o.moderators.items() if solver.boolean_value(lit))
        out.append(
            Assignment(o.session.id, o.number, room, start, start + o.session.duration, hosts)
        )
    out.sort(key=lambda a: (a.start, a.room, a.session, a.occurrence))
    return out


def _hint_solution(model: ProgrammeModel, solver: cp_model.CpSolver) -> None:
    """Start the next search from the solution just found."""
    model.m.clear_hints()  # type: ignore[no-untyped-call]
    for o in model.occurrences:
        model.m.add_hint(o.start, solver.value(o.start))
        if o.present is not True:
            model.m.add_hint(o.present, solver.boolean_value(o.present))
        for lit in [*o.rooms.values(), *o.moderators.values()]:
            model.m.add_hint(lit, solver.boolean_value(lit))


def why_left_out(
    problem: SchedulingProblem,
    assignments: Sequence[Assignment],
    left_out: Sequence[SessionSpec],
    params: SolveParameters,
    budget: float,
) -> list[tuple[str, str, tuple[str, ...]]]:
    """Why each proposal left out was: "left out" with the rules it would break if it
    were added to the schedule found (every other session kept where it is; moderators
    may change), "worth less" when it would fit but is not worth what it costs, "not
    selected" when there was no time to look."""
    if not left_out:
        return []
    if budget < 0.5:  # no time left to look: say only that they were not chosen
        return [(s.id, "not selected", ()) for s in left_out]
    deadline = time.perf_counter() + budget
    hosts = {(a.session, a.occurrence): a.moderators for a in assignments}
    model = ProgrammeModel(problem, explain=True, prune=True, hint_moderators=hosts)
    placed = {(a.session, a.occurrence): a for a in assignments}
    out_lit: dict[str, Any] = {}
    for o in model.occurrences:
        a = placed.get((o.session.id, o.number))
        if a is None:
            if o.session.id not in out_lit:
                out_lit[o.session.id] = model.m.new_bool_var(f"left_out[{o.session.id}]")
            if o.present is not True:
                model.m.add(o.present == 0).only_enforce_if(out_lit[o.session.id])
            continue
        model.m.add(o.start == a.start)
        for room_id, lit in o.rooms.items():
            model.m.add(lit == (room_id == a.room))
        for pid, lit in o.moderators.items():  # moderators may change: they cost nothing
            model.m.add_hint(lit, pid in a.moderators)
    by_index = {lit.index: key for key, lit in model.guards.items()}
    reasons: list[tuple[str, str, tuple[str, ...]]] = []
    for s in left_out:
        left = deadline - time.perf_counter()
        present = model.by_session[s.id][0].present
        if left <= 0 or present is True:
            reasons.append((s.id, "not selected", ()))
            continue
        keep = [*model.guards.values(), present,
                *(lit for sid, lit in out_lit.items() if sid != s.id)]  # fmt: skip
        model.m.clear_assumptions()
        model.m.add_assumptions(keep)
        solver = cp_model.CpSolver()
        _configure(solver, attrs.evolve(params, workers=1), left)
        status = solver.solve(model.m)
        if status != cp_model.INFEASIBLE:
            reasons.append((s.id, "worth less", ()))
            continue
        rules = sorted({by_index[i] for i in solver.sufficient_assumptions_for_infeasibility()
                        if i in by_index})  # fmt: skip
        reasons.append((s.id, "left out", tuple(dict.fromkeys(r for r, _ in rules))))
    return reasons


def _infeasible_with(
    model: ProgrammeModel, keep: Iterable[Any], params: SolveParameters, time_limit: float
) -> tuple[bool, list[int]]:
    """Whether the model is infeasible with only ``keep`` guards on; and a core."""
    model.m.clear_assumptions()
    kept = list(keep)
    model.m.add_assumptions(kept)
    solver = cp_model.CpSolver()
    _configure(solver, attrs.evolve(params, workers=1), time_limit)
    status = solver.solve(model.m)
    if status == cp_model.INFEASIBLE:
        return True, list(solver.sufficient_assumptions_for_infeasibility())
    return False, []


def _lifted(rule: str, subject: str, relaxed: set[tuple[str, str]]) -> bool:
    """Whether a guard is among the rules named: exactly, by ``*`` for every subject, or
    (for ``after``) by the later session for each of its predecessors."""
    return (
        (rule, subject) in relaxed
        or (rule, "*") in relaxed
        or any(rule == r and subject.startswith(s + ">") for r, s in relaxed)
    )


def _keep(model: ProgrammeModel, relaxed: set[tuple[str, str]]) -> list[Any]:
    return [lit for (rule, subject), lit in model.guards.items()
            if not _lifted(rule, subject, relaxed)]  # fmt: skip


Key = tuple[str, str]  # a rule and its subject


def shrink(keys: list[Key], conflicts_still: Callable[[list[Key]], list[Key] | None]) -> list[Key]:
    """A core of ``keys`` none of which can be left out: ``conflicts_still(trial)`` tells
    whether the rules ``trial`` alone still conflict (and then a core among them, perhaps
    smaller), or None. Halves are dropped first, then quarters, down to single rules (a
    deletion that tries one rule at a time needs a check per rule; a core of one among 14
    takes one or two checks this way). Each rule a one-rule deletion keeps is needed:
    lifting rules never makes an edition harder."""
    chunk = max(1, len(keys) // 2)
    while True:
        at = 0
        while at < len(keys) and len(keys) > 1:
            trial = keys[:at] + keys[at + chunk :]
            smaller = conflicts_still(trial) if trial else None
            if smaller is None:
                at += chunk  # something in keys[at:at + chunk] is needed
            else:
                # Rules before ``at`` the smaller core keeps were needed already.
                kept = set(smaller)
                at = sum(1 for k in keys[:at] if k in kept)
                keys = [k for k in keys if k in kept]
        if chunk == 1:
            return keys
        chunk = max(1, chunk // 2)


def explain(
    problem: SchedulingProblem,
    params: SolveParameters,
    time_limit: float,
    known: Sequence[Conflict] = (),
    start: tuple[Placed, dict[tuple[str, int], tuple[str, ...]]] | None = None,
) -> list[Conflict]:
    """The rules found to conflict, computed on a model without objective: every rule
    group behind an assumption literal. Each core found is shrunk (``shrink``) until no
    rule of it can be left out; cores are gathered until lifting every rule named makes
    the edition solvable, so that the explanation accounts for all that stands in the
    way. ``known`` are conflicts already found (by the diagnostics); ``start``, the
    construction when the solve already made it."""
    deadline = time.perf_counter() + time_limit
    # The model as the solve has it: rooms that cannot host a session and moderators who
    # are never free get no variable (a seventh of the constraints on a national edition,
    # and each check below 0.4 s instead of 2-3 s); with every rule on it is the same
    # problem, and a rule found is lifted where the pruning keeps what the rule says.
    # Started from the construction: the checks that lift a rule and find the rest
    # solvable end on a programme, and a programme near at hand is found sooner.
    hint, hosts = start if start is not None else first_fit(problem)
    model = ProgrammeModel(problem, explain=True, prune=True, hint=hint, hint_moderators=hosts)
    model.hints()
    by_index = {lit.index: key for key, lit in model.guards.items()}
    found = list(known)
    for _ in range(20):
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        relaxed = {(c.rule, c.subject) for c in found}
        infeasible, core = _infeasible_with(model, _keep(model, relaxed), params, left)
        if not infeasible:
            return found
        keys = [by_index[i] for i in core if i in by_index]
        if not keys:
            break

        def conflicts_still(trial: list[Key]) -> list[Key] | None:
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            still, smaller = _infeasible_with(model, [model.guards[k] for k in trial], params,
                                              left)  # fmt: skip
            return ([by_index[i] for i in smaller if i in by_index] or trial) if still else None

        keys = shrink(keys, conflicts_still)
        found += [conflict(problem, rule, subject) for rule, subject in keys]
    return [*found, Conflict("unexplained", "*", "unexplained")]


def relaxed_is_feasible(
    problem: SchedulingProblem, relaxed: Iterable[tuple[str, str]], time_limit: float = 10.0
) -> bool:
    """Whether the edition becomes solvable once the named rules are lifted (for checks
    of explanations). A subject of ``*`` lifts the rule everywhere."""
    model = ProgrammeModel(problem, explain=True)
    infeasible, _ = _infeasible_with(model, _keep(model, set(relaxed)), SolveParameters(),
                                     time_limit)  # fmt: skip
    return not infeasible


# -- what a conflict bears on, as data the adapters word -------------------------------


def _clock(moment: int) -> str:
    m = moment % DAY_MINUTES
    return f"{m // 60:02d}:{m % 60:02d}"


def spans_data(problem: SchedulingProblem, spans: Iterable[Span]) -> list[tuple[str, str, str]]:
    """Spans on the axis as (day, start, end) in the edition's terms."""
    return [(problem.days[a // DAY_MINUTES].day.isoformat(), _clock(a), _clock(b))
            for a, b in spans]  # fmt: skip


def conflict(problem: SchedulingProblem, rule: str, subject: str) -> Conflict:
    """One rule about one subject, with the code and data of its sentence."""
    code, params = describe(problem, rule, subject)
    return Conflict(rule, subject, code, params)


def describe(problem: SchedulingProblem, rule: str, subject: str) -> tuple[str, dict[str, Any]]:
    """The code and data of a committee's sentence for one rule about one subject."""
    sessions = {s.id: s for s in problem.sessions}
    rooms = {r.id: r for r in problem.rooms}
    people = {p.id: p for p in problem.people}
    s = sessions.get(subject)
    if rule == "open_hours" and s:
        return "open_hours", {"title": s.title, "duration": s.duration}
    if rule == "occurrences" and s:
        return "occurrences", {"title": s.title, "occurrences": s.occurrences,
                               "duration": s.duration}  # fmt: skip
    if rule == "windows" and s:
        return "windows", {"title": s.title, "spans": spans_data(problem, s.windows or ())}
    if rule == "fixed" and s:
        day = problem.days[s.fixed_day].day.isoformat() if s.fixed_day is not None else None
        start = _clock(s.fixed_start) if s.fixed_start is not None else None
        return "fixed", {"title": s.title, "where": (day, start, s.fixed_room)}
    if rule == "room_fit" and s:
        fits = [r.name for r in problem.rooms
                if s.requires <= r.features and (s.rooms is None or r.id in s.rooms)
                and r.capacity + r.reserve >= s.need]  # fmt: skip
        needs = (tuple(sorted(s.requires)), s.need)
        if not fits:
            return "room_fit_none", {"title": s.title, "needs": needs}
        return "room_fit_only", {"title": s.title, "needs": needs, "rooms": tuple(fits)}
    if rule == "room_availability" and subject in rooms:
        r = rooms[subject]
        return "room_availability", {"room": r.name, "spans": spans_data(problem, r.availability)}
    if rule == "room_overlap" and subject in rooms:
        r = rooms[subject]
        if r.concurrent > 1:
            return "room_overlap_many", {"room": r.name, "concurrent": r.concurrent}
        if r.changeover:
            return "room_overlap_changeover", {"room": r.name, "changeover": r.changeover}
        return "room_overlap", {"room": r.name}
    if rule == "room_seats" and subject in rooms:
        r = rooms[subject]
        return "room_seats", {"room": r.name, "seats": r.capacity + r.reserve}
    if rule in ("person_availability", "person_overlap", "max_per_day") and subject in people:
        p = people[subject]
        if rule == "person_availability":
            when: Any = "always" if p.available is None else spans_data(problem, p.available)
            if p.unavailable:
                return "person_availability_except", {
                    "name": p.name,
                    "when": when,
                    "off": spans_data(problem, p.unavailable),
                }
            return "person_availability", {"name": p.name, "when": when}
        if rule == "person_overlap":
            titles = tuple(x.title for x in problem.sessions if subject in x.people)
            if problem.speaker_gap:
                return "person_overlap_gap", {"name": p.name, "titles": titles,
                                              "gap": problem.speaker_gap}  # fmt: skip
            return "person_overlap", {"name": p.name, "titles": titles}
        return "max_per_day", {"name": p.name, "maximum": p.max_per_day}
    if rule == "exclusive" and s:
        return "exclusive", {"title": s.title, "audiences": tuple(sorted(s.audiences))}
    if rule == "after":
        later, _, earlier = subject.partition(">")
        b, a = sessions.get(later), sessions.get(earlier)
        if a and b:
            gap = next((g for o, g, _ in b.after if o == earlier), 0)
            same = any(on_day for o, _, on_day in b.after if o == earlier)
            return ("after_same_day" if same else "after"), {
                "later": b.title,
                "earlier": a.title,
                "gap": gap,
            }
    if rule == "no_all_male_panels" and s:
        return "no_all_male_panels", {"title": s.title}
    if rule == "parity_share":
        return "parity_share", {"share": problem.parity.women_min_share / 1000}
    if rule == "moderator" and s:
        return "moderator", {"title": s.title}
    if rule == "tracks":
        for t in problem.tracks:
            if t.audience == subject and t.min_parallel:
                return "tracks_min", {"count": t.min_parallel, "audience": subject,
                                      "spans": spans_data(problem, t.spans)}  # fmt: skip
            if t.audience == subject and t.max_parallel is not None:
                return "tracks_max", {"count": t.max_parallel, "audience": subject,
                                      "spans": spans_data(problem, t.spans)}  # fmt: skip
    if rule == "not_parallel":
        one, _, two = subject.partition("|")
        if one in sessions and two in sessions:
            return "not_parallel", {"one": sessions[one].title, "two": sessions[two].title}
    if rule == "attendee_gap":
        return "attendee_gap", {"minutes": problem.attendee_gap}
    return "", {}
