"""The model of one neighbourhood: only what the freed runs touch.

A neighbourhood frees the runs of a few sessions and keeps every other run where the
current programme has it. Solved on the whole model with the other runs' domains fixed,
CP-SAT first presolves all of it: on a national edition five times the usual size
(124,600 constraints, 85,300 variables) that took 0.4–1 s of every part, whatever its
size. This module gives CP-SAT a model of the part alone, built from the whole model's
constraints without building anything again:

- a variable is *free* when it decides a freed run, or is a variable of the model's own
  (an overlap, a person's first session of a day) that a kept constraint links to a free
  one; every constraint with a free variable is kept;
- a variable that only one run's constraints define (the day it is on, its venue, its
  being under way at a moment) is that run's: it stays with its run, fixed where the
  programme has it when the run is, so that a constraint over every run (a track's
  sessions at each moment) does not pull in every run's variables;
- a constraint enforced by a literal that stays false, and an interval that stays
  absent (a room a kept run is not in), are left out: they hold whatever the part does;
- every other variable a kept constraint names is fixed to the current programme's
  value (a constant in a sum or an expression; a variable of one value where a list of
  literals names it), and every other constraint is left out: its variables all keep
  their values, and the current programme satisfies it.

So the part's solutions are programmes of the whole model (its other variables keep their
values), and the part's objective is the whole objective: its free terms, plus what the
fixed ones add up to. Checked against the whole model in ``tests/unit/test_parts.py``.
On ×5 a part of 12 runs holds about 2,000 free variables and 6,000 constraints; CP-SAT's
search starts after 0.08 s.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ortools.sat import cp_model_pb2
from ortools.sat.python import cp_model

__all__ = ["Part", "Structure"]

_LITERALS = ("bool_or", "bool_and", "at_most_one", "exactly_one")
_FUNCTIONS = ("int_prod", "int_div", "lin_max")


def _var(ref: int) -> int:
    return ref if ref >= 0 else -ref - 1


def _parsed(model: cp_model.CpModel) -> Any:
    """The model as a protocol buffer Python can read field by field (the model object
    gives each field through a call into C++)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.pb")
        model.export_to_file(path)
        with open(path, "rb") as f:
            return cp_model_pb2.CpModelProto.FromString(f.read())


# Bounds this far out stand for no bound (CP-SAT's are the int64 extremes): a shift
# leaves them where they are.
_FAR = 1 << 61


class Part:
    """A neighbourhood's model, and how its solutions map back to the whole model."""

    def __init__(
        self,
        model: cp_model.CpModel,
        variables: list[int],
        free: int,
        freed: set[int],
        read: set[int],
    ) -> None:
        self.model = model
        self.variables = variables  # whole-model index of each of the part's variables
        self.free = free  # the first ``free`` of them are free, the others fixed
        self.freed = freed  # the free variables (whole-model indices)
        # The constraints the part was built from: kept, or left out as switched off.
        self.read = read

    def solution(self, solution: Sequence[int], values: Sequence[int]) -> list[int]:
        """``values`` with the part's free variables set as ``solution`` has them."""
        out = list(values)
        found = list(solution)
        for k in range(self.free):
            out[self.variables[k]] = found[k]
        return out


