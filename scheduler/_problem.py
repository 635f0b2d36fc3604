"""The solver-neutral scheduling problem, derived from an edition.

Times are integer minutes on one axis: ``day_index * 1440 + minute of the day``, so
that one interval per session occurrence can be compared with any other across days.
Every value here is already resolved (defaults applied, windows on the axis); a solver
reads nothing else. The solver's answer comes back as a ``SolveResult``.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from creneau.scheduler._metrics import programme_metrics
from creneau.scheduler._schedule import Explained, Placement, ScheduleDocument, Unscheduled
from creneau.scheduler._validation import WEIGHT_DEFAULTS
from creneau.scheduler._values import EditionSnapshot, Session, Window, minutes

__all__ = [
    "DAY_MINUTES",
    "Assignment",
    "Conflict",
    "DaySpec",
    "ParitySpec",
    "PersonSpec",
    "RoomSpec",
    "SchedulingProblem",
    "SessionSpec",
    "SolveParameters",
    "SolveResult",
    "Span",
    "TrackSpec",
    "derive_problem",
    "schedule_document",
    "with_previous",
]

DAY_MINUTES = 1440
Span = tuple[int, int]  # [start, end) on the axis


@attrs.frozen
class DaySpec:
    index: int
    day: dt.date
    open: int  # on the axis
    close: int
    breaks: tuple[Span, ...]


@attrs.frozen
class RoomSpec:
    id: str
    name: str
    venue: str
    capacity: int
    reserve: int
    features: frozenset[str]
    availability: tuple[Span, ...]  # on the axis; the open hours when the edition says none
    concurrent: int
    changeover: int


@attrs.frozen
class PersonSpec:
    id: str
    name: str
    gender: str
    available: tuple[Span, ...] | None  # None: always
    unavailable: tuple[Span, ...]
    preferred: tuple[Span, ...]
    max_per_day: int | None
    can_moderate: bool


@attrs.frozen
class SessionSpec:
    id: str
    title: str
    format: str
    duration: int
    occurrences: int
    audiences: frozenset[str]
    themes: frozenset[str]
    people: tuple[str, ...]  # speakers and fixed moderators: everyone on stage
    needs_moderator: bool
    requires: frozenset[str]
    rooms: frozenset[str] | None
    windows: tuple[Span, ...] | None
    fixed_day: int | None
    fixed_start: int | None  # minute of the day
    fixed_room: str | None
    exclusive: bool
    optional: bool
    priority: int
    after: tuple[tuple[str, int, bool], ...]  # (session, min_gap, same_day)
    not_parallel: tuple[str, ...]
    preferred: tuple[Span, ...]
    need: int  # seats it needs: max(attendance, capacity)


@attrs.frozen
class ParitySpec:
    women_min_share: int  # per mille, rounded up; 0: off
    no_all_male_panels: bool
    hard: bool


@attrs.frozen
class TrackSpec:
    audience: str
    spans: tuple[Span, ...]  # on the axis
    min_parallel: int
    max_parallel: int | None


@attrs.frozen
class SchedulingProblem:
    edition: str
    granularity: int
    days: tuple[DaySpec, ...]
    rooms: tuple[RoomSpec, ...]
    people: tuple[PersonSpec, ...]
    sessions: tuple[SessionSpec, ...]
    speaker_gap: int
    travel: dict[tuple[str, str], int]  # both directions
    weights: dict[str, int]
    # Minutes an audience needs between two sessions in different rooms; hard unless
    # ``weights`` has an ``attendee_gap`` weight.
    attendee_gap: int = 0
    parity: ParitySpec = ParitySpec(0, False, True)
    tracks: tuple[TrackSpec, ...] = ()
    # How many registered people chose both sessions of a pair (ids in order).
    co_choices: dict[tuple[str, str], int] = attrs.field(factory=dict)
    # A schedule to start from: (session, occurrence) -> (start on the axis, room).
    previous: dict[tuple[str, int], tuple[int, str]] = attrs.field(factory=dict)
    # The moderators it assigned: (session, occurrence) -> person ids.
    previous_moderators: dict[tuple[str, int], tuple[str, ...]] = attrs.field(factory=dict)

    @functools.cached_property
    def _index(self) -> tuple[dict[str, SessionSpec], dict[str, RoomSpec], dict[str, PersonSpec]]:
        return (
            {s.id: s for s in self.sessions},
            {r.id: r for r in self.rooms},
            {p.id: p for p in self.people},
        )

    def session(self, session_id: str) -> SessionSpec:
        return self._index[0][session_id]

    def room(self, room_id: str) -> RoomSpec:
        return self._index[1][room_id]

    def person(self, person_id: str) -> PersonSpec:
        return self._index[2][person_id]

    @property
    def attendee_gap_hard(self) -> bool:
        return "attendee_gap" not in self.weights

    def travel_minutes(self, a: str, b: str) -> int:
        return 0 if a == b else self.travel.get((a, b), 0)

    def day_of(self, moment: int) -> DaySpec:
        return self.days[moment // DAY_MINUTES]

    def is_open(self, moment: int) -> bool:
        """Whether sessions can run at ``moment``: a day's open hours, not a break."""
        if not 0 <= moment // DAY_MINUTES < len(self.days):
            return False
        day = self.days[moment // DAY_MINUTES]
        return day.open <= moment < day.close and not any(a <= moment < b for a, b in day.breaks)


@attrs.frozen
class SolveParameters:
    time_limit: float = 30.0
    workers: int = 2
    seed: int = 0
    explain: bool = True  # look for the conflicting rules when no schedule exists
    # "neighbourhoods": a first programme built, then improved part by part, then CP-SAT
    # on the whole model from it; "whole": CP-SAT on the whole model from the start;
    # "auto": the whole model for small editions (CP-SAT proves them), else neighbourhoods.
    search: str = attrs.field(default="auto", validator=attrs.validators.in_(
        ("auto", "neighbourhoods", "whole")))  # fmt: skip


@attrs.frozen
class Assignment:
    session: str
    occurrence: int  # from 1
    room: str
    start: int  # on the axis
    end: int
    moderators: tuple[str, ...] = ()


@attrs.frozen
class Conflict:
    """One rule found to take part in making the edition impossible: the rule's id (as
    the solver's functions are named), the session, room or person it bears on, and a
    code with its data that the adapters word for a committee."""

    rule: str
    subject: str
    code: str = ""
    params: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)


