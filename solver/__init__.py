"""The CP-SAT programme solver: from a solver-neutral ``Problem`` to a ``SolveResult``.

It never reads files or the store; ``scheduler`` derives the problem from an edition.
"""

from creneau.solver._diagnostics import diagnose
from creneau.solver._model import ProgrammeModel
from creneau.solver._solve import CpSatSolver, describe, relaxed_is_feasible

__all__ = [
    "CpSatSolver",
    "ProgrammeModel",
    "describe",
    "diagnose",
    "relaxed_is_feasible",
]
