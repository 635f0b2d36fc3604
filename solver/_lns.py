"""A large-neighbourhood search of our own around CP-SAT.

The model is built once. A neighbourhood frees the runs of some sessions and fixes every
other run where the current programme has it, by narrowing the domains of its decisions
(start, room, moderators, presence) in a copy of the model that each search thread owns;
CP-SAT re-solves that part starting from the current programme (a complete hint, so it
never returns worse), and a better programme replaces the current one. Nothing is built
again between two neighbourhoods: only domains and the hint change.

Neighbourhoods, each sized by what it achieved so far (a part solved to its optimum grows
the next one of its kind, a part not finished in time shrinks it):

- ``window``: runs that start close together in time (they can trade times and rooms);
- ``rooms``: every run in a few rooms of the same venue and size;
- ``conflicts``: a pair of overlapping sessions that attendees chose together or that
  share a theme, with the runs beside them in time and their partners;
- ``people``: a person's sessions with the runs beside them in time;
- ``random``: runs drawn at random, proposals left out among them.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import structlog
from ortools.sat.python import cp_model

from creneau.solver._model import Occurrence, ProgrammeModel, pair_weights

__all__ = ["Incumbent", "NeighbourhoodSearch", "Reading", "decisions_fixed", "fix", "hint_all"]

log = structlog.get_logger()

KINDS = ("window", "rooms", "conflicts", "people", "random")
# Seconds CP-SAT is given for one neighbourhood. Measured on the national edition with
# registrations (60 s, seeds 1-3): 0.5 s gave 5,630 / 5,691 / 5,652, 1 s 5,817 / 5,691 /
# 5,929 (with 30 % of the time for the whole model at the end, against 15 %).
SUB_LIMIT = 0.5
# A part is solved on the whole model with most of it fixed, and CP-SAT presolves all of
# it first: on the national edition (24,500 constraints) its search starts after 0.13 s,
# on five times that (124,600) after 0.97 s — a 0.5 s part never searched, and the search
# made almost no progress. Beyond LARGE constraints a part gets SUB_LIMIT per PART_SCALE
# constraints, and a lighter presolve (one pass, no symmetry detection: the fixed runs
# leave it little to find; the search then starts after 0.44 s). Measured on ×5, seed 1,
# 120 s, one run after the other: 9,051 before; parts of 1.0 s 7,039, 1.5 s 6,875 and
# 7,032, 2.5 s 7,457 and 7,565, 4 s 7,790; as committed (1.56 s) 7,579 — runs vary by
# several per cent, every one well below 9,051.
# Smaller models are solved as before.
LARGE = 50_000
PART_SCALE = 40_000


class Reading:
    """A complete solution (one value per model variable, by index) read the way a
    solver is (``value``, ``boolean_value``)."""

    def __init__(self, values: Sequence[int]) -> None:
        self.values = values

    def value(self, var: Any) -> int:
        return int(self.values[var.index])

    def boolean_value(self, lit: Any) -> bool:
        if lit is True or lit is False:
            return bool(lit)
        i = lit.index
        return bool(self.values[i]) if i >= 0 else not self.values[-i - 1]


@attrs.define
class Incumbent:
    """The best programme so far: every variable's value, and its objective."""

    values: list[int]
    objective: float
    found_at: float


@attrs.frozen
class _Run:
    """The decision variables of one occurrence, by index in the model."""

    occurrence: Occurrence
    start: int
    rooms: tuple[tuple[str, int], ...]
    moderators: tuple[int, ...]
    present: int | None  # None: always present
    movable: bool  # False: pinned to one start and one room, nothing to choose


def _runs(model: ProgrammeModel) -> list[_Run]:
    out = []
    for o in model.occurrences:
        s = o.session
        pinned = (
            s.fixed_start is not None and s.fixed_day is not None and o.number == 1
            and s.fixed_room is not None and not o.moderators and o.present is True
        )  # fmt: skip
        out.append(_Run(
            occurrence=o, start=o.start.index,
            rooms=tuple((r, lit.index) for r, lit in o.rooms.items()),
            moderators=tuple(lit.index for lit in o.moderators.values()),
            present=None if o.present is True else o.present.index,
            movable=not pinned,
        ))  # fmt: skip
    return out


def decisions_fixed(run: _Run, values: Sequence[int]) -> list[tuple[int, int]]:
    """(variable, value) pairs that keep ``run`` as ``values`` has it. The chosen room
    and moderators are set to 1; the others follow (exactly one of each is chosen)."""
    fixed = [(run.start, values[run.start])]
    if run.present is not None:
        fixed.append((run.present, values[run.present]))
        if not values[run.present]:
            return fixed
    fixed += [(i, 1) for _, i in run.rooms if values[i]]
    fixed += [(i, 1) for i in run.moderators if values[i]]
    return fixed


