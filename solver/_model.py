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
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
from ortools.sat.python import cp_model

from creneau.scheduler import DAY_MINUTES, SchedulingProblem, SessionSpec, Span

__all__ = ["MAX_PAIRS", "Occurrence", "ProgrammeModel", "pair_weights"]

Guard = tuple[str, str]  # (rule id, subject id)
# What a soft rule adds to the objective: (literal or expression, coefficient) pairs.
Terms = list[tuple[Any, int]]


def _inside(s: int, d: int, spans: Iterable[Span]) -> bool:
    return any(a <= s and s + d <= b for a, b in spans)


def _clear(s: int, d: int, spans: Iterable[Span]) -> bool:
    return all(s + d <= a or b <= s for a, b in spans)


def _available(
    available: Sequence[Span] | None, unavailable: Sequence[Span], d: int
) -> Callable[[int], bool]:
    return lambda s: (available is None or _inside(s, d, available)) and _clear(s, d, unavailable)


# At most this many pairs of sessions are kept apart by the objective (the heaviest).
MAX_PAIRS = 4000


def pair_weights(p: SchedulingProblem) -> dict[tuple[str, str], int]:
    """Pairs of single-run sessions that should not overlap, with the cost of their
    overlapping: people who chose both, a theme they share. The heaviest ``MAX_PAIRS``."""
    w = p.weights
    single = {s.id: s for s in p.sessions if s.occurrences == 1 and not s.exclusive}
    out: dict[tuple[str, str], int] = {}
    if w["attendee_conflicts"]:
        for (a, b), count in p.co_choices.items():
            if a in single and b in single:
                out[(a, b)] = count * w["attendee_conflicts"]
    if w["same_theme_parallel"]:
        by_theme: dict[str, list[str]] = {}
        for s in single.values():
            for theme in s.themes:
                by_theme.setdefault(theme, []).append(s.id)
        for ids in by_theme.values():
            for a, b in itertools.combinations(sorted(ids), 2):
                out[(a, b)] = out.get((a, b), 0) + w["same_theme_parallel"]
    heaviest = sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_PAIRS]
    return dict(heaviest)


