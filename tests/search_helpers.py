"""What the tests of the neighbourhood search share: a first programme of a model, and
the whole model's verdict on a programme."""

from __future__ import annotations

from ortools.sat.python import cp_model

from creneau.scheduler import SchedulingProblem
from creneau.solver._construct import first_fit
from creneau.solver._lns import Incumbent, fix
from creneau.solver._model import ProgrammeModel


def first_programme(
    problem: SchedulingProblem, workers: int = 1
) -> tuple[ProgrammeModel, Incumbent]:
    """The model of ``problem`` built from the construction, and CP-SAT's first programme."""
    hint, hosts = first_fit(problem)
    model = ProgrammeModel(problem, hint=hint, hint_moderators=hosts)
    model.objective()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 30
    solver.parameters.num_workers = workers
    solver.parameters.stop_after_first_solution = True
    assert solver.solve(model.m) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return model, Incumbent(list(solver.response_proto.solution), solver.objective_value, 0.0)


def whole_objective(model: cp_model.CpModel, values: list[int]) -> float | None:
    """The whole model's objective at ``values``, or None if they break a constraint."""
    copy = model.clone()
    fix(copy, enumerate(values))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 30
    if solver.solve(copy) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return solver.objective_value