class Structure:
    """Which constraints name which variables, read once from the whole model."""

    def __init__(
        self,
        model: cp_model.CpModel,
        decisions: Sequence[Sequence[int]],
        rooms: Sequence[Sequence[int]],
    ) -> None:
        """For each run, the variables that decide it: ``decisions`` (start, moderators,
        presence) and ``rooms`` (its room's literals)."""
        pb = _parsed(model)
        self.pb = pb
        n = len(pb.variables)
        self.domains = [list(v.domain) for v in pb.variables]
        kinds: list[str] = []
        refs: list[list[int]] = []
        intervals: list[list[int]] = []
        for c in pb.constraints:
            kind = c.WhichOneof("constraint")
            kinds.append(kind)
            named = [_var(x) for x in c.enforcement_literal]
            ivs: list[int] = []
            if kind == "linear":
                named += c.linear.vars
            elif kind in _LITERALS:
                named += [_var(x) for x in getattr(c, kind).literals]
            elif kind == "interval":
                i = c.interval
                named += [*i.start.vars, *i.end.vars, *i.size.vars]
            elif kind == "no_overlap":
                ivs = list(c.no_overlap.intervals)
            elif kind == "cumulative":
                ivs = list(c.cumulative.intervals)
                named += c.cumulative.capacity.vars
                for d in c.cumulative.demands:
                    named += d.vars
            elif kind in _FUNCTIONS:
                f = getattr(c, kind)
                named += f.target.vars
                for e in f.exprs:
                    named += e.vars
            else:
                raise ValueError(f"constraint of a kind the neighbourhoods do not know: {kind}")
            refs.append(named)
            intervals.append(ivs)
        self.kinds, self.refs, self.intervals = kinds, refs, intervals
        self.enforcement = [tuple(c.enforcement_literal) for c in pb.constraints]
        self._forms: dict[int, tuple[Any, ...]] = {}
        # For a constraint on intervals, each interval's enforcement literal (None: none;
        # an interval with several is told by its first, and checked again when built).
        self.presence = [
            tuple(self.enforcement[i][0] if self.enforcement[i] else None for i in ivs)
            for ivs in intervals
        ]
        # The constraints naming each variable, through the intervals they name too.
        of_var: list[list[int]] = [[] for _ in range(n)]
        for ci, named in enumerate(refs):
            through = [u for i in intervals[ci] for u in refs[i]]
            for v in set(named).union(through):
                of_var[v].append(ci)
        self.of_var = of_var
        # Whose each variable is: the run it decides, or the one run whose variables
        # the constraints naming it hold (-1: several runs', or none).
        owner = [-1] * n
        for r, variables in enumerate(decisions):
            for v in (*variables, *rooms[r]):
                owner[v] = r
        self.decides = [o >= 0 for o in owner]
        seen: dict[int, int] = {}
        for ci, named in enumerate(refs):
            if intervals[ci]:
                continue  # a no-overlap is not what defines a variable
            runs = {owner[u] for u in named if self.decides[u]}
            if not runs:
                continue
            one = next(iter(runs)) if len(runs) == 1 else -1
            for u in named:
                if not self.decides[u]:
                    seen[u] = one if seen.get(u, one) == one else -1
        for u, r in seen.items():
            owner[u] = r
        self.owner = owner
        self.decisions = [list(d) for d in decisions]
        self.rooms = [list(r) for r in rooms]
        # The objective as one coefficient per variable (a negated literal's term
        # c * (1 - x) is c, less c * x).
        self.coefficient: dict[int, int] = {}
        for ref, c in zip(pb.objective.vars, pb.objective.coeffs, strict=True):
            v = _var(ref)
            self.coefficient[v] = self.coefficient.get(v, 0) + (c if ref >= 0 else -c)

    # -- which variables are free, which constraints are kept ----------------------------

    def select(
        self,
        runs: Iterable[int],
        values: Sequence[int],
        rooms_only: bool = False,
        rooms: Callable[[int], Iterable[int]] | None = None,
    ) -> tuple[set[int], set[int], set[int]]:
        """The free variables, the kept constraints and the constraints left out because
        a literal that stays false switches them off, of the part freeing ``runs`` (only
        their rooms, with ``rooms_only``; among ``rooms(run)``'s literals, if given: the
        others stay out, as they are)."""
        freed = set(runs)
        free: set[int] = set()
        for r in freed:
            if not rooms_only:
                free.update(self.decisions[r])
            free.update(self.rooms[r] if rooms is None else rooms(r))
        kept: set[int] = set()
        off: set[int] = set()  # enforced by a literal that keeps a false value
        owner, refs, decides, enforcement = self.owner, self.refs, self.decides, self.enforcement
        of_var = self.of_var
        todo = list(free)
        while todo:
            v = todo.pop()
            for ci in of_var[v]:
                if ci in kept or ci in off:
                    continue
                # A literal of a fixed run (its decision, or a variable of its own) never
                # becomes free: false now, the constraint holds whatever the part does.
                for ref in enforcement[ci]:
                    u = ref if ref >= 0 else -ref - 1
                    if u in free:
                        continue
                    o = owner[u]
                    if (
                        o >= 0
                        and (decides[u] or o not in freed)
                        and not (values[u] if ref >= 0 else 1 - values[u])
                    ):
                        off.add(ci)
                        break
                else:
                    kept.add(ci)
                    for u in refs[ci]:
                        if u not in free and not decides[u] and (owner[u] < 0 or owner[u] in freed):
                            free.add(u)
                            todo.append(u)
        return free, kept, off

    def _form(self, ci: int) -> tuple[Any, ...]:
        """Constraint ``ci``'s fields as Python values (read from the buffer once)."""
        form = self._forms.get(ci)
        if form is None:
            c = self.pb.constraints[ci]
            kind = self.kinds[ci]

            def e(x: Any) -> tuple[tuple[int, ...], tuple[int, ...], int]:
                return tuple(x.vars), tuple(x.coeffs), x.offset

            if kind == "linear":
                form = (tuple(c.linear.vars), tuple(c.linear.coeffs), tuple(c.linear.domain))
            elif kind in _LITERALS:
                form = (tuple(getattr(c, kind).literals),)
            elif kind == "interval":
                form = (e(c.interval.start), e(c.interval.end), e(c.interval.size))
            elif kind == "cumulative":
                form = (e(c.cumulative.capacity), [e(d) for d in c.cumulative.demands])
            elif kind in _FUNCTIONS:
                f = getattr(c, kind)
                form = (e(f.target), [e(x) for x in f.exprs])
            else:
                form = ()
            self._forms[ci] = form
        return form

    # -- whether a programme keeps a constraint ------------------------------------------

    def holds(self, ci: int, values: Sequence[int]) -> bool:
        """Whether ``values`` keep constraint ``ci`` (when in doubt, no)."""

        def true(ref: int) -> bool:
            return bool(values[ref]) if ref >= 0 else not values[-ref - 1]

        def at(form: tuple[tuple[int, ...], tuple[int, ...], int]) -> int:
            vs, cs, offset = form
            return offset + sum(a * values[v] for v, a in zip(vs, cs, strict=True))

        if not all(true(ref) for ref in self.enforcement[ci]):
            return True
        kind, form = self.kinds[ci], self._form(ci)
        if kind == "linear":
            total, d = at((form[0], form[1], 0)), form[2]
            return any(d[k] <= total <= d[k + 1] for k in range(0, len(d), 2))
        if kind in _LITERALS:
            count = sum(true(ref) for ref in form[0])
            return {"bool_or": count >= 1, "bool_and": count == len(form[0]),
                    "at_most_one": count <= 1, "exactly_one": count == 1}[kind]  # fmt: skip
        if kind == "interval":
            return at(form[0]) + at(form[2]) == at(form[1])
        if kind in ("no_overlap", "cumulative"):
            spans = []
            for k, i in enumerate(self.intervals[ci]):
                if all(true(ref) for ref in self.enforcement[i]):
                    start, end, _ = self._form(i)
                    demand = 1 if kind == "no_overlap" else at(form[1][k])
                    spans.append((at(start), at(end), demand))
            capacity = 1 if kind == "no_overlap" else at(form[0])
            # Ends before starts at one moment: a run may start as another ends.
            events = sorted([(a, 1, d) for a, _, d in spans] + [(b, 0, -d) for _, b, d in spans])
            load = 0
            for _, _, d in events:
                load += d
                if load > capacity:
                    return False
            return True
        target, exprs = at(form[0]), [at(x) for x in form[1]]
        if kind == "lin_max":
            return target == max(exprs)
        if kind == "int_prod":
            product = 1
            for x in exprs:
                product *= x
            return target == product
        if kind == "int_div":
            return exprs[1] != 0 and target == int(exprs[0] / exprs[1])
        return False

    # -- the part's model ----------------------------------------------------------------

    def part(
        self,
        runs: Iterable[int],
        values: Sequence[int],
        objective: float,
        rooms_only: bool = False,
        rooms: Callable[[int], Iterable[int]] | None = None,
    ) -> Part:
        """The model of the part freeing ``runs`` (only their rooms, with ``rooms_only``)
        of the programme ``values`` (whose objective is ``objective``), hinted with that
        programme. A fixed variable's terms become constants where the constraint allows
        (sums, expressions), so the part holds few variables besides the free ones."""
        free, kept, off = self.select(runs, values, rooms_only, rooms)
        enforcement, kinds, intervals = self.enforcement, self.kinds, self.intervals
        index = {v: k for k, v in enumerate(sorted(free))}
        order = list(index)

        def ix(v: int) -> int:
            k = index.get(v)
            if k is None:  # a fixed variable a constraint names: one more variable
                k = index[v] = len(order)
                order.append(v)
            return k

        def lit(ref: int) -> int:
            return ix(ref) if ref >= 0 else -ix(-ref - 1) - 1

        def enforced(ci: int) -> list[int] | None:
            """The part's enforcement literals of ``ci`` (None: one stays false)."""
            out = []
            for ref in enforcement[ci]:
                u = ref if ref >= 0 else -ref - 1
                if u in free:
                    out.append(lit(ref))
                elif not (values[u] if ref >= 0 else 1 - values[u]):
                    return None
            return out

        def expr(dst: Any, form: tuple[tuple[int, ...], tuple[int, ...], int]) -> None:
            vs, cs, offset = form
            for v, a in zip(vs, cs, strict=True):
                if v in free:
                    dst.vars.append(index[v])
                    dst.coeffs.append(a)
                else:
                    offset += a * values[v]
            dst.offset = offset

        sub = cp_model.CpModel()
        proto = sub.proto
        constraints = proto.constraints
        at: dict[int, int] = {}  # whole-model interval -> the part's
        held = {ci for ci in kept if kinds[ci] == "interval"}
        presence = self.presence
        for ci in kept:
            if intervals[ci]:
                # The intervals that are there: enforced by nothing, a free literal or a
                # true one.
                held.update(i for i, ref in zip(intervals[ci], presence[ci], strict=True)
                            if ref is None or (ref if ref >= 0 else -ref - 1) in free
                            or (values[ref] if ref >= 0 else 1 - values[-ref - 1]))  # fmt: skip
        used = sorted(held)
        for ci in used:
            enforce = enforced(ci)
            if enforce is None:
                continue
            at[ci] = len(at)
            c = constraints.add()
            c.enforcement_literal.extend(enforce)
            start, end, size = self._form(ci)
            i = c.interval
            expr(i.start, start)
            expr(i.end, end)
            expr(i.size, size)
        for ci in sorted(kept):
            kind = kinds[ci]
            if kind == "interval":
                continue
            if intervals[ci] and sum(i in at for i in intervals[ci]) < 2:
                continue  # one interval overlaps nothing
            enforce = enforced(ci)
            if enforce is None:
                continue
            form = self._form(ci)
            if kind == "linear":
                # The fixed variables' terms are a constant: the domain moves by it.
                vs, cs, constant = [], [], 0
                for v, a in zip(form[0], form[1], strict=True):
                    if v in free:
                        vs.append(index[v])
                        cs.append(a)
                    else:
                        constant += a * values[v]
                c = constraints.add()
                c.enforcement_literal.extend(enforce)
                c.linear.vars.extend(vs)
                c.linear.coeffs.extend(cs)
                c.linear.domain.extend([b if abs(b) >= _FAR else b - constant for b in form[2]])
                continue
            if kind in ("bool_or", "at_most_one", "exactly_one"):
                # A fixed literal that is false takes no part; one that is true ends a
                # clause.
                refs = [x for x in form[0]
                        if (x if x >= 0 else -x - 1) in free
                        or (values[x] if x >= 0 else 1 - values[-x - 1])]  # fmt: skip
                if kind == "bool_or" and any((x if x >= 0 else -x - 1) not in free for x in refs):
                    continue
                c = constraints.add()
                c.enforcement_literal.extend(enforce)
                getattr(c, kind).literals.extend([lit(x) for x in refs])
                continue
            c = constraints.add()
            c.enforcement_literal.extend(enforce)
            if kind == "bool_and":
                c.bool_and.literals.extend([lit(x) for x in form[0]])
            elif kind == "no_overlap":
                c.no_overlap.intervals.extend([at[i] for i in intervals[ci] if i in at])
            elif kind == "cumulative":
                capacity, demands = form
                expr(c.cumulative.capacity, capacity)
                for i, demand in zip(intervals[ci], demands, strict=True):
                    if i in at:
                        c.cumulative.intervals.append(at[i])
                        expr(c.cumulative.demands.add(), demand)
            else:  # int_prod, int_div, lin_max
                f = getattr(c, kind)
                target, exprs = form
                expr(f.target, target)
                for x in exprs:
                    expr(f.exprs.add(), x)
        nfree = len(free)
        for k, v in enumerate(order):
            d = proto.variables.add().domain
            d.extend(self.domains[v] if k < nfree else (values[v], values[v]))
        # The objective: the free variables' terms, and the rest as it stands.
        coefficient = self.coefficient
        terms = [(index[v], coefficient[v]) for v in free if coefficient.get(v)]
        obj = proto.objective
        obj.vars.extend([k for k, _ in terms])
        obj.coeffs.extend([c for _, c in terms])
        obj.offset = round(objective) - sum(c * values[order[k]] for k, c in terms)
        hint = proto.solution_hint
        hint.vars.extend(range(len(order)))
        hint.values.extend([values[v] for v in order])
        return Part(sub, order, nfree, free, kept | off)
