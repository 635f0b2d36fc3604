"""Every rule an edition must keep to be stored, checked on a whole snapshot.

Problems carry the path of the offending value in the document's terms
(``sessions[12].speakers[1]``), in document order, all of them at once so that a
committee fixes a file in one pass.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from scheduler._errors import Problem
from scheduler._events import (
    DocumentImported,
    EditionDefined,
    Event,
    PersonAdded,
    PersonAvailabilitySet,
    PersonRemoved,
    PersonUpdated,
    PoliciesChanged,
    RegistrationRecorded,
    RegistrationRemoved,
    RoomAdded,
    RoomRemoved,
    RoomUpdated,
    SessionAdded,
    SessionPinned,
    SessionRemoved,
    SessionUnpinned,
    SessionUpdated,
)
from scheduler._values import (
    EditionSnapshot,
    Person,
    Registration,
    Room,
    Session,
    Window,
    minutes,
)

T = TypeVar("T")

__all__ = ["WEIGHT_DEFAULTS", "is_clock", "validate_change", "validate_snapshot"]

_CLOCK = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")

# Soft-objective weights an edition may set in ``policies.weights``, with their
# defaults. The solver documents what each one penalises.
WEIGHT_DEFAULTS: dict[str, int] = {
    "reserve_seats": 1,
    "preferred_windows": 20,
    "oversized_room": 1,
    "attendee_conflicts": 10,
    "same_theme_parallel": 5,
    "speaker_idle": 1,
    "venue_moves": 5,
    "late_finish": 1,
    "parity_shortfall": 100,
    "all_male_panels": 200,
    "proposal_priority": 50,
    "moved_time": 30,
    "moved_room": 10,
}


def is_clock(text: str) -> bool:
    return _CLOCK.fullmatch(text) is not None


class _Checker:
    def __init__(self, snap: EditionSnapshot) -> None:
        self.snap = snap
        self.problems: list[Problem] = []
        self.days = {d.day for d in snap.days}

    def bad(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def clock(self, path: str, text: str) -> bool:
        if is_clock(text):
            return True
        self.bad(path, f'"{text}" is not a time of day written "HH:MM" (00:00 to 24:00)')
        return False

    def span(self, path: str, start: str, end: str) -> bool:
        ok = self.clock(f"{path}.start", start) & self.clock(f"{path}.end", end)
        if ok and minutes(start) >= minutes(end):
            self.bad(path, f"empty window: start {start} is not before end {end}")
            return False
        return ok

    def windows(self, path: str, windows: Sequence[Window]) -> None:
        good: list[tuple[int, Window]] = []
        for i, w in enumerate(windows):
            p = f"{path}[{i}]"
            day_ok = w.day in self.days
            if not day_ok:
                self.bad(f"{p}.day", f"{w.day.isoformat()} is not a day of the edition")
            if self.span(p, w.start, w.end) and day_ok:
                good.append((i, w))
        self.no_overlap(path, [(i, w.day, w.start, w.end) for i, w in good])

    def no_overlap(self, path: str, spans: Sequence[tuple[int, dt.date | None, str, str]]) -> None:
        ordered = sorted(spans, key=lambda s: (s[1] or dt.date.min, minutes(s[2])))
        for (_, d1, s1, e1), (j, d2, s2, e2) in itertools.pairwise(ordered):
            if d1 == d2 and minutes(s2) < minutes(e1):
                self.bad(f"{path}[{j}]", f"{s2}–{e2} overlaps {s1}–{e1} on the same day")

    def unique_ids(self, path: str, ids: Iterable[str], what: str) -> None:
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if not ident:
                self.bad(f"{path}[{i}].id", f"{what} id is empty")
            elif ident in seen:
                self.bad(f"{path}[{i}].id", f'duplicate {what} id "{ident}"')
            seen.add(ident)

    def at_least(self, path: str, value: int | float, low: int | float) -> None:
        if value < low:
            self.bad(path, f"{value} is below the lowest allowed value, {low}")

    def members(self, path: str, values: Sequence[str], known: Iterable[str], what: str) -> None:
        known_set = set(known)
        seen: set[str] = set()
        for i, v in enumerate(values):
            if v not in known_set:
                self.bad(f"{path}[{i}]", f'unknown {what} "{v}"')
            elif v in seen:
                self.bad(f"{path}[{i}]", f'{what} "{v}" is listed twice')
            seen.add(v)

    # -- the sections of an edition ---------------------------------------------

    def edition(self) -> None:
        s = self.snap
        if not s.id:
            self.bad("id", "the edition id is empty")
        try:
            zoneinfo.ZoneInfo(s.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.bad("timezone", f'unknown time zone "{s.timezone}"')
        self.at_least("granularity", s.granularity, 1)
        if not s.days:
            self.bad("days", "an edition needs at least one day")
        seen_days: set[dt.date] = set()
        for i, d in enumerate(s.days):
            p = f"days[{i}]"
            if d.day in seen_days:
                self.bad(f"{p}.day", f"{d.day.isoformat()} is listed twice")
            seen_days.add(d.day)
            if not (self.clock(f"{p}.open", d.open) & self.clock(f"{p}.close", d.close)):
                continue
            if minutes(d.open) >= minutes(d.close):
                self.bad(p, f"the day opens at {d.open}, not before it closes at {d.close}")
                continue
            good = []
            for j, b in enumerate(d.breaks):
                bp = f"{p}.breaks[{j}]"
                if not self.span(bp, b.start, b.end):
                    continue
                if minutes(b.start) < minutes(d.open) or minutes(b.end) > minutes(d.close):
                    self.bad(
                        bp, f"break {b.start}–{b.end} is outside open hours {d.open}–{d.close}"
                    )
                good.append((j, None, b.start, b.end))
            self.no_overlap(f"{p}.breaks", good)
        if not s.audiences:
            self.bad("audiences", "an edition needs at least one audience")
        self.members("audiences", s.audiences, s.audiences, "audience")
        self.members("themes", s.themes, s.themes, "theme")
        self.unique_ids("venues", (v.id for v in s.venues), "venue")
        venue_ids = {v.id for v in s.venues}
        pairs: set[frozenset[str]] = set()
        for i, t in enumerate(s.travel):
            p = f"travel[{i}]"
            for end, name in (("from", t.from_), ("to", t.to)):
                if name not in venue_ids:
                    self.bad(f"{p}.{end}", f'unknown venue "{name}"')
            if t.from_ == t.to:
                self.bad(p, f'travel from "{t.from_}" to itself')
            self.at_least(f"{p}.minutes", t.minutes, 0)
            pair = frozenset((t.from_, t.to))
            if pair in pairs:
                self.bad(p, f'travel between "{t.from_}" and "{t.to}" is given twice')
            pairs.add(pair)

    @functools.cached_property
    def venue_ids(self) -> set[str]:
        return {v.id for v in self.snap.venues}

    @functools.cached_property
    def room_ids(self) -> set[str]:
        return {r.id for r in self.snap.rooms}

    @functools.cached_property
    def person_ids(self) -> set[str]:
        return {x.id for x in self.snap.people}

    @functools.cached_property
    def session_ids(self) -> set[str]:
        return {x.id for x in self.snap.sessions}

    def rooms(self) -> None:
        self.unique_ids("rooms", (r.id for r in self.snap.rooms), "room")
        for i, r in enumerate(self.snap.rooms):
            self.room(i, r)

    def room(self, i: int, r: Room) -> None:
        p = f"rooms[{i}]"
        if r.venue is not None and r.venue not in self.venue_ids:
            self.bad(f"{p}.venue", f'unknown venue "{r.venue}"')
        self.at_least(f"{p}.capacity", r.capacity, 0)
        self.at_least(f"{p}.reserve", r.reserve, 0)
        self.at_least(f"{p}.concurrent", r.concurrent, 1)
        if r.changeover is not None:
            self.at_least(f"{p}.changeover", r.changeover, 0)
        if r.availability is not None:
            self.windows(f"{p}.availability", r.availability)

    def people(self) -> None:
        self.unique_ids("people", (x.id for x in self.snap.people), "person")
        for i, x in enumerate(self.snap.people):
            self.person(i, x)

    def person(self, i: int, x: Person) -> None:
        p = f"people[{i}]"
        if x.available is not None:
            self.windows(f"{p}.available", x.available)
        self.windows(f"{p}.unavailable", x.unavailable)
        self.windows(f"{p}.preferred", x.preferred)
        if x.max_per_day is not None:
            self.at_least(f"{p}.max_per_day", x.max_per_day, 1)

    def sessions(self) -> None:
        self.unique_ids("sessions", (x.id for x in self.snap.sessions), "session")
        for i, x in enumerate(self.snap.sessions):
            self.session(i, x)
        self.after_cycles()

    def session(self, i: int, x: Session) -> None:
        s = self.snap
        p = f"sessions[{i}]"
        people, rooms, ids = self.person_ids, self.room_ids, self.session_ids
        if not x.format:
            self.bad(f"{p}.format", "the format is empty")
        self.at_least(f"{p}.duration", x.duration, 1)
        if x.audiences is not None:
            self.members(f"{p}.audiences", x.audiences, s.audiences, "audience")
            if not x.audiences:
                self.bad(f"{p}.audiences", "a session serves at least one audience")
        self.members(f"{p}.themes", x.themes, s.themes, "theme")
        self.members(f"{p}.speakers", x.speakers, people, "person")
        self.members(f"{p}.moderators", x.moderators, people, "person")
        for j, m in enumerate(x.moderators):
            if m in x.speakers:
                self.bad(f"{p}.moderators[{j}]", f'"{m}" is already a speaker of this session')
        self.at_least(f"{p}.attendance", x.attendance, 0)
        if x.capacity is not None:
            self.at_least(f"{p}.capacity", x.capacity, 1)
        if x.rotation is not None:
            self.at_least(f"{p}.rotation.every", x.rotation.every, 1)
            self.at_least(f"{p}.rotation.places", x.rotation.places, 1)
            if x.rotation.every > x.duration:
                self.bad(
                    f"{p}.rotation.every",
                    f"a rotation of {x.rotation.every} minutes does "
                    f"not fit in a session of {x.duration} minutes",
                )
        self.at_least(f"{p}.occurrences", x.occurrences, 1)
        if x.rooms is not None:
            self.members(f"{p}.rooms", x.rooms, rooms, "room")
            if not x.rooms:
                self.bad(f"{p}.rooms", "the list of allowed rooms is empty")
        if x.windows is not None:
            self.windows(f"{p}.windows", x.windows)
            if not x.windows:
                self.bad(f"{p}.windows", "the list of allowed windows is empty")
        self.windows(f"{p}.preferred", x.preferred)
        if x.fixed is not None:
            f = x.fixed
            if f.day is not None and f.day not in self.days:
                self.bad(f"{p}.fixed.day", f"{f.day.isoformat()} is not a day of the edition")
            if f.start is not None and self.clock(f"{p}.fixed.start", f.start):
                step = s.granularity
                if step > 0 and minutes(f.start) % step:
                    self.bad(f"{p}.fixed.start", f"{f.start} is not on the {step}-minute grid")
            if f.room is not None:
                if f.room not in rooms:
                    self.bad(f"{p}.fixed.room", f'unknown room "{f.room}"')
                elif x.rooms is not None and f.room not in x.rooms:
                    self.bad(f"{p}.fixed.room", f'"{f.room}" is not among the session\'s rooms')
        if not 1 <= x.priority <= 10:
            self.bad(f"{p}.priority", f"{x.priority} is not between 1 and 10")
        for j, a in enumerate(x.after):
            ap = f"{p}.after[{j}]"
            if a.session not in ids:
                self.bad(f"{ap}.session", f'unknown session "{a.session}"')
            elif a.session == x.id:
                self.bad(f"{ap}.session", "a session cannot come after itself")
            self.at_least(f"{ap}.min_gap", a.min_gap, 0)
        self.members(f"{p}.not_parallel", x.not_parallel, ids, "session")
        for j, other in enumerate(x.not_parallel):
            if other == x.id:
                self.bad(f"{p}.not_parallel[{j}]", "a session cannot exclude itself")

    def after_cycles(self) -> None:
        graph = {x.id: [a.session for a in x.after] for x in self.snap.sessions}
        index = {x.id: i for i, x in enumerate(self.snap.sessions)}
        state: dict[str, int] = {}  # 1: on the path, 2: done

        def visit(node: str, path: list[str]) -> list[str] | None:
            state[node] = 1
            for nxt in graph.get(node, ()):
                if nxt not in graph:
                    continue
                if state.get(nxt) == 1:
                    return [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
                if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                    return cycle
            state[node] = 2
            return None

        for x in self.snap.sessions:
            if x.id not in state and (cycle := visit(x.id, [x.id])):
                self.bad(
                    f"sessions[{index[cycle[0]]}].after",
                    "precedence cycle: " + " after ".join(f'"{c}"' for c in cycle),
                )
                return

    def registrations(self) -> None:
        seen: set[str] = set()
        for i, r in enumerate(self.snap.registrations):
            if r.attendee and r.attendee in seen:
                self.bad(
                    f"registrations[{i}].attendee", f'attendee "{r.attendee}" is registered twice'
                )
            seen.add(r.attendee)
            self.registration(i, r)

    def registration(self, i: int, r: Registration) -> None:
        p = f"registrations[{i}]"
        if not r.attendee:
            self.bad(f"{p}.attendee", "the attendee id is empty")
        if r.profile not in self.snap.audiences:
            self.bad(f"{p}.profile", f'unknown audience "{r.profile}"')
        self.members(f"{p}.sessions", r.sessions, self.session_ids, "session")

    def policies(self) -> None:
        pol = self.snap.policies
        self.at_least("policies.changeover", pol.changeover, 0)
        self.at_least("policies.speaker_gap", pol.speaker_gap, 0)
        share = pol.parity.women_min_share
        if not 0 <= share <= 1:
            self.bad("policies.parity.women_min_share", f"{share} is not a share between 0 and 1")
        for i, t in enumerate(pol.tracks):
            p = f"policies.tracks[{i}]"
            if t.audience not in self.snap.audiences:
                self.bad(f"{p}.audience", f'unknown audience "{t.audience}"')
            self.windows(f"{p}.windows", t.windows)
            self.at_least(f"{p}.min_parallel", t.min_parallel, 0)
            if t.max_parallel is not None and t.max_parallel < max(t.min_parallel, 1):
                self.bad(
                    f"{p}.max_parallel",
                    f"{t.max_parallel} is below min_parallel ({t.min_parallel}) or below 1",
                )
        for name, value in pol.weights.items():
            if name not in WEIGHT_DEFAULTS:
                known = ", ".join(sorted(WEIGHT_DEFAULTS))
                self.bad(f"policies.weights.{name}", f'unknown weight "{name}" (known: {known})')
            else:
                self.at_least(f"policies.weights.{name}", value, 0)


def _where(items: Sequence[T], wanted: Callable[[T], bool]) -> list[tuple[int, T]]:
    return [(i, x) for i, x in enumerate(items) if wanted(x)]


def validate_change(snap: EditionSnapshot, events: Sequence[Event]) -> list[Problem]:
    """The problems ``events`` brought into ``snap`` (the edition after them).

    Checks what the events touched and what refers to it, instead of the whole
    edition: a committee's single change costs the same on a national edition as on
    a local one. ``snap`` must have been valid before the events.
    """
    c = _Checker(snap)
    index = {
        "rooms": {x.id: i for i, x in enumerate(snap.rooms)},
        "people": {x.id: i for i, x in enumerate(snap.people)},
        "sessions": {x.id: i for i, x in enumerate(snap.sessions)},
        "registrations": {x.attendee: i for i, x in enumerate(snap.registrations)},
    }
    cycles = False
    for event in events:
        match event:
            case EditionDefined():
                return validate_snapshot(snap)
            case RoomAdded(room=r) | RoomUpdated(room=r):
                c.room(index["rooms"][r.id], r)
            case PersonAdded(person=x) | PersonUpdated(person=x):
                c.person(index["people"][x.id], x)
            case PersonAvailabilitySet(person_id=pid):
                i = index["people"][pid]
                c.person(i, snap.people[i])
            case SessionAdded(session=x) | SessionUpdated(session=x):
                c.session(index["sessions"][x.id], x)
                cycles = True
            case SessionPinned(session_id=sid) | SessionUnpinned(session_id=sid):
                i = index["sessions"][sid]
                c.session(i, snap.sessions[i])
            case RoomRemoved(room_id=rid):
                for i, x in _where(
                    snap.sessions,
                    lambda x: (
                        rid in (x.rooms or ()) or (x.fixed is not None and x.fixed.room == rid)
                    ),
                ):
                    c.session(i, x)
            case PersonRemoved(person_id=pid):
                for i, x in _where(
                    snap.sessions, lambda x: pid in x.speakers or pid in x.moderators
                ):
                    c.session(i, x)
            case SessionRemoved(session_id=sid):
                for i, x in _where(
                    snap.sessions,
                    lambda x: sid in x.not_parallel or any(a.session == sid for a in x.after),
                ):
                    c.session(i, x)
                for i, g in _where(snap.registrations, lambda g: sid in g.sessions):
                    c.registration(i, g)
            case RegistrationRecorded(registration=g):
                c.registration(index["registrations"][g.attendee], g)
            case PoliciesChanged():
                c.policies()
            case RegistrationRemoved() | DocumentImported():
                pass
    if cycles:
        c.after_cycles()
    return c.problems


def validate_snapshot(snap: EditionSnapshot) -> list[Problem]:
    """Every problem of an edition, in document order; empty when it may be stored."""
    c = _Checker(snap)
    c.edition()
    c.rooms()
    c.people()
    c.sessions()
    c.registrations()
    c.policies()
    return c.problems
