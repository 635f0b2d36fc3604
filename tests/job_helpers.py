"""Solvers for the jobs' tests, importable (and picklable) by a solve's child process."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from creneau.scheduler import Progress, SchedulingProblem, SolveParameters, SolveResult

GATES: dict[str, threading.Event] = {}  # gates of the solves held in this process


class _AroundCpSat:
    """CP-SAT, with something done before and after it."""

    def solve(
        self,
        problem: SchedulingProblem,
        params: SolveParameters,
        progress: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
    ) -> SolveResult:
        from creneau.solver import CpSatSolver

        self.before()
        result = CpSatSolver().solve(problem, params, progress, stop)
        self.after()
        return result

    def before(self) -> None:
        pass

    def after(self) -> None:
        pass


class GatedSolver(_AroundCpSat):
    """Held after its search until the test opens ``GATES[gate]``: the solve is surely
    still running while the test appends events beside it."""

    def __init__(self, gate: str) -> None:
        self.gate = gate

    def after(self) -> None:
        assert GATES[self.gate].wait(30), "the test never opened the gate"


class PidFileSolver(_AroundCpSat):
    """Leaves the id of the process it ran in in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def before(self) -> None:
        self.path.write_text(str(os.getpid()))


class FailingSolver:
    """A solver that breaks down."""

    def solve(self, *_: Any, **__: Any) -> SolveResult:
        raise RuntimeError("the solver broke down")