def fix(model: cp_model.CpModel, values: Iterable[tuple[int, int]]) -> None:
    """Narrow each (variable, value)'s domain to that value, in place."""
    variables = model.proto.variables
    for i, v in values:
        d = variables[i].domain
        d.clear()
        d.extend((v, v))


def hint_all(model: cp_model.CpModel, values: Sequence[int]) -> None:
    """Hint every variable of ``model`` with ``values`` (a complete solution, by index)."""
    h = model.proto.solution_hint
    # A hint of every variable is in index order; any other (a construction's, partial) is
    # replaced.
    if len(h.vars) != len(values):
        model.clear_hints()  # type: ignore[no-untyped-call]
        h.vars.extend(range(len(values)))
    h.values.clear()
    h.values.extend(values)


class _Copy:
    """One search thread's copy of the model, whose domains it narrows in place."""

    def __init__(self, model: cp_model.CpModel, runs: Sequence[_Run]) -> None:
        self.m = model.clone()
        self.proto = self.m.proto
        self.original: dict[int, list[int]] = {}
        for r in runs:
            for i in (r.start, *(i for _, i in r.rooms), *r.moderators,
                      *(() if r.present is None else (r.present,))):  # fmt: skip
                self.original[i] = list(self.proto.variables[i].domain)
        self.fixed: list[int] = []

    def narrow(self, fixed: Sequence[tuple[int, int]]) -> None:
        variables = self.proto.variables
        for i in self.fixed:
            d = variables[i].domain
            d.clear()
            d.extend(self.original[i])
        fix(self.m, fixed)
        self.fixed = [i for i, _ in fixed]


@attrs.define
class _Kind:
    size: float
    tried: int = 0
    improved: int = 0
    gained: float = 0.0