@attrs.frozen
class Progress:
    """A better schedule found during a solve: when (seconds since it started), its
    objective, the best bound proven so far, and its assignments."""

    elapsed: float
    objective: float | None
    bound: float | None
    assignments: tuple[Assignment, ...] = ()

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)


@attrs.frozen
class SolveResult:
    status: str  # optimal, feasible, infeasible, unknown
    assignments: tuple[Assignment, ...] = ()
    # (session, reason, rules): "not selected" (not examined), "worth less" (it would fit,
    # but is worth less than it costs) or "left out" (the rules it would break).
    unscheduled: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    objective: float | None = None
    bound: float | None = None
    wall_time: float = 0.0
    first_solution_time: float | None = None
    conflicts: tuple[Conflict, ...] = ()
    # Re-planning: seconds until the fewest changes were found (and whether proven).
    fewest_changes_time: float | None = None
    fewest_changes_proven: bool = False
    interrupted: bool = False  # stopped before its time limit, on request


# -- derivation ------------------------------------------------------------------------

IMPLICIT_VENUE = ""


def _axis(day_index: dict[dt.date, int], windows: Sequence[Window]) -> tuple[Span, ...]:
    return tuple(
        sorted(
            (day_index[w.day] * DAY_MINUTES + minutes(w.start),
             day_index[w.day] * DAY_MINUTES + minutes(w.end))
            for w in windows
        )
    )  # fmt: skip


def _resolved(flag: bool | None) -> bool:
    # Snapshots resolve every session's defaults (EditionSnapshot.__post_init__); a None
    # here would be a default read as false, the fault this guards against.
    if flag is None:
        raise ValueError("an unresolved session reached the problem")
    return flag


