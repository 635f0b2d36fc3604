"""The model of a neighbourhood (``solver/_part.py``) holds only what its freed runs
touch; what it finds, put back into the whole programme, is a programme of the whole
model with the objective the part reported — whichever runs are freed, their rooms alone
or not, among a few rooms or all."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from benchmarks.national import generate
from creneau.scheduler import derive_problem
from creneau.solver._lns import Incumbent, NeighbourhoodSearch, fix
from creneau.solver._part import Part
from tests.search_helpers import first_programme, whole_objective


@pytest.fixture(scope="module")
def search() -> Iterator[NeighbourhoodSearch]:
    """The national edition with registrations, parity, tracks, moderators and
    proposals (every kind of constraint the model makes), from its first programme."""
    model, start = first_programme(derive_problem(generate(1.0, full=True)), workers=2)
    yield NeighbourhoodSearch(
        model, start, seed=1, workers=1, run=lambda s, m: s.solve(m), stopped=lambda: False,
        better=lambda _: None, started=0.0,
    )  # fmt: skip


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    seed=st.integers(0, 2**16),
    size=st.integers(1, 40),
    kind=st.sampled_from(["window", "people", "conflicts", "random", "seats"]),
    choices=st.sampled_from([None, 1, 8]),
)
def test_a_parts_solution_is_a_programme_of_the_whole_model_with_its_objective(
    search: NeighbourhoodSearch, seed: int, size: int, kind: str, choices: int | None
) -> None:
    rng = random.Random(seed)
    values, objective = search.best.values, search.best.objective
    search.kinds[kind].size = size
    free = search._neighbourhood(kind, values, rng)

    def among(r: int) -> list[int]:  # a few of its rooms, and the one it is in
        assert choices is not None
        return search.suited[r][:choices] + [v for _, v in search.runs[r].rooms if values[v]]

    rooms = among if choices is not None else None
    part = search.structure.part(free, values, objective, rooms_only=kind == "seats",
                                 rooms=rooms)  # fmt: skip
    # Far fewer variables than the whole model, the freed runs' decisions among them.
    assert part.free < len(values) / 2
    held = set(part.variables[: part.free])
    for r in free:
        run = search.runs[r]
        assert kind == "seats" or run.start in held
        assert any(i in held for _, i in run.rooms)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    # Work, not seconds: a loaded machine gives the same answer (the hint is found when
    # the part is loaded; a wall-clock limit once ran out before that under load).
    solver.parameters.max_deterministic_time = 1.0
    solver.parameters.max_time_in_seconds = 120
    solver.parameters.random_seed = seed
    status = solver.solve(part.model)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE)  # the hint is a solution
    assert solver.objective_value <= objective + 1e-6
    found = part.solution(solver.response_proto.solution, values)
    assert whole_objective(search.model.m, found) == pytest.approx(solver.objective_value)


def test_a_part_hinted_with_the_programme_has_the_programmes_objective(
    search: NeighbourhoodSearch,
) -> None:
    values, objective = search.best.values, search.best.objective
    part = search.structure.part(search.movable[:10], values, objective)
    copy = part.model.clone()
    fix(copy, [(k, values[v]) for k, v in enumerate(part.variables)])
    solver = cp_model.CpSolver()
    assert solver.solve(copy) == cp_model.OPTIMAL
    assert solver.objective_value == pytest.approx(objective)


def test_a_fixed_runs_variables_stay_out_of_a_part(search: NeighbourhoodSearch) -> None:
    """A track's moments name every session for its audience: the part holds the
    freed runs' and fixes the others', rather than pulling every run in."""
    values, objective = search.best.values, search.best.objective
    freed = search.movable[:3]
    part = search.structure.part(freed, values, objective)
    held = set(part.variables[: part.free])
    owner = search.structure.owner
    assert all(owner[v] < 0 or owner[v] in freed for v in held)
    # (Every run's variables pulled in would be 7,000 of them, 9,500 constraints.)
    assert part.free < 0.1 * len(values)
    assert len(part.model.proto.constraints) < len(search.model.m.proto.constraints) / 10


def _solved(search: NeighbourhoodSearch, free: set[int], values: list[int], objective: float,
            seed: int, kind: str) -> tuple[Part, list[int], float]:  # fmt: skip
    part = search.structure.part(free, values, objective, rooms_only=kind == "seats")
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 1.0
    solver.parameters.max_time_in_seconds = 120
    solver.parameters.random_seed = seed
    assert solver.solve(part.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return part, list(solver.response_proto.solution), solver.objective_value


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    seed=st.integers(0, 2**16),
    size=st.integers(2, 20),
    kinds=st.tuples(*[st.sampled_from(["window", "people", "random", "seats"])] * 2),
)
def test_a_parts_runs_put_on_another_parts_move_are_what_the_whole_model_says(
    search: NeighbourhoodSearch, seed: int, size: int, kinds: tuple[str, str]
) -> None:
    """Two threads: each solves a part of the same programme; the first's is taken; the
    second's runs are put on top of it when every rule the part read still holds, with
    the objective the whole model gives that programme."""
    rng = random.Random(seed)
    values, objective = search.best.values, search.best.objective
    search.kinds[kinds[0]].size = search.kinds[kinds[1]].size = size
    first = search._neighbourhood(kinds[0], values, rng)
    second = search._neighbourhood(kinds[1], values, rng) - first
    a, found_a, objective_a = _solved(search, first, values, objective, seed, kinds[0])
    b, found_b, _ = _solved(search, second, values, objective, seed + 1, kinds[1])
    moved = a.solution(found_a, values)
    search.settle(moved, first)
    assert whole_objective(search.model.m, moved) == pytest.approx(objective_a)
    rebased = search._rebased(b, found_b, search.best, Incumbent(moved, objective_a, 0.0),
                              second)  # fmt: skip
    if rebased is None:
        # A rule the second part read does not hold over the first's move.
        both = b.solution(found_b, moved)
        search.settle(both, second)
        assert whole_objective(search.model.m, both) is None
        return
    both, told = rebased
    assert whole_objective(search.model.m, both) == pytest.approx(told)