class NeighbourhoodSearch:
    """Improves ``incumbent`` until ``deadline`` with ``workers`` threads, each solving
    one neighbourhood at a time with one CP-SAT worker."""

    def __init__(
        self,
        model: ProgrammeModel,
        incumbent: Incumbent,
        *,
        seed: int,
        workers: int,
        run: Callable[[cp_model.CpSolver, cp_model.CpModel], Any],
        stopped: Callable[[], bool],
        better: Callable[[Incumbent], None],
        started: float,
    ) -> None:
        self.model = model
        self.best = incumbent
        self.seed = seed
        self.workers = max(1, workers)
        size = len(model.m.proto.constraints)
        self.large = size > LARGE
        self.sub_limit = SUB_LIMIT * size / PART_SCALE if self.large else SUB_LIMIT
        self._run = run
        self._stopped = stopped
        self._better = better
        self._started = started
        self.runs = _runs(model)
        self.movable = [i for i, r in enumerate(self.runs) if r.movable]
        self._lock = threading.Lock()
        n = max(1, len(self.movable))
        self.kinds = {k: _Kind(size=max(4.0, 0.08 * n)) for k in KINDS}
        self.calls = 0
        # Set when a neighbourhood that freed every run was solved to its optimum: that is
        # the whole problem, so the programme is proven optimal and the search ends.
        self.proven = False
        # Who is linked to whom: pairs kept apart (chosen together, a shared theme), and
        # sessions that share a person.
        by_session: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(self.runs):
            by_session[r.occurrence.session.id].append(i)
        self.by_session = by_session
        self.pairs = [(a, b, w) for (a, b), w in pair_weights(model.p).items()
                      if a in by_session and b in by_session]  # fmt: skip
        self.partners: dict[str, list[str]] = defaultdict(list)
        for a, b, _ in self.pairs:
            self.partners[a].append(b)
            self.partners[b].append(a)
        self.of_person: dict[str, list[int]] = defaultdict(list)
        for pid, apps in model.appearances.items():
            for o, _ in apps:
                self.of_person[pid].extend(by_session[o.session.id])
        self.people = sorted(p for p, runs in self.of_person.items() if len(runs) > 1)
        self.rooms_in_order = sorted(
            model.p.rooms, key=lambda r: (r.venue, -(r.capacity + r.reserve), r.id)
        )

    # -- the loop ------------------------------------------------------------------------

    def search(self, deadline: float) -> Incumbent:
        threads = [
            threading.Thread(target=self._loop, args=(k, deadline), daemon=True, name=f"lns-{k}")
            for k in range(self.workers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log.info(
            "neighbourhoods",
            calls=self.calls,
            objective=self.best.objective,
            kinds={k: (v.tried, v.improved, round(v.size)) for k, v in self.kinds.items()},
        )
        return self.best

    def _loop(self, worker: int, deadline: float) -> None:
        rng = random.Random(self.seed * 7919 + worker)
        copy = _Copy(self.model.m, self.runs)
        while not self._stopped() and not self.proven:
            left = deadline - time.perf_counter()
            if left < 0.05 or not self.movable:
                return
            with self._lock:
                best = self.best
            kind = self._choose(rng)
            free = self._neighbourhood(kind, best.values, rng)
            if not free:
                continue
            fixed = [pair for i, r in enumerate(self.runs) if i not in free
                     for pair in decisions_fixed(r, best.values)]  # fmt: skip
            copy.narrow(fixed)
            hint_all(copy.m, best.values)
            solver = cp_model.CpSolver()
            p = solver.parameters
            p.max_time_in_seconds = min(self.sub_limit, left)
            p.num_workers = 1
            p.random_seed = rng.randrange(1 << 30)
            p.cp_model_probing_level = 0
            if self.large:
                p.max_presolve_iterations = 1
                p.symmetry_level = 0
            p.catch_sigint_signal = False
            status = self._run(solver, copy.m)
            self.calls += 1
            k = self.kinds[kind]
            k.tried += 1
            if status == cp_model.OPTIMAL:
                k.size = min(len(self.movable), k.size * 1.2 + 1)
            else:
                k.size = max(2.0, k.size * 0.8)
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                continue
            objective = solver.objective_value
            whole = len(free) == len(self.movable) and status == cp_model.OPTIMAL
            with self._lock:
                if whole and objective <= self.best.objective + 1e-6:
                    self.proven = True
                if objective < self.best.objective - 1e-6:
                    k.improved += 1
                    k.gained += self.best.objective - objective
                    self.best = Incumbent(list(solver.response_proto.solution), objective,
                                          time.perf_counter() - self._started)  # fmt: skip
                    better = self.best
                elif objective <= self.best.objective + 1e-6 and best is self.best:
                    # As good, and elsewhere: the search moves on from it (plateaus).
                    self.best = Incumbent(list(solver.response_proto.solution), objective,
                                          self.best.found_at)  # fmt: skip
                    better = None
                else:
                    better = None
            if better is not None:
                self._better(better)

    def _choose(self, rng: random.Random) -> str:
        # Each kind in proportion to what it gained per call, never below a floor.
        weights = [1.0 + 20.0 * (v.gained / max(1, v.tried)) / max(1.0, abs(self.best.objective))
                   * 100 for v in self.kinds.values()]  # fmt: skip
        return rng.choices(KINDS, weights=weights)[0]

    # -- neighbourhoods --------------------------------------------------------------------

    def _placed(self, values: Sequence[int]) -> list[tuple[int, int, str | None]]:
        """Each run's start, end and room (None when a proposal is left out)."""
        out: list[tuple[int, int, str | None]] = []
        for r in self.runs:
            start = values[r.start]
            end = start + r.occurrence.session.duration
            if r.present is not None and not values[r.present]:
                out.append((start, end, None))
                continue
            room = next((rid for rid, i in r.rooms if values[i]), None)
            out.append((start, end, room))
        return out

    def _neighbourhood(self, kind: str, values: Sequence[int], rng: random.Random) -> set[int]:
        size = max(2, round(self.kinds[kind].size))
        placed = self._placed(values)
        movable = self.movable
        if kind == "window":
            order = sorted(movable, key=lambda i: (placed[i][0], rng.random()))
            at = rng.randrange(len(order))
            lo = max(0, min(at - size // 2, len(order) - size))
            return set(order[lo : lo + size])
        if kind == "rooms":
            rooms = self.rooms_in_order
            at = rng.randrange(len(rooms))
            chosen: set[str] = set()
            free: set[int] = set()
            for r in rooms[at:] + rooms[:at]:
                chosen.add(r.id)
                free.update(i for i in movable if placed[i][2] == r.id)
                if len(free) >= size:
                    break
            return free
        seeds: list[int]
        if kind == "conflicts":
            overlapping = [
                (a, b, w) for a, b, w in self.pairs
                if any(placed[i][2] is not None and placed[j][2] is not None
                       and placed[i][0] < placed[j][1] and placed[j][0] < placed[i][1]
                       for i in self.by_session[a] for j in self.by_session[b])
            ]  # fmt: skip
            if not overlapping:
                return self._random(size, rng)
            a, b, _ = rng.choices(overlapping, weights=[w for _, _, w in overlapping])[0]
            seeds = [*self.by_session[a], *self.by_session[b]]
            seeds += [i for s in (a, b) for p in self.partners[s][:3] for i in self.by_session[p]]
        elif kind == "people" and self.people:
            seeds = list(self.of_person[rng.choice(self.people)])
        else:
            return self._random(size, rng)
        free = {i for i in seeds if self.runs[i].movable}
        # The runs beside them in time: where they could go, and who could make room.
        near = sorted(
            movable,
            key=lambda i: min(abs(placed[i][0] - placed[j][0]) for j in seeds) + rng.random(),
        )
        for i in near:
            if len(free) >= size:
                break
            free.add(i)
        return free

    def _random(self, size: int, rng: random.Random) -> set[int]:
        return set(rng.sample(self.movable, min(size, len(self.movable))))