def _demand(s: Session, rooms: Sequence[RoomSpec], demand: Mapping[str, int]) -> int:
    """Seats the people holding or waiting for places call for, at most what the largest
    room the session may use can give (more would make every room too small); none when
    its room is pinned."""
    if s.fixed is not None and s.fixed.room is not None:
        return 0
    largest = max((r.capacity + r.reserve for r in rooms
                   if set(s.requires) <= r.features and (s.rooms is None or r.id in s.rooms)),
                  default=0)  # fmt: skip
    return min(demand.get(s.id, 0), largest)


def derive_problem(
    snap: EditionSnapshot, demand: Mapping[str, int] | None = None
) -> SchedulingProblem:
    """The problem an edition poses, every default resolved.

    ``demand``: people holding or waiting for a place, by session. A session's seats
    needed become the larger of its expected attendance and its demand, unless the
    committee pinned its room.
    """
    demand = demand or {}
    day_index = {d.day: i for i, d in enumerate(snap.days)}
    days = tuple(
        DaySpec(
            index=i, day=d.day, open=i * DAY_MINUTES + minutes(d.open),
            close=i * DAY_MINUTES + minutes(d.close),
            breaks=tuple(sorted((i * DAY_MINUTES + minutes(b.start),
                                 i * DAY_MINUTES + minutes(b.end)) for b in d.breaks)),
        )
        for i, d in enumerate(snap.days)
    )  # fmt: skip
    open_hours = tuple((d.open, d.close) for d in days)
    pol = snap.policies
    rooms = tuple(
        RoomSpec(
            id=r.id, name=r.name or r.id, venue=r.venue or IMPLICIT_VENUE, capacity=r.capacity,
            reserve=r.reserve, features=frozenset(r.features),
            availability=open_hours if r.availability is None
            else _axis(day_index, r.availability),
            concurrent=r.concurrent,
            changeover=pol.changeover if r.changeover is None else r.changeover,
        )
        for r in snap.rooms
    )  # fmt: skip
    people = tuple(
        PersonSpec(
            id=p.id, name=p.name or p.id, gender=p.gender,
            available=None if p.available is None else _axis(day_index, p.available),
            unavailable=_axis(day_index, p.unavailable), preferred=_axis(day_index, p.preferred),
            max_per_day=p.max_per_day, can_moderate=p.can_moderate,
        )
        for p in snap.people
    )  # fmt: skip
    sessions = []
    for s in snap.sessions:
        fixed = s.fixed
        sessions.append(
            SessionSpec(
                id=s.id, title=s.title or s.id, format=s.format, duration=s.duration,
                occurrences=s.occurrences, audiences=frozenset(s.audiences or snap.audiences),
                themes=frozenset(s.themes),
                people=tuple(dict.fromkeys((*s.speakers, *s.moderators))),
                needs_moderator=s.needs_moderator,
                requires=frozenset(s.requires),
                rooms=None if s.rooms is None else frozenset(s.rooms),
                windows=None if s.windows is None else _axis(day_index, s.windows),
                fixed_day=day_index[fixed.day] if fixed and fixed.day else None,
                fixed_start=minutes(fixed.start) if fixed and fixed.start else None,
                fixed_room=fixed.room if fixed else None,
                exclusive=_resolved(s.exclusive), optional=s.optional, priority=s.priority,
                after=tuple((a.session, a.min_gap, a.same_day) for a in s.after),
                not_parallel=s.not_parallel, preferred=_axis(day_index, s.preferred),
                need=max(s.attendance, s.capacity or 0, _demand(s, rooms, demand)),
            )
        )  # fmt: skip
    travel: dict[tuple[str, str], int] = {}
    for t in snap.travel:
        travel[(t.from_, t.to)] = travel[(t.to, t.from_)] = t.minutes
    parity = ParitySpec(
        # Rounded up, so that meeting it meets the share the committee wrote.
        women_min_share=math.ceil(pol.parity.women_min_share * 1000 - 1e-9),
        no_all_male_panels=pol.parity.no_all_male_panels,
        hard=pol.parity.hard,
    )
    tracks = tuple(
        TrackSpec(audience=t.audience, spans=_merged(_axis(day_index, t.windows)),
                  min_parallel=t.min_parallel, max_parallel=t.max_parallel)
        for t in pol.tracks
    )  # fmt: skip
    return SchedulingProblem(
        edition=snap.id, granularity=snap.granularity, days=days, rooms=rooms, people=people,
        sessions=tuple(sessions), speaker_gap=pol.speaker_gap, travel=travel,
        weights={**WEIGHT_DEFAULTS, **pol.weights}, attendee_gap=pol.attendee_gap,
        parity=parity, tracks=tracks,
        co_choices=co_choices(snap),
    )  # fmt: skip


