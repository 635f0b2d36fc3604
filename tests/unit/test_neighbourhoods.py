"""The neighbourhood search and the bounds that cost no search: every programme it
returns keeps the hard rules (checked by the independent validator), it never returns a
programme worse than the one it started from, a neighbourhood that frees every run ends
the search with a proof, and no bound exceeds an objective that was reached."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from benchmarks.national import generate
from creneau.scheduler import (
    Day,
    EditionSnapshot,
    Progress,
    Room,
    SolveParameters,
    check_schedule,
    derive_problem,
    schedule_document,
    validate_snapshot,
)
from creneau.solver import CpSatSolver
from creneau.solver._bounds import cheap_bounds
from creneau.solver._lns import Incumbent, NeighbourhoodSearch, Reading
from tests.search_helpers import first_programme, whole_objective
from tests.solver_editions import D1, edition, session
from tests.unit.test_solver_property import editions


def test_the_search_improves_a_national_edition_and_keeps_every_rule() -> None:
    ed = generate(1.0, full=True)
    problem = derive_problem(ed)
    params = SolveParameters(time_limit=12, workers=2, seed=4, search="neighbourhoods")
    told: list[Progress] = []
    result = CpSatSolver().solve(problem, params, told.append)
    assert result.status == "feasible" and result.first_solution_time is not None
    document = schedule_document(problem, result, params)
    assert check_schedule(ed, document.assignments) == []
    objectives = [p.objective for p in told]
    assert len(objectives) > 2  # a first programme, then better ones
    assert all(b < a for a, b in itertools.pairwise(objectives))
    assert result.objective is not None and result.objective < objectives[0]
    # The progress told carries each programme, and every one keeps the rules.
    for p in (told[0], told[len(told) // 2]):
        assert p.assignments
        placements = schedule_document(
            problem, type(result)(status="feasible", assignments=p.assignments), params
        ).assignments
        assert check_schedule(ed, placements) == []
    assert result.bound is not None and result.bound <= result.objective


def test_a_neighbourhood_search_never_returns_worse_and_its_values_are_a_solution() -> None:
    model, start = first_programme(derive_problem(generate(1.0)))
    better: list[Incumbent] = []
    lns = NeighbourhoodSearch(
        model, start, seed=2, workers=2, run=lambda s, m: s.solve(m), stopped=lambda: False,
        better=better.append, started=time.perf_counter(),
    )  # fmt: skip
    best = lns.search(time.perf_counter() + 4)
    assert best.objective <= start.objective
    assert [b.objective for b in better] == sorted((b.objective for b in better), reverse=True)
    assert lns.calls > 0
    assert whole_objective(model.m, best.values) is not None  # every constraint kept
    # Read back like a solver: every mandatory run in exactly one room.
    reading = Reading(best.values)
    for o in model.occurrences:
        assert sum(reading.boolean_value(lit) for lit in o.rooms.values()) == 1


def test_under_way_literals_are_set_wherever_their_run_is_and_the_programme_stays_one() -> None:
    # The national edition has audience tracks with a floor: a literal per run and moment.
    model, start = first_programme(derive_problem(generate(1.0, full=True)))
    assert model.under_way
    before = list(start.values)
    lns = NeighbourhoodSearch(
        model, start, seed=1, workers=1, run=lambda s, m: s.solve(m), stopped=lambda: True,
        better=lambda b: None, started=time.perf_counter(),
    )  # fmt: skip
    values = lns.best.values
    reading = Reading(values)
    for o, lit, moment in model.under_way:
        there = o.present is True or reading.boolean_value(o.present)
        under_way = reading.value(o.start) <= moment < reading.value(o.start) + o.session.duration
        assert reading.boolean_value(lit) == (there and under_way)
    changed = sum(a != b for a, b in zip(before, values, strict=True))
    assert changed > 0  # CP-SAT's first programme left some false where they could be true
    assert whole_objective(model.m, values) == start.objective


def test_a_small_edition_forced_through_neighbourhoods_ends_proven() -> None:
    ed = edition(
        sessions=[session(f"s{i}", 60, themes=("t",)) for i in range(4)],
        rooms=[Room(id="r1", capacity=50), Room(id="r2", capacity=50)],
        days=[Day(day=D1, open="09:00", close="11:00")],
        themes=("t",),
    )
    problem = derive_problem(ed)
    params = SolveParameters(time_limit=30, workers=1, seed=1, search="neighbourhoods")
    started = time.perf_counter()
    result = CpSatSolver().solve(problem, params)
    assert result.status == "optimal" and result.objective == result.bound
    # Two rooms and two hours for four sessions of one theme: two pairs must overlap (and
    # the two sessions of the second hour finish late).
    w = problem.weights
    assert cheap_bounds(problem)["themes"] == 2 * w["same_theme_parallel"]
    assert result.objective == 2 * w["same_theme_parallel"] + 2 * w["late_finish"]
    assert time.perf_counter() - started < params.time_limit  # it stopped on its proof
    document = schedule_document(problem, result, params)
    assert check_schedule(ed, document.assignments) == []


def test_stopping_the_neighbourhood_search_keeps_the_best_programme() -> None:
    ed = generate(1.0, full=True)
    problem = derive_problem(ed)
    stop = threading.Event()
    first = threading.Event()

    def told(p: Progress) -> None:
        first.set()

    params = SolveParameters(time_limit=120, workers=2, seed=1, search="neighbourhoods")
    out = []
    worker = threading.Thread(target=lambda: out.append(
        CpSatSolver().solve(problem, params, told, stop)))  # fmt: skip
    worker.start()
    assert first.wait(60)
    stop.set()
    worker.join(60)
    assert not worker.is_alive()  # the threads of the search heard the stop
    result = out[0]
    assert result.interrupted and result.status == "feasible"
    document = schedule_document(problem, result, params)
    assert check_schedule(ed, document.assignments) == []


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_the_theme_bound_counts_what_the_calendar_forces(scale: float) -> None:
    problem = derive_problem(generate(scale))
    bounds = cheap_bounds(problem)
    assert bounds["rooms"] > 0
    if scale == 1.0:  # every pair of a theme is kept at this size: the bound applies
        assert bounds["themes"] > 0


def test_the_bounds_are_exact_where_the_calendar_leaves_no_choice() -> None:
    # One hour, three rooms, three one-hour sessions of a theme: all three pairs overlap;
    # rooms of 100 for 45 people: 5 tens of empty seats each.
    ed = edition(
        sessions=[session(f"s{i}", 60, themes=("t",), attendance=45) for i in range(3)],
        rooms=[Room(id=f"r{i}", capacity=100) for i in range(3)],
        days=[Day(day=D1, open="09:00", close="10:00")],
        themes=("t",),
    )
    problem = derive_problem(ed)
    w = problem.weights
    assert cheap_bounds(problem) == {"rooms": 3 * 5 * w["oversized_room"],
                                     "themes": 3 * w["same_theme_parallel"]}  # fmt: skip
    result = CpSatSolver().solve(problem, SolveParameters(time_limit=10, workers=1))
    # (All three end in the day's last hour: late finishes, which the bounds leave out.)
    assert result.status == "optimal"
    assert result.objective == sum(cheap_bounds(problem).values()) + 3 * w["late_finish"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ed=editions(), seed=st.integers(0, 2**16))
def test_every_schedule_of_the_neighbourhood_search_passes_and_no_bound_exceeds_it(
    ed: EditionSnapshot, seed: int
) -> None:
    assume(validate_snapshot(ed) == [])
    problem = derive_problem(ed)
    params = SolveParameters(time_limit=4, workers=2, seed=seed, search="neighbourhoods",
                             explain=False)  # fmt: skip
    result = CpSatSolver().solve(problem, params)
    assert sum(cheap_bounds(problem).values()) <= (
        result.objective if result.objective is not None else float("inf")
    )
    if result.status in ("optimal", "feasible"):
        document = schedule_document(problem, result, params)
        assert check_schedule(ed, document.assignments) == []
        assert result.bound is not None and result.objective is not None
        assert result.bound <= result.objective + 1e-6