@attrs.define
class Occurrence:
    session: SessionSpec
    number: int  # from 1
    base: list[int]  # start values allowed by the calendar alone (shared: never changed)
    start: Any = None
    end: Any = None
    present: Any = None  # a literal, or True for a mandatory session
    interval: Any = None
    rooms: dict[str, Any] = attrs.Factory(dict)  # room id -> presence literal
    room_intervals: dict[str, Any] = attrs.Factory(dict)
    day_literals: dict[int, Any] = attrs.Factory(dict)
    day: Any = None
    moderators: dict[str, Any] = attrs.Factory(dict)  # person id -> literal (needs_moderator)
    venues: dict[str, Any] | None = None  # venue id -> literal, made when first needed

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
        hint_moderators: dict[tuple[str, int], tuple[str, ...]] | None = None,
        prune: bool = False,
    ) -> None:
        self.p = problem
        self.explain = explain
        # Rooms that cannot host a session get no variable, and moderators who are never
        # free are not considered: always when solving, on request when explaining (when
        # fit and availability are not in question).
        self.prune = prune or not explain
        self.hint = problem.previous if hint is None else hint
        self.hint_moderators = (
            problem.previous_moderators if hint_moderators is None else hint_moderators
        )
        self.m = cp_model.CpModel()
        self.guards: dict[Guard, Any] = {}
        self.occurrences: list[Occurrence] = []
        self.by_session: dict[str, list[Occurrence]] = {}
        # The objective's terms, gathered from what each rule returns.
        self.penalties: Terms = []
        self.moves: Terms = []  # re-planning: the cost of each change
        self.moderator_load: dict[str, int] = {}
        # Who appears where: person -> [(occurrence, literal)], the literal None when the
        # person is on the session as written (present with it), else their moderator
        # literal.
        self.appearances: dict[str, list[tuple[Occurrence, Any]]] = {}
        # Each literal "the occurrence is under way at this moment" (tracks' floors): it
        # implies that it is, not the other way round, so a programme may hold it false
        # where it could be true (see ``_lns``).
        self.under_way: list[tuple[Occurrence, Any, int]] = []
        self._bases: dict[int, list[int]] = {}  # duration -> calendar starts
        self._starts_in: dict[tuple[int, tuple[Span, ...]], list[int]] = {}
        self._days: dict[int, frozenset[int]] = {}
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
        self.restrict_to(o, [s for s in o.base if allowed(s)], guard, extra)

    def restrict_to(
        self, o: Occurrence, values: Sequence[int], guard: list[Any], extra: Sequence[Any] = ()
    ) -> None:
        domain = cp_model.Domain.from_values(values)
        ct = self.m.add_linear_expression_in_domain(o.start, domain)
        self.enforce(ct, [*guard, *extra, *self.both_present(o)])

    def starts_inside(self, o: Occurrence, spans: Sequence[Span]) -> list[int]:
        """The calendar starts of ``o`` at which it runs inside one of ``spans`` (computed
        once for a duration and spans: many sessions and rooms share them)."""
        d = o.session.duration
        key = (d, tuple(spans))
        if key not in self._starts_in:
            base = self._base_starts(o.session)  # what the key stands for: its duration
            self._starts_in[key] = [s for s in base if _inside(s, d, spans)]
        return self._starts_in[key]

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
        """Rule ``open_hours``: on the grid, inside a day's open hours, clear of breaks.
        The same list for every session of a duration (it is never changed)."""
        if s.duration in self._bases:
            return self._bases[s.duration]
        g = self.p.granularity
        values = []
        for day in self.p.days:
            midnight = day.index * DAY_MINUTES
            first = midnight + -(-(day.open - midnight) // g) * g
            for start in range(first, day.close - s.duration + 1, g):
                if _clear(start, s.duration, day.breaks):
                    values.append(start)
        self._bases[s.duration] = values
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
            self._moderator_variables(o)
            for pid in o.session.people:
                self.appearances.setdefault(pid, []).append((o, None))
            for pid, lit in o.moderators.items():
                self.appearances.setdefault(pid, []).append((o, lit))
        self.rule_placement()
        for o in self.occurrences:
            self.rule_windows(o)
            self.rule_fixed(o)
            self.rule_room_fit(o)
            self.rule_room_availability(o)
            self.rule_person_availability(o)
            self.rule_moderator(o)
            self.rule_exclusive(o)
        for r in self.p.rooms:
            self.rule_room_overlap(r.id)
        for person in self.p.people:
            if person.id in self.appearances:
                self.rule_person_overlap(person.id)
                self.rule_max_per_day(person.id)
        for s in self.p.sessions:
            self.rule_occurrences(s)
            for other, gap, same_day in s.after:
                self.rule_after(s, other, gap, same_day)
            for other in s.not_parallel:
                self.rule_not_parallel(s, other)
        # Rules that are hard or soft as the committee chose: soft, they return terms.
        penalties = [
            *self.rule_attendee_gap(),
            *self.rule_no_all_male_panels(),
            *self.rule_parity_share(),
        ]
        for track in self.p.tracks:
            self.rule_tracks(track)
        if not self.explain:
            self.penalties = [*penalties, *self.soft_rules()]
            self.moves = self._moves() if self.p.previous else []
            self.hints()

    def _room_variables(self, o: Occurrence) -> None:
        s = o.session
        # A room that cannot host the session gets no variable; unless none can: then
        # every room has one, each refused by ``room_fit``, so that lifting that rule
        # gives the session a room rather than no need of one.
        fitting = [r for r in self.p.rooms if self.fits(s, r.id)] if self.prune else []
        for r in fitting or self.p.rooms:
            lit = self.m.new_bool_var(f"in[{o.key},{r.id}]")
            o.rooms[r.id] = lit
            size = s.duration + r.changeover
            o.room_intervals[r.id] = self.m.new_optional_fixed_size_interval_var(
                o.start, size, lit, f"iv[{o.key},{r.id}]"
            )

    # When solving, an occurrence that needs a moderator considers at most this many.
    MODERATOR_CANDIDATES = 6

    def _moderator_variables(self, o: Occurrence) -> None:
        """A literal for each person who may moderate the occurrence (``needs_moderator``):
        ``can_moderate``, not already on it, and (when solving) free at some start."""
        s = o.session
        if not s.needs_moderator:
            return
        candidates = []
        for person in self.p.people:
            if not person.can_moderate or person.id in s.people:
                continue
            if self.prune:
                free = _available(person.available, person.unavailable, s.duration)
                if not any(free(t) for t in o.base):
                    continue
            candidates.append(person)
        if self.prune and len(candidates) > self.MODERATOR_CANDIDATES:
            # Each occurrence keeps a few candidates, women and non-binary people first
            # (they help parity), the others in turn so that the load spreads.
            turn = len(self.moderator_load)
            candidates.sort(key=lambda x: (
                x.gender == "man", x.gender == "undisclosed", self.moderator_load.get(x.id, 0),
                (zlib.crc32(x.id.encode()) + turn) % 7919,
            ))  # fmt: skip
            hinted = set(self.hint_moderators.get((s.id, o.number), ()))
            candidates = [x for i, x in enumerate(candidates)
                          if i < self.MODERATOR_CANDIDATES or x.id in hinted]  # fmt: skip
            for person in candidates:
                self.moderator_load[person.id] = self.moderator_load.get(person.id, 0) + 1
        for person in candidates:
            o.moderators[person.id] = self.m.new_bool_var(f"moderates[{o.key},{person.id}]")

    def present_expr(self, o: Occurrence) -> Any:
        return 1 if o.present is True else o.present

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
        self.restrict_to(o, self.starts_inside(o, spans), self.guard("windows", o.session.id))

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
        for room_id, lit in o.rooms.items():  # (pruned: only when no room fits)
            if not self.fits(o.session, room_id):
                self.enforce(self.m.add(lit == 0), self.guard("room_fit", o.session.id))

    def rule_room_availability(self, o: Occurrence) -> None:
        """``room_availability``: a room hosts sessions only inside its availability."""
        for room_id, lit in o.rooms.items():
            values = self.starts_inside(o, self.p.room(room_id).availability)
            if len(values) < len(o.base):
                guard = self.guard("room_availability", room_id)
                self.restrict_to(o, values, guard, [lit])

    def rule_room_overlap(self, room_id: str) -> None:
        """``room_overlap``: one session at a time (``concurrent`` at most), with the
        room's changeover after each."""
        room = self.p.room(room_id)
        if room.concurrent > 1:
            # Seats bind even a session alone in the hall: one that no room fits keeps
            # every room (pruned models) and may be alone among them.
            self.rule_room_seats(room_id)
        pairs = [(o.room_intervals[room_id]) for o in self.occurrences if room_id in o.rooms]
        if len(pairs) < 2:
            return
        guard = self.guard("room_overlap", room_id)
        if room.concurrent == 1:
            self.enforce(self.m.add_no_overlap(pairs), guard)
        else:
            self.enforce(self.m.add_cumulative(pairs, [1] * len(pairs), room.concurrent), guard)

    def rule_room_seats(self, room_id: str) -> None:
        """``room_seats``: the sessions a hall hosts at once share its seats (and reserve
        chairs): the seats they need add up to no more."""
        room = self.p.room(room_id)
        seated = [o for o in self.occurrences if room_id in o.rooms and o.session.need > 0]
        seats = room.capacity + room.reserve
        if sum(o.session.need for o in seated) <= seats:
            return
        intervals = [
            self.m.new_optional_fixed_size_interval_var(
                o.start, o.session.duration, o.rooms[room_id], f"seats[{o.key},{room_id}]"
            )
            for o in seated
        ]
        demands = [o.session.need for o in seated]
        self.enforce(self.m.add_cumulative(intervals, demands, seats),
                     self.guard("room_seats", room_id))  # fmt: skip

    def rule_person_availability(self, o: Occurrence) -> None:
        """``person_availability``: everyone on stage is available for the whole session,
        the moderator the solver assigns included."""
        d = o.session.duration
        on_stage = [(pid, None) for pid in o.session.people]
        for pid, lit in [*on_stage, *o.moderators.items()]:
            person = self.p.person(pid)
            avail, unavail = person.available, person.unavailable
            if avail is None and not unavail:
                continue
            guard = self.guard("person_availability", pid)
            self.restrict(o, _available(avail, unavail, d), guard, [lit] if lit is not None else [])

    def rule_moderator(self, o: Occurrence) -> None:
        """``moderator``: a session that needs one gets exactly one moderator (whenever it
        runs)."""
        if not o.session.needs_moderator:
            return
        lits = list(o.moderators.values())
        guard = self.guard("moderator", o.session.id)
        if not lits:
            self.impossible(guard + self.both_present(o))
            return
        self.enforce(self.m.add(sum(lits) == self.present_expr(o)), guard)
        if o.present is not True:  # nobody moderates a proposal left out
            for lit in lits:
                self.m.add_implication(lit, o.present)

    def person_occurrences(self, person_id: str) -> list[Occurrence]:
        return [o for o, _ in self.appearances.get(person_id, ())]

    def _on(self, o: Occurrence, lit: Any) -> Any:
        """The literal of an appearance: the moderator's, or the session's presence."""
        return lit if lit is not None else o.present

    def rule_person_overlap(self, person_id: str) -> None:
        """``person_overlap``: nobody is in two sessions at once; between two of their
        sessions they have ``speaker_gap`` minutes, plus the walk between venues."""
        apps = self.appearances.get(person_id, [])
        if len(apps) < 2:
            return
        gap = self.p.speaker_gap
        guard = self.guard("person_overlap", person_id)
        intervals = []
        for o, lit in apps:
            if gap or lit is not None:
                intervals.append(
                    self.m.new_optional_fixed_size_interval_var(
                        o.start,
                        o.session.duration + gap,
                        True if self._on(o, lit) is True else self._on(o, lit),
                        f"busy[{o.key},{person_id}]",
                    )
                )
            else:
                intervals.append(o.interval)
        self.enforce(self.m.add_no_overlap(intervals), guard)
        if any(t > 0 for t in self.p.travel.values()):
            self._travel(person_id, apps, gap, guard)

    def venue_literals(self, o: Occurrence) -> dict[str, Any]:
        """One literal per venue: the occurrence is in one of its rooms."""
        if o.venues is None:
            o.venues = {}
            for v in sorted({r.venue for r in self.p.rooms}):
                lits = [lit for rid, lit in o.rooms.items() if self.p.room(rid).venue == v]
                var = self.m.new_bool_var(f"venue[{o.key},{v}]")
                self.m.add(sum(lits) == var) if lits else self.m.add(var == 0)
                o.venues[v] = var
        return o.venues

    def _travel(
        self, person_id: str, apps: list[tuple[Occurrence, Any]], gap: int, guard: list[Any]
    ) -> None:
        venues = sorted({r.venue for r in self.p.rooms})
        for i, (a, la) in enumerate(apps):
            for b, lb in apps[i + 1 :]:
                if a is b:
                    continue
                at_a, at_b = self.venue_literals(a), self.venue_literals(b)
                on = [x for x in (la, lb) if x is not None]
                a_first = self.m.new_bool_var(f"first[{a.key},{b.key},{person_id}]")
                for va in venues:
                    for vb in venues:
                        t = self.p.travel_minutes(va, vb)
                        if t <= 0:
                            continue
                        self.m.add(a.end + gap + t <= b.start).only_enforce_if(
                            [a_first, at_a[va], at_b[vb], *on, *guard]
                        )
                        self.m.add(b.end + gap + t <= a.start).only_enforce_if(
                            [~a_first, at_a[va], at_b[vb], *on, *guard]
                        )

    def rule_max_per_day(self, person_id: str) -> None:
        """``max_per_day``: a person appears in at most that many sessions a day."""
        cap = self.p.person(person_id).max_per_day
        apps = self.appearances.get(person_id, [])
        if cap is None or len(apps) <= cap:
            return
        guard = self.guard("max_per_day", person_id)
        for day in self.p.days:
            terms = []
            for o, lit in apps:
                today = self.on_day(o, day.index)
                on = self._on(o, lit)
                if on is True:
                    terms.append(today)
                else:
                    both = self.m.new_bool_var(f"on_day_present[{o.key},{person_id},{day.index}]")
                    self.m.add_multiplication_equality(both, [today, on])
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

    def rule_attendee_gap(self) -> Terms:
        """``attendee_gap``: of two sessions sharing an audience, in different rooms, the
        later does not start within ``attendee_gap`` minutes (plus the walk between their
        venues) after the earlier ends; they may run in parallel."""
        gap = self.p.attendee_gap
        if gap <= 0:
            return []
        hard = self.p.attendee_gap_hard
        if not hard and self.explain:
            return []
        terms: Terms = []
        weight = self.p.weights.get("attendee_gap", 0)
        guard = self.guard("attendee_gap", "*") if hard else []
        travels = any(t > 0 for t in self.p.travel.values())
        # Two runs of one session too: the validator and the checker read the rule so (a
        # rotation's next run in another room leaves its audience the same time to move).
        for a, b in itertools.combinations(self.occurrences, 2):
            if not (a.session.audiences & b.session.audiences):
                continue
            if not self._may_share_a_day(a, b):
                continue
            key = f"{a.key},{b.key}"
            a_first, b_first, parallel = (self.m.new_bool_var(f"{n}[{key}]")
                                          for n in ("gap_ab", "gap_ba", "parallel"))  # fmt: skip
            self.m.add(b.start >= a.end + gap).only_enforce_if(a_first)
            self.m.add(a.start >= b.end + gap).only_enforce_if(b_first)
            self.m.add(a.start < b.end).only_enforce_if(parallel)
            self.m.add(b.start < a.end).only_enforce_if(parallel)
            clause = [a_first, b_first, parallel]
            for room_id in a.rooms.keys() & b.rooms.keys():
                together = self.m.new_bool_var(f"same_room[{key},{room_id}]")
                self.m.add_implication(together, a.rooms[room_id])
                self.m.add_implication(together, b.rooms[room_id])
                clause.append(together)
            if not hard:
                missed = self.m.new_bool_var(f"no_time_to_move[{key}]")
                clause.append(missed)
                terms.append((missed, weight))
            self.enforce(self.m.add_bool_or(clause), [*guard, *self.both_present(a, b)])
            if travels:
                at_a, at_b = self.venue_literals(a), self.venue_literals(b)
                for va in at_a:
                    for vb in at_b:
                        t = self.p.travel_minutes(va, vb)
                        if t > 0:
                            self.m.add(b.start >= a.end + gap + t).only_enforce_if(
                                [a_first, at_a[va], at_b[vb]]
                            )
                            self.m.add(a.start >= b.end + gap + t).only_enforce_if(
                                [b_first, at_a[va], at_b[vb]]
                            )
        return terms

    def _may_share_a_day(self, a: Occurrence, b: Occurrence) -> bool:
        return bool(self._days_of(a) & self._days_of(b))

    def _days_of(self, o: Occurrence) -> frozenset[int]:
        key = id(o.base)
        if key not in self._days:
            self._days[key] = frozenset(t // DAY_MINUTES for t in o.base)
        return self._days[key]

    def rule_no_all_male_panels(self) -> Terms:
        """``no_all_male_panels``: a session with two or more people on stage, those the
        committee named all men, gets a moderator who is not a man. (Someone undisclosed
        among them leaves parity not established: reported, not refused.)"""
        par = self.p.parity
        if not par.no_all_male_panels:
            return []
        terms: Terms = []
        for o in self.occurrences:
            s = o.session
            genders = [self.p.person(pid).gender for pid in s.people]
            if len(genders) + s.needs_moderator < 2 or any(g != "man" for g in genders):
                continue
            saving = [
                lit for pid, lit in o.moderators.items() if self.p.person(pid).gender != "man"
            ]
            if par.hard:
                guard = self.guard("no_all_male_panels", s.id)
                if saving:
                    self.enforce(self.m.add(sum(saving) >= self.present_expr(o)), guard)
                else:
                    self.impossible(guard + self.both_present(o))
            elif not self.explain:
                panel = self.m.new_bool_var(f"all_male[{o.key}]")
                self.m.add(panel + sum(saving) >= self.present_expr(o))
                terms.append((panel, self.p.weights["all_male_panels"]))
        return terms

    def rule_parity_share(self) -> Terms:
        """``parity_share``: women are at least ``women_min_share`` of the distinct women
        and men on the scheduled programme, assigned moderators included."""
        share = self.p.parity.women_min_share
        if share <= 0:
            return []
        women: list[Any] = []
        men: list[Any] = []
        for pid, apps in self.appearances.items():
            gender = self.p.person(pid).gender
            if gender not in ("woman", "man"):
                continue
            lits = list({id(x): x for x in (self._on(o, lit) for o, lit in apps)}.values())
            if any(x is True for x in lits):
                on: Any = 1
            else:
                on = self.m.new_bool_var(f"on_programme[{pid}]")
                self.m.add_max_equality(on, lits)
            (women if gender == "woman" else men).append(on)
        balance = (1000 - share) * sum(women) - share * sum(men)
        if self.p.parity.hard:
            self.enforce(self.m.add(balance >= 0), self.guard("parity_share", "*"))
            return []
        if self.explain:
            return []
        short = self.m.new_int_var(0, len(women) + len(men), "parity_shortfall")
        self.m.add(1000 * short + balance >= 0)
        return [(short, self.p.weights["parity_shortfall"])]

    def _running(self, o: Occurrence, moment: int) -> Any | None:
        """A literal that implies the occurrence runs at ``moment``; None if it cannot."""
        d = o.session.duration
        starts = [s for s in o.base if s <= moment < s + d]
        if not starts:
            return None
        lit = self.m.new_bool_var(f"runs[{o.key},{moment}]")
        self.m.add_linear_expression_in_domain(
            o.start, cp_model.Domain.from_values(starts)
        ).only_enforce_if(lit)
        if o.present is not True:
            self.m.add_implication(lit, o.present)
        self.under_way.append((o, lit, moment))
        return lit

    def _moments(self, spans: Sequence[Span]) -> list[int]:
        """The moments at which the sessions running may change inside ``spans``: grid
        points and session ends, while the edition is open and not on a break."""
        points = set()
        for a, b in spans:
            points.add(a)
            points.update(range(a - a % self.p.granularity, b, self.p.granularity))
        for day in self.p.days:
            points.add(day.open)
            points.update(b for _, b in day.breaks)
        for o in self.occurrences:
            points.update(s + o.session.duration for s in o.base)
        return [
            t for t in sorted(points) if any(a <= t < b for a, b in spans) and self.p.is_open(t)
        ]

    def rule_tracks(self, track: Any) -> None:
        """``tracks``: during the track's windows, between ``min_parallel`` and
        ``max_parallel`` sessions for its audience run at every moment (open hours
        outside breaks)."""
        occs = [o for o in self.occurrences if track.audience in o.session.audiences]
        guard = self.guard("tracks", track.audience)
        cap = track.max_parallel
        if cap is not None and len(occs) > cap:
            n = len(occs)
            fillers = [
                self.m.new_fixed_size_interval_var(a, b - a, f"track_fill[{track.audience},{a}]")
                for a, b in track.spans
            ]
            intervals = [o.interval for o in occs] + fillers
            demands = [1] * n + [n - cap] * len(fillers)
            self.enforce(self.m.add_cumulative(intervals, demands, n), guard)
        if track.min_parallel > 0:
            for moment in self._moments(track.spans):
                lits = [x for o in occs if (x := self._running(o, moment)) is not None]
                if len(lits) < track.min_parallel:
                    self.impossible(guard)
                    return
                self.enforce(self.m.add(sum(lits) >= track.min_parallel), guard)

    # -- soft rules ------------------------------------------------------------------

    def soft_rules(self) -> Terms:
        """The objective's terms of the rules that are always soft."""
        w = self.p.weights
        terms: Terms = []
        for o in self.occurrences:
            terms += self._room_size(o)
            terms += self._preferred(o)
            if o.present is not True and o.number == 1:
                terms.append((~o.present, w["proposal_priority"] * o.session.priority))
            if w["late_finish"]:
                terms += self._late_finish(o, w["late_finish"])
        terms += self._pairs_apart()
        if w["speaker_idle"]:
            terms += self._speaker_idle(w["speaker_idle"])
        if w["venue_moves"] and len({r.venue for r in self.p.rooms}) > 1:
            terms += self._venue_moves(w["venue_moves"])
        return terms

    def _room_size(self, o: Occurrence) -> Terms:
        """Reserve chairs used, per seat; empty seats, per ten."""
        w, s = self.p.weights, o.session
        terms: Terms = []
        for room_id, lit in o.rooms.items():
            r = self.p.room(room_id)
            reserve_used = max(0, s.need - r.capacity)
            if reserve_used:
                terms.append((lit, w["reserve_seats"] * reserve_used))
            if s.need and r.capacity > s.need:
                empty = (r.capacity - s.need) // 10
                if empty:
                    terms.append((lit, w["oversized_room"] * empty))
        return terms

    def _preferred(self, o: Occurrence) -> Terms:
        """The session's preferred windows, and each of its people's, missed."""
        s = o.session
        spans = [list(s.preferred)] if s.preferred else []
        spans += [list(self.p.person(pid).preferred) for pid in s.people
                  if self.p.person(pid).preferred]  # fmt: skip
        terms: Terms = []
        for pref in spans:
            hit = self.m.new_bool_var(f"preferred[{o.key}]")
            self.restrict_to(o, self.starts_inside(o, pref), [], [hit])
            terms.append((~hit, self.p.weights["preferred_windows"]))
        return terms

    LATE = 60  # minutes: a session ending in the last hour of its day finishes late

    def _late_finish(self, o: Occurrence, weight: int) -> Terms:
        d = o.session.duration
        early = [s for s in o.base if s + d <= self.p.day_of(s).close - self.LATE]
        if len(early) == len(o.base):
            return []
        on_time = self.m.new_bool_var(f"on_time[{o.key}]")
        if early:
            self.m.add_linear_expression_in_domain(
                o.start, cp_model.Domain.from_values(early)
            ).only_enforce_if(on_time)
        else:
            self.m.add(on_time == 0)
        return [(~on_time, weight)]

    def _pairs_apart(self) -> Terms:
        terms: Terms = []
        for (a_id, b_id), weight in pair_weights(self.p).items():
            a, b = self.by_session[a_id][0], self.by_session[b_id][0]
            sa, sb = a.session, b.session
            if None not in (sa.fixed_day, sb.fixed_day) and sa.fixed_day != sb.fixed_day:
                continue
            overlap = self.m.new_bool_var(f"overlap[{a.key},{b.key}]")
            a_first = self.m.new_bool_var(f"before[{a.key},{b.key}]")
            both = self.both_present(a, b)
            self.m.add(a.end <= b.start).only_enforce_if([~overlap, a_first, *both])
            self.m.add(b.end <= a.start).only_enforce_if([~overlap, ~a_first, *both])
            terms.append((overlap, weight))
        return terms

    def _speaker_idle(self, weight: int) -> Terms:
        """Idle time between a person's first and last session of a day, per started
        10 minutes, for the sessions they are named on (not proposals)."""
        terms: Terms = []
        for pid, apps in self.appearances.items():
            occs = [o for o, lit in apps if lit is None and o.present is True]
            if len(occs) < 2:
                continue
            for day in self.p.days:
                can = [o for o in occs if any(day.open <= s < day.close for s in o.base)]
                if len(can) < 2:
                    continue
                lo = self.m.new_int_var(day.open, day.close, f"first[{pid},{day.index}]")
                hi = self.m.new_int_var(day.open, day.close, f"last[{pid},{day.index}]")
                busy = []
                for o in can:
                    today = self.on_day(o, day.index)
                    self.m.add(lo <= o.start).only_enforce_if(today)
                    self.m.add(hi >= o.end).only_enforce_if(today)
                    busy.append(o.session.duration * today)
                idle = self.m.new_int_var(0, (day.close - day.open) // 10 + 1, f"idle[{pid}]")
                self.m.add(10 * idle >= hi - lo - sum(busy))
                terms.append((idle, weight))
        return terms

    def _venue_moves(self, weight: int) -> Terms:
        """A person's two sessions on one day in different venues."""
        terms: Terms = []
        for pid, apps in self.appearances.items():
            occs = [o for o, lit in apps if lit is None and o.present is True]
            for a, b in itertools.combinations(occs, 2):
                if a is b:
                    continue
                va, vb = self.venue_literals(a), self.venue_literals(b)
                same_day = self.m.new_bool_var(f"same_day[{a.key},{b.key}]")
                self.m.add(self.day_var(a) == self.day_var(b)).only_enforce_if(same_day)
                self.m.add(self.day_var(a) != self.day_var(b)).only_enforce_if(~same_day)
                moved = self.m.new_bool_var(f"walks[{pid},{a.key},{b.key}]")
                for v in va:
                    self.m.add(moved >= va[v] - vb[v] + same_day - 1)
                terms.append((moved, weight))
        return terms

    def _moves(self) -> Terms:
        """Re-planning: every occurrence away from its previous start, or its previous
        room, and every proposal dropped, costs ``moved_time`` / ``moved_room``."""
        w = self.p.weights
        terms: Terms = []
        for o in self.occurrences:
            previous = self.p.previous.get((o.session.id, o.number))
            if previous is None:
                continue
            start, room = previous
            stays = self.m.new_bool_var(f"stays[{o.key}]")
            if start in o.base:
                self.m.add(o.start == start).only_enforce_if(stays)
            else:
                self.m.add(stays == 0)
            if o.present is not True:
                self.m.add_implication(stays, o.present)
            terms.append((~stays, w["moved_time"]))
            lit = o.rooms.get(room)
            terms.append((~lit if lit is not None else 1, w["moved_room"]))
        return terms

    def hints(self) -> None:
        """Start the search from a schedule: a previous one, or a first-fit construction."""
        for o in self.occurrences:
            if o.present is not True and o.number == 1:  # one literal for all the runs
                self.m.add_hint(o.present, (o.session.id, 1) in self.hint)
            previous = self.hint.get((o.session.id, o.number))
            if previous is None:
                continue
            start, room = previous
            self.m.add_hint(o.start, start)
            for room_id, lit in o.rooms.items():
                self.m.add_hint(lit, room_id == room)
            chosen = self.hint_moderators.get((o.session.id, o.number), ())
            for pid, lit in o.moderators.items():
                self.m.add_hint(lit, pid in chosen)

    def move_cost(self) -> Any:
        return sum(c * lit for lit, c in self.moves)

    def objective(self, *, moves_only: bool = False) -> None:
        """Minimise the penalties (and the cost of moves, when re-planning); with
        ``moves_only``, the cost of moves alone."""
        terms = self.moves if moves_only else [*self.penalties, *self.moves]
        self.m.minimize(sum(c * lit for lit, c in terms))
