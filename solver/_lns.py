"""A large-neighbourhood search of our own around CP-SAT.

The model is built once. A neighbourhood frees the runs of some sessions and keeps every
other run where the current programme has it; CP-SAT re-solves that part alone — the
model of the part (``_part``) holds only the constraints the freed runs touch, read from
the whole model, with everything else a constant — starting from the current programme
(a complete hint, so it never returns worse), and a better programme replaces the
current one.

Neighbourhoods, each sized by what it achieved so far (a part solved to its optimum grows
the next one of its kind, a part not finished in time shrinks it):

- ``window``: runs that start close together in time (they can trade times and rooms);
- ``rooms``: every run in a few rooms of the same venue and size;
- ``conflicts``: a pair of overlapping sessions that attendees chose together or that
  share a theme, with the runs beside them in time and their partners;
- ``people``: a person's sessions with the runs beside them in time;
- ``random``: runs drawn at random, proposals left out among them;
- ``seats``: the rooms of runs that start close together, their times kept (a
  large edition's rooms are its largest choice).

A freed run may take the room of another freed run, or one of the few rooms that suit it
best (``ROOM_CHOICES``); a neighbourhood of every run frees every room, and solved to its
optimum, proves the programme optimal.

The workers share the programme. A part solved while another worker moved the programme
is not thrown away: its runs are put on top of the move when every constraint the part
read still holds there (``Structure.holds``), with the gain it found (on five times the
national edition, a quarter of the parts that improve).
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
from creneau.solver._part import Part, Structure

__all__ = ["Incumbent", "NeighbourhoodSearch", "Reading", "fix", "hint_all"]

log = structlog.get_logger()

KINDS = ("window", "rooms", "conflicts", "people", "random", "seats")
# Seconds CP-SAT is given for one neighbourhood. Measured on the national edition with
# registrations (60 s, seeds 1-3): 0.5 s gave 5,630 / 5,691 / 5,652, 1 s 5,817 / 5,691 /
# 5,929 (with 30 % of the time for the whole model at the end, against 15 %); on five
# times that edition (120 s, seed 1), with the parts' own models: 0.5 s 5,637, 1 s 5,901.
SUB_LIMIT = 0.5
# A freed run may go to the rooms of the other freed runs, or to this many of the rooms
# that suit it best (the fewest empty or reserve seats); its other rooms stay out of the
# part. On ×5, 120 s, seed 1, one run each: every room 8,068; 4 rooms 5,803, 8 5,910, 16
# 5,711 (the ``seats`` neighbourhood beside them).
ROOM_CHOICES = 8


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


def _decisions(run: _Run) -> list[int]:
    """The variables that decide ``run`` besides its room: start, moderators, presence."""
    return [run.start, *run.moderators, *(() if run.present is None else (run.present,))]


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
        self._run = run
        self._stopped = stopped
        self._better = better
        self._started = started
        self.runs = _runs(model)
        rooms = [[i for _, i in r.rooms] for r in self.runs]
        self.structure = Structure(model.m, [_decisions(r) for r in self.runs], rooms)
        self.movable = [i for i, r in enumerate(self.runs) if r.movable]
        # Each run's rooms, those that suit it best first (their objective's terms).
        cost = self.structure.coefficient
        self.suited = [sorted((v for _, v in r.rooms), key=lambda v: cost.get(v, 0))
                       for r in self.runs]  # fmt: skip
        # Each run's literals "under way at moment m", by moment. A programme may hold
        # one false where its run is under way (it only implies it), and a fixed run's
        # literal stays as the programme has it: a track's floor at m would then count
        # without that run, and hold back every part around it. Each is set true wherever
        # its run is under way (the constraints it takes part in hold all the more).
        of_run = {id(r.occurrence): i for i, r in enumerate(self.runs)}
        self.under_way: list[list[tuple[int, int]]] = [[] for _ in self.runs]
        for o, lit, moment in model.under_way:
            self.under_way[of_run[id(o)]].append((lit.index, moment))
        self.settle(incumbent.values, range(len(self.runs)))
        self.building = 0.0  # seconds spent building the parts' models
        self._lock = threading.Lock()
        n = max(1, len(self.movable))
        self.kinds = {k: _Kind(size=max(4.0, 0.08 * n)) for k in KINDS}
        self.calls = 0
        self.rebased = 0  # gains kept on top of another thread's move
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
            rebased=self.rebased,
            objective=self.best.objective,
            building=round(self.building, 1),
            kinds={k: (v.tried, v.improved, round(v.size)) for k, v in self.kinds.items()},
        )
        return self.best

    def _loop(self, worker: int, deadline: float) -> None:
        rng = random.Random(self.seed * 7919 + worker)
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
            building = time.perf_counter()
            whole = len(free) == len(self.movable) and kind != "seats"
            if whole:
                # Every run and every room: the whole problem (a pinned run's variables
                # have one value each).
                part = self.structure.part(range(len(self.runs)), best.values, best.objective)
            else:
                part = self.structure.part(
                    free, best.values, best.objective, rooms_only=kind == "seats",
                    rooms=self._rooms(free, best.values),
                )  # fmt: skip
            solver = cp_model.CpSolver()
            p = solver.parameters
            p.max_time_in_seconds = min(SUB_LIMIT, left)
            p.num_workers = 1
            p.random_seed = rng.randrange(1 << 30)
            p.cp_model_probing_level = 0
            p.catch_sigint_signal = False
            with self._lock:
                self.building += time.perf_counter() - building
            status = self._run(solver, part.model)
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
            found = list(solver.response_proto.solution)
            solution = part.solution(found, best.values)
            self.settle(solution, range(len(self.runs)) if whole else free)
            with self._lock:
                current = self.best
                if current is not best and objective < best.objective - 1e-6:
                    # Another thread moved the programme meanwhile: the part's runs are
                    # put on top of its move, when that keeps every rule.
                    rebased = self._rebased(part, found, best, current, free)
                    if rebased is not None:
                        solution, objective = rebased
                        best = current
                        self.rebased += 1
                if whole and status == cp_model.OPTIMAL and objective <= self.best.objective + 1e-6:
                    self.proven = True
                if objective < self.best.objective - 1e-6:
                    k.improved += 1
                    k.gained += self.best.objective - objective
                    self.best = Incumbent(solution, objective,
                                          time.perf_counter() - self._started)  # fmt: skip
                    better = self.best
                elif objective <= self.best.objective + 1e-6 and best is self.best:
                    # As good, and elsewhere: the search moves on from it (plateaus).
                    self.best = Incumbent(solution, objective,
                                          self.best.found_at)  # fmt: skip
                    better = None
                else:
                    better = None
            if better is not None:
                self._better(better)

    def _rebased(
        self,
        part: Part,
        found: Sequence[int],
        start: Incumbent,
        current: Incumbent,
        free: Iterable[int],
    ) -> tuple[list[int], float] | None:
        """The part's solution (solved from ``start``) on ``current`` and its objective,
        if it keeps every rule. Only a constraint the part read that names a variable
        ``current`` changed can break: the others hold as they did in the part."""
        values = part.solution(found, current.values)
        self.settle(values, free)
        structure = self.structure
        of_var, read = structure.of_var, part.read
        changed = [v for v, (a, b) in enumerate(zip(start.values, current.values, strict=True))
                   if a != b]  # fmt: skip
        touched = {ci for v in changed for ci in of_var[v] if ci in read}
        if not all(structure.holds(ci, values) for ci in touched):
            return None
        coefficient = structure.coefficient
        gain = sum(coefficient.get(v, 0) * (values[v] - current.values[v]) for v in part.freed)
        return values, current.objective + gain

    def settle(self, values: list[int], runs: Iterable[int]) -> None:
        """Set the "under way" literals of ``runs`` to whether each run is (in place)."""
        for r in runs:
            run = self.runs[r]
            start = values[run.start]
            end = start + run.occurrence.session.duration
            there = run.present is None or bool(values[run.present])
            for lit, moment in self.under_way[r]:
                values[lit] = int(there and start <= moment < end)

    def _rooms(self, free: set[int], values: Sequence[int]) -> Callable[[int], list[int]]:
        used = {rid for i in free for rid, v in self.runs[i].rooms if values[v]}

        def rooms(r: int) -> list[int]:
            out = [v for rid, v in self.runs[r].rooms if rid in used]
            return out + self.suited[r][:ROOM_CHOICES]

        return rooms

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
        if kind in ("window", "seats"):
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