def _merged(spans: Sequence[Span]) -> tuple[Span, ...]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


def co_choices(snap: EditionSnapshot) -> dict[tuple[str, str], int]:
    """For each pair of sessions (ids in order), how many registered people chose both."""
    known = {s.id for s in snap.sessions}
    pairs: Counter[tuple[str, str]] = Counter()
    for reg in snap.registrations:
        chosen = sorted({s for s in reg.sessions if s in known})
        pairs.update(itertools.combinations(chosen, 2))
    return dict(pairs)


# -- the schedule document of a result ----------------------------------------------


def _clock(moment: int) -> str:
    m = moment % DAY_MINUTES
    return f"{m // 60:02d}:{m % 60:02d}"


def _end_clock(start: int, end: int) -> str:
    # A session that ends at midnight ends at "24:00" of its own day.
    return (
        "24:00"
        if end // DAY_MINUTES > start // DAY_MINUTES and end % DAY_MINUTES == 0
        else _clock(end)
    )


def placements_of(
    problem: SchedulingProblem, assignments: Sequence[Assignment]
) -> tuple[Placement, ...]:
    """Assignments on the problem's axis of minutes, as placements on the edition's days."""
    return tuple(
        Placement(
            session=a.session, occurrence=a.occurrence, room=a.room,
            day=problem.days[a.start // DAY_MINUTES].day, start=_clock(a.start),
            end=_end_clock(a.start, a.end), moderators=a.moderators,
        )
        for a in assignments
    )  # fmt: skip


def schedule_document(
    problem: SchedulingProblem,
    result: SolveResult,
    params: SolveParameters,
    stream_version: int | None = None,
    edition: EditionSnapshot | None = None,
) -> ScheduleDocument:
    """The schedule document of a result; with the ``edition`` the problem came from,
    its metrics too."""
    placements = placements_of(problem, result.assignments)
    return ScheduleDocument(
        edition=problem.edition,
        stream_version=stream_version,
        status=result.status,
        objective=result.objective,
        bound=result.bound,
        solve_seconds=round(result.wall_time, 3),
        assignments=placements,
        unscheduled=tuple(Unscheduled(session=s, reason=r, rules=rules)
                          for s, r, rules in result.unscheduled),
        first_solution_seconds=None if result.first_solution_time is None
        else round(result.first_solution_time, 3),
        interrupted=result.interrupted,
        explanation=tuple(Explained(rule=c.rule, subject=c.subject, code=c.code,
                                    params=dict(c.params)) for c in result.conflicts),
        metrics=programme_metrics(edition, placements) if edition is not None and placements
        else {},
        parameters={"seed": params.seed, "workers": params.workers,
                    "time_limit": params.time_limit},
    )  # fmt: skip


def with_previous(problem: SchedulingProblem, placements: Sequence[Placement]) -> SchedulingProblem:
    """The problem with a schedule to start from, and to change as little as the rules
    allow; placements of sessions, or on days, the edition no longer has are left out."""
    day_index = {d.day: d.index for d in problem.days}
    known = {s.id for s in problem.sessions}
    kept = [p for p in placements if p.day in day_index and p.session in known]
    previous = {
        (p.session, p.occurrence): (day_index[p.day] * DAY_MINUTES + minutes(p.start), p.room)
        for p in kept
    }
    moderators = {(p.session, p.occurrence): p.moderators for p in kept if p.moderators}
    return attrs.evolve(problem, previous=previous, previous_moderators=moderators)
