"""Every rule an edition must keep to be stored.

Problems carry the path of the offending value in the document's terms
(``sessions[12].speakers[1]``), in document order, all of them at once so that a
committee fixes a file in one pass; each is a code and its data, worded by the adapters.

The checks read the edition through mappings (id → value), so that checking what one
change touched costs the same on a national edition as on a local one: a change is
checked by ``validate_change`` on the edition after it, a whole document by
``validate_snapshot``.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import zoneinfo
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

from creneau.scheduler._errors import Problem
from creneau.scheduler._events import (
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
from creneau.scheduler._values import (
    EditionInfo,
    EditionSnapshot,
    Person,
    Policies,
    Registration,
    Room,
    Session,
    Window,
    is_identifier,
    is_name,
    is_text,
    minutes,
)

__all__ = [
    "OPTIONAL_WEIGHTS",
    "WEIGHT_DEFAULTS",
    "EditionView",
    "is_clock",
    "validate_change",
    "validate_snapshot",
]

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
# Weights with no default: giving one makes its rule soft (it is hard otherwise).
OPTIONAL_WEIGHTS: frozenset[str] = frozenset({"attendee_gap"})


def is_clock(text: str) -> bool:
    return _CLOCK.fullmatch(text) is not None


class EditionView(Protocol):
    """What the checks read of an edition: its header, and its entities by id in the
    order they were added. An ``EditionState`` is one."""

    @property
    def info(self) -> EditionInfo | None: ...
    @property
    def rooms(self) -> Mapping[str, Room]: ...
    @property
    def people(self) -> Mapping[str, Person]: ...
    @property
    def sessions(self) -> Mapping[str, Session]: ...
    @property
    def registrations(self) -> Mapping[str, Registration]: ...
    @property
    def policies(self) -> Policies: ...


class _Checker:
    def __init__(self, ed: EditionView) -> None:
        assert ed.info is not None
        self.ed = ed
        self.info = ed.info
        self.problems: list[Problem] = []
        self.days = {d.day for d in ed.info.days}
        self.audiences = frozenset(ed.info.audiences)
        self.themes = frozenset(ed.info.themes)
        self._indexes: dict[str, dict[str, int]] = {}

    def bad(self, path: str, code: str, **params: Any) -> None:
        self.problems.append(Problem(path, code, params))

    def index(self, kind: str) -> dict[str, int]:
        """Where each entity of a kind stands in its list: the paths' numbers."""
        if kind not in self._indexes:
            entities: Mapping[str, Any] = getattr(self.ed, kind)
            self._indexes[kind] = {k: i for i, k in enumerate(entities)}
        return self._indexes[kind]

    # -- values --------------------------------------------------------------------

    def clock(self, path: str, text: str) -> bool:
        if is_clock(text):
            return True
        self.bad(path, "bad_clock", value=text)
        return False

    def span(self, path: str, start: str, end: str) -> bool:
        ok = self.clock(f"{path}.start", start) & self.clock(f"{path}.end", end)
        if ok and minutes(start) >= minutes(end):
            self.bad(path, "empty_window", start=start, end=end)
            return False
        return ok

    def windows(self, path: str, windows: Sequence[Window]) -> None:
        good: list[tuple[int, Window]] = []
        for i, w in enumerate(windows):
            p = f"{path}[{i}]"
            day_ok = w.day in self.days
            if not day_ok:
                self.bad(f"{p}.day", "not_a_day", day=w.day)
            if self.span(p, w.start, w.end) and day_ok:
                good.append((i, w))
        self.no_overlap(path, [(i, w.day, w.start, w.end) for i, w in good])

    def no_overlap(self, path: str, spans: Sequence[tuple[int, dt.date | None, str, str]]) -> None:
        ordered = sorted(spans, key=lambda s: (s[1] or dt.date.min, minutes(s[2])))
        for (_, d1, s1, e1), (j, d2, s2, e2) in itertools.pairwise(ordered):
            if d1 == d2 and minutes(s2) < minutes(e1):
                self.bad(f"{path}[{j}]", "window_overlap", start=s2, end=e2, other_start=s1,
                         other_end=e1)  # fmt: skip

    def identifier(self, path: str, ident: str, kind: str) -> bool:
        if not ident:
            self.bad(path, "empty_id", kind=kind)
            return False
        if not is_identifier(ident):
            self.bad(path, "bad_id", kind=kind, id=ident)
            return False
        return True

    def name(self, path: str, text: str) -> None:
        if not is_name(text):
            self.bad(path, "bad_name", value=text)

    def text(self, path: str, text: str) -> None:
        if not is_text(text):
            self.bad(path, "bad_text", value=text)

    def unique_ids(self, path: str, ids: Iterable[str], kind: str) -> None:
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if self.identifier(f"{path}[{i}].id", ident, kind) and ident in seen:
                self.bad(f"{path}[{i}].id", "duplicate_id", kind=kind, id=ident)
            seen.add(ident)

    def at_least(self, path: str, value: int | float, low: int | float) -> None:
        if value < low:
            self.bad(path, "below_minimum", value=value, minimum=low)

    def members(self, path: str, values: Sequence[str], known: Collection[str], kind: str) -> None:
        """Each value names a known entity of ``kind``, once."""
        seen: set[str] = set()
        for i, v in enumerate(values):
            if v not in known:
                self.bad(f"{path}[{i}]", f"unknown_{kind}", id=v)
            elif v in seen:
                self.bad(f"{path}[{i}]", "listed_twice", id=v)
            seen.add(v)

    def words(self, path: str, values: Sequence[str], kind: str) -> None:
        """A vocabulary of ids (audiences, themes): each one an id, once."""
        seen: set[str] = set()
        for i, v in enumerate(values):
            if self.identifier(f"{path}[{i}]", v, kind) and v in seen:
                self.bad(f"{path}[{i}]", "listed_twice", id=v)
            seen.add(v)

    # -- the sections of an edition ---------------------------------------------

    def edition(self) -> None:
        s = self.info
        self.identifier("id", s.id, "edition")
        self.name("name", s.name)
        try:
            zoneinfo.ZoneInfo(s.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.bad("timezone", "unknown_timezone", value=s.timezone)
        self.at_least("granularity", s.granularity, 1)
        if not s.days:
            self.bad("days", "no_days")
        seen_days: set[dt.date] = set()
        for i, d in enumerate(s.days):
            p = f"days[{i}]"
            if d.day in seen_days:
                self.bad(f"{p}.day", "day_twice", day=d.day)
            seen_days.add(d.day)
            if not (self.clock(f"{p}.open", d.open) & self.clock(f"{p}.close", d.close)):
                continue
            if minutes(d.open) >= minutes(d.close):
                self.bad(p, "day_closes_before_it_opens", open=d.open, close=d.close)
                continue
            good = []
            for j, b in enumerate(d.breaks):
                bp = f"{p}.breaks[{j}]"
                self.name(f"{bp}.label", b.label)
                if not self.span(bp, b.start, b.end):
                    continue
                if minutes(b.start) < minutes(d.open) or minutes(b.end) > minutes(d.close):
                    self.bad(bp, "break_outside_hours", start=b.start, end=b.end, open=d.open,
                             close=d.close)  # fmt: skip
                good.append((j, None, b.start, b.end))
            self.no_overlap(f"{p}.breaks", good)
        if not s.audiences:
            self.bad("audiences", "no_audiences")
        self.words("audiences", s.audiences, "audience")
        self.words("themes", s.themes, "theme")
        self.unique_ids("venues", (v.id for v in s.venues), "venue")
        for i, v in enumerate(s.venues):
            self.name(f"venues[{i}].name", v.name)
        pairs: set[frozenset[str]] = set()
        for i, t in enumerate(s.travel):
            p = f"travel[{i}]"
            for end, name in (("from", t.from_), ("to", t.to)):
                if name not in self.venue_ids:
                    self.bad(f"{p}.{end}", "unknown_venue", id=name)
            if t.from_ == t.to:
                self.bad(p, "travel_to_itself", venue=t.from_)
            self.at_least(f"{p}.minutes", t.minutes, 0)
            pair = frozenset((t.from_, t.to))
            if pair in pairs:
                self.bad(p, "travel_twice", origin=t.from_, destination=t.to)
            pairs.add(pair)
        if s.licence is not None and not is_identifier(s.licence):
            self.bad("licence", "bad_licence", value=s.licence)
        if s.url is not None and not is_identifier(s.url):
            self.bad("url", "bad_url", value=s.url)

    @functools.cached_property
    def venue_ids(self) -> frozenset[str]:
        return frozenset(v.id for v in self.info.venues)

    def rooms(self, indexed: Iterable[tuple[int, Room]]) -> None:
        for i, r in indexed:
            self.room(i, r)

    def room(self, i: int, r: Room) -> None:
        p = f"rooms[{i}]"
        self.name(f"{p}.name", r.name)
        if r.venue is not None and r.venue not in self.venue_ids:
            self.bad(f"{p}.venue", "unknown_venue", id=r.venue)
        self.at_least(f"{p}.capacity", r.capacity, 0)
        self.at_least(f"{p}.reserve", r.reserve, 0)
        self.at_least(f"{p}.concurrent", r.concurrent, 1)
        self.words(f"{p}.features", r.features, "feature")
        if r.changeover is not None:
            self.at_least(f"{p}.changeover", r.changeover, 0)
        if r.availability is not None:
            self.windows(f"{p}.availability", r.availability)

    def person(self, i: int, x: Person) -> None:
        p = f"people[{i}]"
        self.name(f"{p}.name", x.name)
        self.name(f"{p}.organisation", x.organisation)
        if x.available is not None:
            self.windows(f"{p}.available", x.available)
        self.windows(f"{p}.unavailable", x.unavailable)
        self.windows(f"{p}.preferred", x.preferred)
        if x.max_per_day is not None:
            self.at_least(f"{p}.max_per_day", x.max_per_day, 1)

    def session(self, i: int, x: Session) -> None:
        p = f"sessions[{i}]"
        people, rooms, ids = self.ed.people, self.ed.rooms, self.ed.sessions
        self.name(f"{p}.title", x.title)
        self.text(f"{p}.description", x.description)
        if not x.format:
            self.bad(f"{p}.format", "empty_format")
        else:
            self.identifier(f"{p}.format", x.format, "format")
        self.at_least(f"{p}.duration", x.duration, 1)
        if x.audiences is not None:
            self.members(f"{p}.audiences", x.audiences, self.audiences, "audience")
            if not x.audiences:
                self.bad(f"{p}.audiences", "no_session_audience")
        self.members(f"{p}.themes", x.themes, self.themes, "theme")
        self.members(f"{p}.speakers", x.speakers, people, "person")
        self.members(f"{p}.moderators", x.moderators, people, "person")
        speakers = set(x.speakers)
        for j, m in enumerate(x.moderators):
            if m in speakers:
                self.bad(f"{p}.moderators[{j}]", "moderator_is_speaker", id=m)
        self.at_least(f"{p}.attendance", x.attendance, 0)
        if x.capacity is not None:
            self.at_least(f"{p}.capacity", x.capacity, 1)
        if x.rotation is not None:
            self.at_least(f"{p}.rotation.every", x.rotation.every, 1)
            self.at_least(f"{p}.rotation.places", x.rotation.places, 1)
            if x.rotation.every > x.duration:
                self.bad(f"{p}.rotation.every", "rotation_too_long", every=x.rotation.every,
                         duration=x.duration)  # fmt: skip
        self.at_least(f"{p}.occurrences", x.occurrences, 1)
        self.words(f"{p}.requires", x.requires, "feature")
        if x.rooms is not None:
            self.members(f"{p}.rooms", x.rooms, rooms, "room")
            if not x.rooms:
                self.bad(f"{p}.rooms", "no_rooms_allowed")
        if x.windows is not None:
            self.windows(f"{p}.windows", x.windows)
            if not x.windows:
                self.bad(f"{p}.windows", "no_windows_allowed")
        self.windows(f"{p}.preferred", x.preferred)
        if x.fixed is not None:
            f = x.fixed
            if f.day is not None and f.day not in self.days:
                self.bad(f"{p}.fixed.day", "not_a_day", day=f.day)
            if f.start is not None and self.clock(f"{p}.fixed.start", f.start):
                step = self.info.granularity
                if step > 0 and minutes(f.start) % step:
                    self.bad(f"{p}.fixed.start", "off_grid", start=f.start, step=step)
            if f.room is not None:
                if f.room not in rooms:
                    self.bad(f"{p}.fixed.room", "unknown_room", id=f.room)
                elif x.rooms is not None and f.room not in x.rooms:
                    self.bad(f"{p}.fixed.room", "pinned_room_not_allowed", room=f.room)
        if not 1 <= x.priority <= 10:
            self.bad(f"{p}.priority", "priority_range", value=x.priority)
        for j, a in enumerate(x.after):
            ap = f"{p}.after[{j}]"
            if a.session not in ids:
                self.bad(f"{ap}.session", "unknown_session", id=a.session)
            elif a.session == x.id:
                self.bad(f"{ap}.session", "after_itself")
            self.at_least(f"{ap}.min_gap", a.min_gap, 0)
        self.members(f"{p}.not_parallel", x.not_parallel, ids, "session")
        for j, other in enumerate(x.not_parallel):
            if other == x.id:
                self.bad(f"{p}.not_parallel[{j}]", "not_parallel_itself")

    def after_cycles(self) -> None:
        sessions = self.ed.sessions
        graph = {sid: [a.session for a in x.after] for sid, x in sessions.items()}
        state: dict[str, int] = {}  # 1: on the path, 2: done

        def visit(start: str) -> list[str] | None:
            # Iterative depth-first search: a long chain must not exhaust the stack.
            path = [start]
            stack = [iter(graph[start])]
            state[start] = 1
            while stack:
                nxt = next(stack[-1], None)
                if nxt is None:
                    state[path.pop()] = 2
                    stack.pop()
                    continue
                if nxt not in graph:
                    continue
                if state.get(nxt) == 1:
                    return [*path[path.index(nxt) :], nxt]
                if nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append(iter(graph[nxt]))
            return None

        for sid in sessions:
            if sid not in state and (cycle := visit(sid)):
                i = self.index("sessions")[cycle[0]]
                self.bad(f"sessions[{i}].after", "precedence_cycle", cycle=tuple(cycle))
                return

    def registration(self, i: int, r: Registration) -> None:
        p = f"registrations[{i}]"
        self.identifier(f"{p}.attendee", r.attendee, "attendee")
        if r.profile not in self.audiences:
            self.bad(f"{p}.profile", "unknown_audience", id=r.profile)
        self.members(f"{p}.sessions", r.sessions, self.ed.sessions, "session")

    def policies(self) -> None:
        pol = self.ed.policies
        self.at_least("policies.changeover", pol.changeover, 0)
        self.at_least("policies.speaker_gap", pol.speaker_gap, 0)
        self.at_least("policies.attendee_gap", pol.attendee_gap, 0)
        share = pol.parity.women_min_share
        if not 0 <= share <= 1:
            self.bad("policies.parity.women_min_share", "share_range", value=share)
        for i, t in enumerate(pol.tracks):
            p = f"policies.tracks[{i}]"
            if t.audience not in self.audiences:
                self.bad(f"{p}.audience", "unknown_audience", id=t.audience)
            self.windows(f"{p}.windows", t.windows)
            self.at_least(f"{p}.min_parallel", t.min_parallel, 0)
            if t.max_parallel is not None and t.max_parallel < max(t.min_parallel, 1):
                self.bad(f"{p}.max_parallel", "max_below_min", maximum=t.max_parallel,
                         minimum=t.min_parallel)  # fmt: skip
        for name, value in pol.weights.items():
            if name not in WEIGHT_DEFAULTS and name not in OPTIONAL_WEIGHTS:
                known = tuple(sorted({*WEIGHT_DEFAULTS, *OPTIONAL_WEIGHTS}))
                self.bad(f"policies.weights.{name}", "unknown_weight", name=name, known=known)
            else:
                self.at_least(f"policies.weights.{name}", value, 0)


def validate_change(after: EditionView, events: Sequence[Event]) -> list[Problem]:
    """The problems ``events`` brought into the edition ``after`` them.

    Checks what the events touched and what refers to it, instead of the whole
    edition: a committee's single change costs the same on a national edition as on
    a local one. The edition must have been valid before the events.
    """
    c = _Checker(after)
    sessions = after.sessions
    touched: dict[str, dict[str, None]] = {k: {} for k in ("rooms", "people", "sessions",
                                                           "registrations")}  # fmt: skip
    cycles = False

    def sessions_where(wanted: Any) -> None:
        touched["sessions"].update((sid, None) for sid, x in sessions.items() if wanted(x))

    for event in events:
        match event:
            case EditionDefined():
                return validate_state(after)
            case RoomAdded(room=r) | RoomUpdated(room=r):
                touched["rooms"][r.id] = None
            case PersonAdded(person=x) | PersonUpdated(person=x):
                touched["people"][x.id] = None
            case PersonAvailabilitySet(person_id=pid):
                touched["people"][pid] = None
            case SessionAdded(session=x) | SessionUpdated(session=x):
                touched["sessions"][x.id] = None
                cycles = True
            case SessionPinned(session_id=sid) | SessionUnpinned(session_id=sid):
                touched["sessions"][sid] = None
            case RoomRemoved(room_id=rid):
                sessions_where(
                    lambda x, rid=rid: (
                        rid in (x.rooms or ()) or (x.fixed is not None and x.fixed.room == rid)
                    )
                )
            case PersonRemoved(person_id=pid):
                sessions_where(lambda x, pid=pid: pid in x.speakers or pid in x.moderators)
            case SessionRemoved(session_id=sid):
                sessions_where(
                    lambda x, sid=sid: (
                        sid in x.not_parallel or any(a.session == sid for a in x.after)
                    )
                )
                touched["registrations"].update(
                    (a, None) for a, g in after.registrations.items() if sid in g.sessions
                )
            case RegistrationRecorded(registration=g):
                touched["registrations"][g.attendee] = None
            case PoliciesChanged():
                c.policies()
            case RegistrationRemoved() | DocumentImported():
                pass
            case _:
                pass  # events that change no rule of the edition (schedules, places)
    for kind, ids in touched.items():
        entities: Mapping[str, Any] = getattr(after, kind)
        present = [x for x in ids if x in entities]
        if not present:
            continue
        for ident in present:
            # Where the entity stands in its list (the paths' numbers) is looked up only
            # when it has a problem: indexing 10,000 registrations for each booking costs
            # more than checking the one booked.
            before = len(c.problems)
            check(c, kind, ident, -1)
            if len(c.problems) > before:
                del c.problems[before:]
                check(c, kind, ident, c.index(kind)[ident])
    if cycles:
        c.after_cycles()
    return c.problems


def check(c: _Checker, kind: str, ident: str, i: int) -> None:
    """The rules of one entity of ``kind``, numbered ``i`` in the paths of its problems."""
    ed = c.ed
    if kind == "rooms":
        c.identifier(f"rooms[{i}].id", ident, "room")
        c.room(i, ed.rooms[ident])
    elif kind == "people":
        c.identifier(f"people[{i}].id", ident, "person")
        c.person(i, ed.people[ident])
    elif kind == "sessions":
        c.identifier(f"sessions[{i}].id", ident, "session")
        c.session(i, ed.sessions[ident])
    else:
        c.registration(i, ed.registrations[ident])


def validate_state(ed: EditionView) -> list[Problem]:
    """Every problem of an edition held by id (ids are unique by construction)."""
    c = _Checker(ed)
    c.edition()
    for kind, singular in (("rooms", "room"), ("people", "person"), ("sessions", "session")):
        for i, ident in enumerate(getattr(ed, kind)):
            c.identifier(f"{kind}[{i}].id", ident, singular)
    c.rooms(enumerate(ed.rooms.values()))
    for i, x in enumerate(ed.people.values()):
        c.person(i, x)
    for i, s in enumerate(ed.sessions.values()):
        c.session(i, s)
    c.after_cycles()
    for i, g in enumerate(ed.registrations.values()):
        c.registration(i, g)
    c.policies()
    return c.problems


class _ById:
    """A snapshot read by id, for the checks (the last of duplicate ids wins: those are
    reported on their own)."""

    def __init__(self, snap: EditionSnapshot) -> None:
        self.info: EditionInfo = snap.info
        self.rooms = {r.id: r for r in snap.rooms}
        self.people = {x.id: x for x in snap.people}
        self.sessions = {x.id: x for x in snap.sessions}
        self.registrations = {g.attendee: g for g in snap.registrations}
        self.policies = snap.policies


def validate_snapshot(snap: EditionSnapshot) -> list[Problem]:
    """Every problem of an edition, in document order; empty when it may be stored."""
    c = _Checker(_ById(snap))
    # Paths number entities as the document lists them (the first of duplicate ids).
    for kind in ("rooms", "people", "sessions"):
        c._indexes[kind] = {}
        for i, x in enumerate(getattr(snap, kind)):
            c._indexes[kind].setdefault(x.id, i)
    c.edition()
    c.unique_ids("rooms", (r.id for r in snap.rooms), "room")
    c.rooms(enumerate(snap.rooms))
    c.unique_ids("people", (x.id for x in snap.people), "person")
    for i, x in enumerate(snap.people):
        c.person(i, x)
    c.unique_ids("sessions", (x.id for x in snap.sessions), "session")
    for i, s in enumerate(snap.sessions):
        c.session(i, s)
    c.after_cycles()
    seen: set[str] = set()
    for i, g in enumerate(snap.registrations):
        if g.attendee and g.attendee in seen:
            c.bad(f"registrations[{i}].attendee", "registered_twice", attendee=g.attendee)
        seen.add(g.attendee)
        c.registration(i, g)
    c.policies()
    return c.problems
