"""The CP-SAT model of a programme, built in stages: variables, hard rules, soft rules,
objective.

Each hard rule is one function named ``rule_<id>``. In explanation mode every
constraint a rule adds is guarded by an assumption literal for ``(rule id, subject)``,
so that an infeasible core names rules a committee understands; in solving mode the
same functions add plain constraints (and rooms that cannot host a session get no
variable at all).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
from ortools.sat.python import cp_model

from scheduler._problem import DAY_MINUTES, SchedulingProblem, SessionSpec, Span

__all__ = ["Occurrence", "ProgrammeModel"]

Guard = tuple[str, str]  # (rule id, subject id)


def _inside(s: int, d: int, spans: Iterable[Span]) -> bool:
    return any(a <= s and s + d <= b for a, b in spans)


def _clear(s: int, d: int, spans: Iterable[Span]) -> bool:
    return all(s + d <= a or b <= s for a, b in spans)


def _fits_in(spans: Sequence[Span], d: int) -> Callable[[int], bool]:
    return lambda s: _inside(s, d, spans)


def _available(
    available: Sequence[Span] | None, unavailable: Sequence[Span], d: int
) -> Callable[[int], bool]:
    return lambda s: (available is None or _inside(s, d, available)) and _clear(s, d, unavailable)


@attrs.define
class Occurrence:
    session: SessionSpec
    number: int  # from 1
    base: list[int]  # start values allowed by the calendar alone
    start: Any = None
    end: Any = None
    present: Any = None  # a literal, or True for a mandatory session
    interval: Any = None
    rooms: dict[str, Any] = attrs.Factory(dict)  # room id -> presence literal
    room_intervals: dict[str, Any] = attrs.Factory(dict)
    day_literals: dict[int, Any] = attrs.Factory(dict)
    day: Any = None

    @property
    def key(self) -> str:
        return f"{self.session.id}#{self.number}"


class ProgrammeModel:
    def __init__(
        self,
        problem: SchedulingProblem,
        *,
        explain: bool = False,
        hint: dict[tuple[str, int], tuple[int, str]] | None = None,
    ) -> None:
        self.p = problem
        self.explain = explain
        self.hint = problem.previous if hint is None else hint
        self.m = cp_model.CpModel()
        self.guards: dict[Guard, Any] = {}
        self.occurrences: list[Occurrence] = []
        self.by_session: dict[str, list[Occurrence]] = {}
        self.penalties: list[tuple[Any, int]] = []
        self._build()

    # -- helpers -----------------------------------------------------------------------

    def guard(self, rule: str, subject: str) -> list[Any]:
        """The enforcement literals for a constraint of ``rule`` about ``subject``: none
        when solving, one assumption literal when explaining."""
        if not self.explain:
            return []
        key = (rule, subject)
        if key not in self.guards:
            self.guards[key] = self.m.new_bool_var(f"guard[{rule}:{subject}]")
        return [self.guards[key]]

    @staticmethod
    def enforce(ct: Any, lits: Sequence[Any]) -> None:
        if lits:
            ct.only_enforce_if(list(lits))

    def impossible(self, guard: Sequence[Any] = ()) -> None:
        """A constraint that cannot hold (unless its guard is relaxed)."""
        false = self.m.new_bool_var("false")
        self.m.add(false == 0)
        self.enforce(self.m.add_bool_or([false]), guard)

    def restrict(
        self,
        o: Occurrence,
        allowed: Callable[[int], bool],
        guard: list[Any],
        extra: Sequence[Any] = (),
    ) -> None:
        values = [s for s in o.base if allowed(s)]
        domain = cp_model.Domain.from_values(values)
        ct = self.m.add_linear_expression_in_domain(o.start, domain)
        self.enforce(ct, [*guard, *extra, *self.both_present(o)])

    def both_present(self, *occs: Occurrence) -> list[Any]:
        return [o.present for o in occs if o.present is not True]

    def fits(self, s: SessionSpec, room_id: str) -> bool:
        r = self.p.room(room_id)
        return (
            s.requires <= r.features
            and (s.rooms is None or room_id in s.rooms)
            and r.capacity + r.reserve >= s.need
        )

    def day_var(self, o: Occurrence) -> Any:
        if o.day is None:
            o.day = self.m.new_int_var(0, len(self.p.days) - 1, f"day[{o.key}]")
            self.m.add_division_equality(o.day, o.start, DAY_MINUTES)
        return o.day

    def on_day(self, o: Occurrence, day: int) -> Any:
        if day not in o.day_literals:
            lit = self.m.new_bool_var(f"on_day[{o.key},{day}]")
            self.m.add(self.day_var(o) == day).only_enforce_if(lit)
            self.m.add(self.day_var(o) != day).only_enforce_if(~lit)
            o.day_literals[day] = lit
        return o.day_literals[day]

    # -- variables ----------------------------------------------------------------------

    def _base_starts(self, s: SessionSpec) -> list[int]:
        """Rule ``open_hours``: on the grid, inside a day's open hours, clear of breaks."""
        g = self.p.granularity
        values = []
        for day in self.p.days:
            midnight = day.index * DAY_MINUTES
            first = midnight + -(-(day.open - midnight) // g) * g
            for start in range(first, day.close - s.duration + 1, g):
                if _clear(start, s.duration, day.breaks):
                    values.append(start)
        return values

    def _build(self) -> None:
        m = self.m
        for s in self.p.sessions:
            base = self._base_starts(s)
            for k in range(1, s.occurrences + 1):
                o = Occurrence(session=s, number=k, base=base)
                o.start = m.new_int_var_from_domain(
                    cp_model.Domain.from_values(base or [0]), f"start[{o.key}]"
                )
                o.end = o.start + s.duration
                if s.optional:
                    # A proposal is taken whole, every run of it, or left out.
                    first = self.by_session.get(s.id)
                    o.present = first[0].present if first else m.new_bool_var(f"present[{s.id}]")
                    o.interval = m.new_optional_fixed_size_interval_var(
                        o.start, s.duration, o.present, f"iv[{o.key}]"
                    )
                else:
                    o.present = True
                    o.interval = m.new_fixed_size_interval_var(o.start, s.duration, f"iv[{o.key}]")
                if not base:
                    # Nothing in the calendar can hold it: only its absence is possible.
                    if o.present is True:
                        self.impossible(self.guard("open_hours", s.id))
                    else:
                        m.add(o.present == 0)
                self.occurrences.append(o)
                self.by_session.setdefault(s.id, []).append(o)
        for o in self.occurrences:
            self._room_variables(o)
        self.rule_placement()
        for o in self.occurrences:
            self.rule_windows(o)
            self.rule_fixed(o)
            self.rule_room_fit(o)
            self.rule_room_availability(o)
            self.rule_person_availability(o)
            self.rule_exclusive(o)
        for r in self.p.rooms:
            self.rule_room_overlap(r.id)
        people = {pid for s in self.p.sessions for pid in s.people}
        for person in self.p.people:
            if person.id in people:
                self.rule_person_overlap(person.id)
                self.rule_max_per_day(person.id)
        for s in self.p.sessions:
            self.rule_occurrences(s)
            for other, gap, same_day in s.after:
                self.rule_after(s, other, gap, same_day)
            for other in s.not_parallel:
                self.rule_not_parallel(s, other)
        if not self.explain:
            self.soft_rules()
            self.hints()

    def _room_variables(self, o: Occurrence) -> None:
        s = o.session
        for r in self.p.rooms:
            if not self.explain and not self.fits(s, r.id):
                continue  # a room that cannot host the session gets no variable
            lit = self.m.new_bool_var(f"in[{o.key},{r.id}]")
            o.rooms[r.id] = lit
            size = s.duration + r.changeover
            o.room_intervals[r.id] = self.m.new_optional_fixed_size_interval_var(
                o.start, size, lit, f"iv[{o.key},{r.id}]"
            )

    # -- hard rules ----------------------------------------------------------------------

    def rule_placement(self) -> None:
        """Every mandatory occurrence gets exactly one room; a chosen proposal too."""
        for o in self.occurrences:
            lits = list(o.rooms.values())
            if o.present is not True:
                self.m.add(sum(lits) == o.present)
            elif lits:
                self.m.add_exactly_one(lits)
            else:
                self.impossible(self.guard("room_fit", o.session.id))

    def rule_windows(self, o: Occurrence) -> None:
        """``windows``: the session starts and ends inside one of its windows."""
        spans = o.session.windows
        if spans is None:
            return
        d = o.session.duration
        self.restrict(o, _fits_in(spans, d), self.guard("windows", o.session.id))

    def rule_fixed(self, o: Occurrence) -> None:
        """``fixed``: the day and room the committee pinned, for every run; the start,
        for the first run (the others follow it)."""
        s = o.session
        guard = self.guard("fixed", s.id)
        if s.fixed_day is not None or (s.fixed_start is not None and o.number == 1):
            day = s.fixed_day
            start = s.fixed_start if o.number == 1 else None
            self.restrict(
                o,
                lambda t: (
                    (day is None or t // DAY_MINUTES == day)
                    and (start is None or t % DAY_MINUTES == start)
                ),
                guard,
            )
        if s.fixed_room is not None:
            lit = o.rooms.get(s.fixed_room)
            if lit is None:  # the pinned room cannot host it (room_fit says why)
                self.impossible(guard + self.both_present(o))
            else:
                self.enforce(self.m.add(lit == 1), guard + self.both_present(o))

    def rule_room_fit(self, o: Occurrence) -> None:
        """``room_fit``: required features, allowed rooms, seats plus reserve."""
        if not self.explain:
            return  # unfit rooms have no variable
        for room_id, lit in o.rooms.items():
            if not self.fits(o.session, room_id):
                self.enforce(self.m.add(lit == 0), self.guard("room_fit", o.session.id))

    def rule_room_availability(self, o: Occurrence) -> None:
        """``room_availability``: a room hosts sessions only inside its availability."""
        d = o.session.duration
        for room_id, lit in o.rooms.items():
            spans = self.p.room(room_id).availability
            if all(_inside(s, d, spans) for s in o.base):
                continue
            self.restrict(o, _fits_in(spans, d), self.guard("room_availability", room_id), [lit])

    def rule_room_overlap(self, room_id: str) -> None:
        """``room_overlap``: one session at a time (``concurrent`` at most), with the
        room's changeover after each."""
        room = self.p.room(room_id)
        pairs = [(o.room_intervals[room_id]) for o in self.occurrences if room_id in o.rooms]
        if len(pairs) < 2:
            return
        guard = self.guard("room_overlap", room_id)
        if room.concurrent == 1:
            self.enforce(self.m.add_no_overlap(pairs), guard)
        else:
            self.enforce(self.m.add_cumulative(pairs, [1] * len(pairs), room.concurrent), guard)

    def rule_person_availability(self, o: Occurrence) -> None:
        """``person_availability``: everyone on stage is available for the whole session."""
        d = o.session.duration
        for pid in o.session.people:
            person = self.p.person(pid)
            avail, unavail = person.available, person.unavailable
            if avail is None and not unavail:
                continue
            self.restrict(o, _available(avail, unavail, d), self.guard("person_availability", pid))

    def person_occurrences(self, person_id: str) -> list[Occurrence]:
        return [o for o in self.occurrences if person_id in o.session.people]

    def rule_person_overlap(self, person_id: str) -> None:
        """``person_overlap``: nobody is in two sessions at once; between two of their
        sessions they have ``speaker_gap`` minutes, plus the walk between venues."""
        occs = self.person_occurrences(person_id)
        if len(occs) < 2:
            return
        gap = self.p.speaker_gap
        guard = self.guard("person_overlap", person_id)
        intervals = []
        for o in occs:
            if gap:
                intervals.append(
                    self.m.new_optional_fixed_size_interval_var(
                        o.start,
                        o.session.duration + gap,
                        True if o.present is True else o.present,
                        f"gap[{o.key},{person_id}]",
                    )
                )
            else:
                intervals.append(o.interval)
        self.enforce(self.m.add_no_overlap(intervals), guard)
        if any(t > 0 for t in self.p.travel.values()):
            self._travel(person_id, occs, gap, guard)

    def _travel(self, person_id: str, occs: list[Occurrence], gap: int, guard: list[Any]) -> None:
        venues = sorted({r.venue for r in self.p.rooms})
        at: dict[str, dict[str, Any]] = {}
        for o in occs:
            at[o.key] = {}
            for v in venues:
                lits = [lit for rid, lit in o.rooms.items() if self.p.room(rid).venue == v]
                var = self.m.new_bool_var(f"venue[{o.key},{v}]")
                self.m.add(sum(lits) == var) if lits else self.m.add(var == 0)
                at[o.key][v] = var
        for i, a in enumerate(occs):
            for b in occs[i + 1 :]:
                a_first = self.m.new_bool_var(f"first[{a.key},{b.key},{person_id}]")
                for va in venues:
                    for vb in venues:
                        t = self.p.travel_minutes(va, vb)
                        if t <= 0:
                            continue
                        self.m.add(a.end + gap + t <= b.start).only_enforce_if(
                            [a_first, at[a.key][va], at[b.key][vb], *guard]
                        )
                        self.m.add(b.end + gap + t <= a.start).only_enforce_if(
                            [~a_first, at[a.key][va], at[b.key][vb], *guard]
                        )

    def rule_max_per_day(self, person_id: str) -> None:
        """``max_per_day``: a person appears in at most that many sessions a day."""
        cap = self.p.person(person_id).max_per_day
        occs = self.person_occurrences(person_id)
        if cap is None or len(occs) <= cap:
            return
        guard = self.guard("max_per_day", person_id)
        for day in self.p.days:
            terms = []
            for o in occs:
                lit = self.on_day(o, day.index)
                if o.present is True:
                    terms.append(lit)
                else:
                    both = self.m.new_bool_var(f"on_day_present[{o.key},{day.index}]")
                    self.m.add_multiplication_equality(both, [lit, o.present])
                    terms.append(both)
            self.enforce(self.m.add(sum(terms) <= cap), guard)

    def rule_exclusive(self, o: Occurrence) -> None:
        """``exclusive``: nothing else for any of a plenary's audiences runs beside it."""
        s = o.session
        if not s.exclusive:
            return
        guard = self.guard("exclusive", s.id)
        for x in self.occurrences:
            if x.session.id == s.id or not (x.session.audiences & s.audiences):
                continue
            self.enforce(self.m.add_no_overlap([o.interval, x.interval]), guard)

    def rule_occurrences(self, s: SessionSpec) -> None:
        """``occurrences``: the runs of one session follow one another, in order."""
        occs = self.by_session[s.id]
        guard = self.guard("occurrences", s.id) if len(occs) > 1 else []
        for a, b in itertools.pairwise(occs):
            self.enforce(self.m.add(b.start >= a.end), [*guard, *self.both_present(a, b)])
            if a.present is not True:
                self.m.add_implication(b.present, a.present)

    def rule_after(self, s: SessionSpec, other: str, gap: int, same_day: bool) -> None:
        """``after``: the session starts ``min_gap`` minutes or more after the other ends
        (on the same day when ``same_day``)."""
        guard = self.guard("after", f"{s.id}>{other}")
        for b in self.by_session[s.id]:
            for a in self.by_session.get(other, ()):
                enforce = [*guard, *self.both_present(a, b)]
                self.enforce(self.m.add(b.start >= a.end + gap), enforce)
                if same_day:
                    self.enforce(self.m.add(self.day_var(a) == self.day_var(b)), enforce)

    def rule_not_parallel(self, s: SessionSpec, other: str) -> None:
        """``not_parallel``: the two sessions never overlap."""
        guard = self.guard("not_parallel", f"{s.id}|{other}")
        for a in self.by_session[s.id]:
            for b in self.by_session.get(other, ()):
                self.enforce(self.m.add_no_overlap([a.interval, b.interval]), guard)

    # -- soft rules ------------------------------------------------------------------

    def soft_rules(self) -> None:
        w = self.p.weights
        for o in self.occurrences:
            s = o.session
            for room_id, lit in o.rooms.items():
                r = self.p.room(room_id)
                reserve_used = max(0, s.need - r.capacity)
                if reserve_used:
                    self.penalties.append((lit, w["reserve_seats"] * reserve_used))
                if s.need and r.capacity > s.need:
                    empty = (r.capacity - s.need) // 10
                    if empty:
                        self.penalties.append((lit, w["oversized_room"] * empty))
            preferred = list(s.preferred)
            spans = [preferred] if preferred else []
            spans += [
                list(self.p.person(pid).preferred)
                for pid in s.people
                if self.p.person(pid).preferred
            ]
            d = s.duration
            for pref in spans:
                hit = self.m.new_bool_var(f"preferred[{o.key}]")
                self.restrict(o, _fits_in(pref, d), [], [hit])
                self.penalties.append((~hit, w["preferred_windows"]))
            if o.present is not True:
                self.penalties.append((~o.present, w["proposal_priority"] * s.priority))

    def hints(self) -> None:
        """Start the search from a schedule: a previous one, or a first-fit construction."""
        for o in self.occurrences:
            previous = self.hint.get((o.session.id, o.number))
            if previous is None:
                continue
            start, room = previous
            self.m.add_hint(o.start, start)
            for room_id, lit in o.rooms.items():
                self.m.add_hint(lit, room_id == room)
            if o.present is not True:
                self.m.add_hint(o.present, True)

    def objective(self) -> None:
        if self.penalties:
            self.m.minimize(sum(c * lit for lit, c in self.penalties))
