"""``creneau check``: an independent validator of a schedule against its edition.

Independent in fact: it reads the raw documents (the edition in JSON or TOML, the
schedule in JSON) with its own decoding and applies the format's rules and defaults
itself, written from the format's description alone. It imports nothing of Créneau's
(the domain model, the solver, the document decoding): only the standard library. A
test walks its imports and fails if that changes. What one gets wrong, the other
catches.

It answers with findings: a rule id, a code and the data the command line words.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["DocumentError", "Finding", "check_documents", "check_files", "read_document"]

DEFAULT_AUDIENCES = ("professionals", "general_public")
_CLOCK = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")


class Finding(NamedTuple):
    """A hard rule the schedule breaks."""

    rule: str
    code: str
    params: dict[str, Any]


class DocumentError(Exception):
    """A document the validator cannot read: ``code`` and its data, as findings say."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code, self.params = code, params
        super().__init__(code, params)


# -- reading ---------------------------------------------------------------------------------


class _Object(dict[str, Any]):
    twice: list[str]


def _object(items: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.twice = [k for k, _ in items if sum(1 for x, _ in items if x == k) > 1]
    obj.update(items)
    return obj


def _twice(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, _Object):
        for key in dict.fromkeys(value.twice):
            yield f"{path}.{key}".lstrip(".")
        for key, item in value.items():
            yield from _twice(item, f"{path}.{key}".lstrip("."))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _twice(item, f"{path}[{i}]")


def read_document(path: str | Path) -> dict[str, Any]:
    """A JSON or TOML document as plain data (a UTF-8 byte-order mark accepted, a key
    given twice refused)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DocumentError(
            "unreadable_file", path=str(p), detail=exc.strerror or str(exc)
        ) from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError("not_utf8", detail=str(exc)) from exc
    toml = p.suffix.lower() == ".toml" or (p.suffix.lower() != ".json"
                                           and not text.lstrip().startswith("{"))  # fmt: skip
    try:
        if toml:
            raw = tomllib.loads(text)
        else:
            raw = json.loads(text, object_pairs_hook=_object)
            twice = list(_twice(raw))
            if twice:
                raise DocumentError("duplicate_key", key=twice[0])
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DocumentError("not_toml" if toml else "not_json", detail=str(exc)) from exc
    except RecursionError as exc:
        raise DocumentError("too_deep") from exc
    if not isinstance(raw, dict):
        raise DocumentError("wrong_type", expected="object", got=type(raw).__name__)
    return raw


# -- the edition as the format describes it, defaults applied --------------------------------


def _minutes(clock: Any, what: str) -> int:
    if not isinstance(clock, str) or not _CLOCK.fullmatch(clock):
        raise DocumentError("bad_clock", value=str(clock), at=what)
    return int(clock[:2]) * 60 + int(clock[3:])


def _day(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise DocumentError("not_a_date", at=what) from exc


def _required(obj: dict[str, Any], key: str, what: str) -> Any:
    if key not in obj:
        raise DocumentError("missing_field", field=key, at=what)
    return obj[key]


class _Window(NamedTuple):
    day: dt.date
    start: int
    end: int


def _windows(value: Any, what: str) -> list[_Window]:
    return [
        _Window(_day(_required(w, "day", what), what), _minutes(_required(w, "start", what), what),
                _minutes(_required(w, "end", what), what))
        for w in value or ()
    ]  # fmt: skip


class _Room(NamedTuple):
    id: str
    venue: str
    capacity: int
    reserve: int
    features: frozenset[str]
    availability: list[_Window] | None
    concurrent: int
    changeover: int


class _Person(NamedTuple):
    id: str
    gender: str
    available: list[_Window] | None
    unavailable: list[_Window]
    max_per_day: int | None
    can_moderate: bool


class _Session(NamedTuple):
    id: str
    format: str
    duration: int
    audiences: frozenset[str]
    speakers: tuple[str, ...]
    moderators: tuple[str, ...]
    needs_moderator: bool
    need: int  # max(attendance, capacity)
    occurrences: int
    requires: frozenset[str]
    rooms: frozenset[str] | None
    windows: list[_Window] | None
    fixed: dict[str, Any] | None
    exclusive: bool
    optional: bool
    after: list[tuple[str, int, bool]]
    not_parallel: tuple[str, ...]


class _Edition:
    """The edition document read with the format's defaults."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.id = str(_required(doc, "id", "id"))
        self.granularity = int(doc.get("granularity", 5))
        self.days: dict[dt.date, tuple[int, int, list[tuple[int, int]]]] = {}
        for i, d in enumerate(_required(doc, "days", "days")):
            what = f"days[{i}]"
            self.days[_day(_required(d, "day", what), what)] = (
                _minutes(_required(d, "open", what), what),
                _minutes(_required(d, "close", what), what),
                [
                    (_minutes(b["start"], what), _minutes(b["end"], what))
                    for b in d.get("breaks", ())
                ],
            )
        self.audiences = tuple(doc.get("audiences", DEFAULT_AUDIENCES))
        travel: dict[tuple[str, str], int] = {}
        for t in doc.get("travel", ()):  # symmetric
            travel[(t["from"], t["to"])] = travel[(t["to"], t["from"])] = int(t["minutes"])
        self.travel = travel
        policies = doc.get("policies", {})
        self.changeover = int(policies.get("changeover", 0))
        self.speaker_gap = int(policies.get("speaker_gap", 0))
        weights = policies.get("weights", {})
        self.attendee_gap = int(policies.get("attendee_gap", 0))
        self.attendee_gap_hard = "attendee_gap" not in weights
        parity = policies.get("parity", {})
        self.parity_hard = bool(parity.get("hard", True))
        self.no_all_male_panels = bool(parity.get("no_all_male_panels", True))
        self.women_min_share = float(parity.get("women_min_share", 0))
        self.tracks = [
            (t["audience"], _windows(t.get("windows"), "policies.tracks"),
             int(t.get("min_parallel", 0)),
             None if t.get("max_parallel") is None else int(t["max_parallel"]))
            for t in policies.get("tracks", ())
        ]  # fmt: skip
        self.rooms: dict[str, _Room] = {}
        for i, r in enumerate(doc.get("rooms", ())):
            what = f"rooms[{i}]"
            self.rooms[str(_required(r, "id", what))] = _Room(
                id=r["id"], venue=r.get("venue", ""),
                capacity=int(_required(r, "capacity", what)), reserve=int(r.get("reserve", 0)),
                features=frozenset(r.get("features", ())),
                availability=None if r.get("availability") is None
                else _windows(r["availability"], what),
                concurrent=int(r.get("concurrent", 1)),
                changeover=int(r["changeover"]) if r.get("changeover") is not None
                else self.changeover,
            )  # fmt: skip
        self.people: dict[str, _Person] = {}
        for i, x in enumerate(doc.get("people", ())):
            what = f"people[{i}]"
            self.people[str(_required(x, "id", what))] = _Person(
                id=x["id"], gender=x.get("gender", "undisclosed"),
                available=None if x.get("available") is None else _windows(x["available"], what),
                unavailable=_windows(x.get("unavailable"), what),
                max_per_day=None if x.get("max_per_day") is None else int(x["max_per_day"]),
                can_moderate=bool(x.get("can_moderate", False)),
            )  # fmt: skip
        self.sessions: dict[str, _Session] = {}
        for i, s in enumerate(doc.get("sessions", ())):
            what = f"sessions[{i}]"
            fmt = s.get("format", "workshop")
            self.sessions[str(_required(s, "id", what))] = _Session(
                id=s["id"], format=fmt, duration=int(_required(s, "duration", what)),
                audiences=frozenset(s["audiences"] if s.get("audiences") is not None
                                    else self.audiences),
                speakers=tuple(s.get("speakers", ())), moderators=tuple(s.get("moderators", ())),
                needs_moderator=bool(s.get("needs_moderator", False)),
                need=max(int(s.get("attendance", 0)), int(s.get("capacity") or 0)),
                occurrences=int(s.get("occurrences", 1)),
                requires=frozenset(s.get("requires", ())),
                rooms=None if s.get("rooms") is None else frozenset(s["rooms"]),
                windows=None if s.get("windows") is None else _windows(s["windows"], what),
                fixed=s.get("fixed"),
                exclusive=bool(s["exclusive"]) if s.get("exclusive") is not None
                else fmt == "plenary",
                optional=bool(s.get("optional", False)),
                after=[(a["session"], int(a.get("min_gap", 0)), bool(a.get("same_day", False)))
                       for a in s.get("after", ())],
                not_parallel=tuple(s.get("not_parallel", ())),
            )  # fmt: skip

    def walk(self, room_a: str, room_b: str) -> int:
        a, b = self.rooms.get(room_a), self.rooms.get(room_b)
        va, vb = (a.venue if a else ""), (b.venue if b else "")
        return 0 if va == vb else self.travel.get((va, vb), 0)


# -- the schedule ---------------------------------------------------------------------------


class _Run(NamedTuple):
    session: str
    occurrence: int
    room: str
    day: dt.date
    start: int
    end: int
    moderators: tuple[str, ...]
    clock: tuple[str, str]

    @property
    def slot(self) -> tuple[str, int, str, str, str, str]:
        return (self.session, self.occurrence, self.day.isoformat(), *self.clock, self.room)

    def overlaps(self, other: _Run) -> bool:
        return self.day == other.day and self.start < other.end and other.start < self.end


def _runs(schedule: dict[str, Any]) -> list[_Run]:
    runs = []
    for i, a in enumerate(schedule.get("assignments", ())):
        what = f"assignments[{i}]"
        start, end = _required(a, "start", what), _required(a, "end", what)
        runs.append(_Run(
            session=str(_required(a, "session", what)), occurrence=int(a.get("occurrence", 1)),
            room=str(_required(a, "room", what)), day=_day(_required(a, "day", what), what),
            start=_minutes(start, what), end=_minutes(end, what),
            moderators=tuple(a.get("moderators", ())), clock=(start, end),
        ))  # fmt: skip
    return runs


def _inside(run: _Run, windows: Iterable[_Window]) -> bool:
    return any(w.day == run.day and w.start <= run.start and run.end <= w.end for w in windows)


def _touches(run: _Run, windows: Iterable[_Window]) -> bool:
    return any(w.day == run.day and run.start < w.end and w.start < run.end for w in windows)


def check_documents(edition: dict[str, Any], schedule: dict[str, Any]) -> list[Finding]:
    """Every hard rule of ``edition`` that the assignments of ``schedule`` break."""
    ed = _Edition(edition)
    out: list[Finding] = []

    def bad(rule: str, code: str, **params: Any) -> None:
        out.append(Finding(rule, code, params))

    runs = []
    for run in _runs(schedule):
        if run.session not in ed.sessions:
            bad("placement", "unknown_session", slot=run.slot)
        else:
            runs.append(run)
    by_session: dict[str, list[_Run]] = defaultdict(list)
    for run in runs:
        by_session[run.session].append(run)

    for s in ed.sessions.values():
        mine = sorted(by_session.get(s.id, []), key=lambda r: r.occurrence)
        if not mine and s.optional:
            continue
        found = [r.occurrence for r in mine]
        if not mine:
            bad("placement", "not_scheduled", session=s.id)
        elif found != list(range(1, s.occurrences + 1)):
            bad("placement", "wrong_occurrences", session=s.id, expected=s.occurrences,
                found=tuple(found))  # fmt: skip
        for run in mine:
            day = ed.days.get(run.day)
            if day is None:
                bad("open_hours", "not_a_day", slot=run.slot)
                continue
            opens, closes, breaks = day
            if run.end - run.start != s.duration:
                bad("placement", "wrong_duration", slot=run.slot, minutes=run.end - run.start,
                    duration=s.duration)  # fmt: skip
            if run.start % ed.granularity:
                bad("open_hours", "off_grid", slot=run.slot, step=ed.granularity)
            if run.start < opens or run.end > closes:
                bad("open_hours", "outside_open_hours", slot=run.slot, open=_clock(opens),
                    close=_clock(closes))  # fmt: skip
            for pause, resume in breaks:
                if run.start < resume and pause < run.end:
                    bad("open_hours", "in_break", slot=run.slot, start=_clock(pause),
                        end=_clock(resume))  # fmt: skip
            if s.windows is not None and not _inside(run, s.windows):
                bad("windows", "outside_windows", slot=run.slot)
            if s.fixed:
                f = s.fixed
                if (
                    (f.get("day") is not None and _day(f["day"], "fixed") != run.day)
                    or (f.get("start") is not None and run.occurrence == 1
                        and _minutes(f["start"], "fixed") != run.start)
                    or (f.get("room") is not None and f["room"] != run.room)
                ):  # fmt: skip
                    bad("fixed", "not_where_pinned", slot=run.slot)
        for a, b in itertools.combinations(mine, 2):
            if a.overlaps(b):
                bad("occurrences", "occurrences_overlap", slot=a.slot, other=b.slot)

    for run in runs:
        s, room = ed.sessions[run.session], ed.rooms.get(run.room)
        if room is None:
            bad("room_fit", "unknown_room", slot=run.slot)
            continue
        if not s.requires <= room.features:
            bad("room_fit", "room_lacks", slot=run.slot,
                features=tuple(sorted(s.requires - room.features)))  # fmt: skip
        if s.rooms is not None and room.id not in s.rooms:
            bad("room_fit", "room_not_allowed", slot=run.slot)
        if room.capacity + room.reserve < s.need:
            bad("room_fit", "room_too_small", slot=run.slot, need=s.need, capacity=room.capacity,
                reserve=room.reserve)  # fmt: skip
        if room.availability is not None and not _inside(run, room.availability):
            bad("room_availability", "room_closed", slot=run.slot)
    by_room: dict[str, list[_Run]] = defaultdict(list)
    for run in runs:
        by_room[run.room].append(run)
    for room_id, held in by_room.items():
        room = ed.rooms.get(room_id)
        if room is None:
            continue
        for run in held:  # the load peaks at some run's start
            occupying = [o for o in held if o is not run and o.day == run.day
                         and o.start <= run.start < o.end + room.changeover]  # fmt: skip
            if len(occupying) + 1 > room.concurrent:
                others = tuple(o.slot for o in occupying)
                bad("room_overlap", "room_taken", slot=run.slot, others=others,
                    changeover=room.changeover)  # fmt: skip
            if room.concurrent > 1:
                seated = [o for o in held if o.day == run.day and o.start <= run.start < o.end]
                total = sum(ed.sessions[o.session].need for o in seated)
                if total > room.capacity + room.reserve:
                    bad("room_overlap", "hall_seats", slot=run.slot,
                        others=tuple(o.slot for o in seated if o is not run), need=total,
                        capacity=room.capacity, reserve=room.reserve)  # fmt: skip

    by_person: dict[str, list[_Run]] = defaultdict(list)
    for run in runs:
        s = ed.sessions[run.session]
        for pid in dict.fromkeys((*s.speakers, *s.moderators, *run.moderators)):
            by_person[pid].append(run)
    for pid, theirs in by_person.items():
        person = ed.people.get(pid)
        if person is None:
            bad("person_availability", "unknown_person", person=pid)
            continue
        for run in theirs:
            if person.available is not None and not _inside(run, person.available):
                bad("person_availability", "person_not_available", person=pid, slot=run.slot)
            if _touches(run, person.unavailable):
                bad("person_availability", "person_unavailable", person=pid, slot=run.slot)
        ordered = sorted(theirs, key=lambda r: (r.day, r.start))
        for a, b in itertools.combinations(ordered, 2):
            if a.day == b.day:
                needed = ed.speaker_gap + ed.walk(a.room, b.room)
                if b.start < a.end + needed:
                    bad("person_overlap", "person_too_close", person=pid, slot=a.slot,
                        other=b.slot, minutes=needed)  # fmt: skip
        if person.max_per_day is not None:
            per_day: dict[dt.date, int] = defaultdict(int)
            for run in theirs:
                per_day[run.day] += 1
            for date, count in per_day.items():
                if count > person.max_per_day:
                    bad("max_per_day", "too_many_per_day", person=pid, count=count,
                        day=date.isoformat(), maximum=person.max_per_day)  # fmt: skip

    for run in runs:
        s = ed.sessions[run.session]
        if s.exclusive:
            for other in runs:
                if (other.session != s.id and s.audiences & ed.sessions[other.session].audiences
                        and run.overlaps(other)):  # fmt: skip
                    bad("exclusive", "beside_exclusive", slot=other.slot, other=run.slot)
        for earlier_id, gap, same_day in s.after:
            for earlier in by_session.get(earlier_id, ()):
                if (run.day, run.start) < (earlier.day, earlier.end + gap):
                    bad("after", "too_soon_after", slot=run.slot, other=earlier.slot, gap=gap)
                if same_day and run.day != earlier.day:
                    bad("after", "not_same_day", slot=run.slot, other=earlier.slot)
        for other_id in s.not_parallel:
            for other in by_session.get(other_id, ()):
                if run.overlaps(other):
                    bad("not_parallel", "parallel", slot=run.slot, other=other.slot)
    if ed.attendee_gap > 0 and ed.attendee_gap_hard:
        for a, b in itertools.permutations(runs, 2):
            if a.day != b.day or a.room == b.room:
                continue
            if not ed.sessions[a.session].audiences & ed.sessions[b.session].audiences:
                continue
            needed = ed.attendee_gap + ed.walk(a.room, b.room)
            if a.end <= b.start < a.end + needed:
                bad("attendee_gap", "no_time_to_move", slot=b.slot, other=a.slot, minutes=needed)

    for run in runs:
        s = ed.sessions[run.session]
        if s.needs_moderator and len(run.moderators) != 1:
            bad("moderator", "moderator_count", slot=run.slot, count=len(run.moderators))
        if not s.needs_moderator and run.moderators:
            bad("moderator", "moderator_not_needed", slot=run.slot, people=run.moderators)
        for pid in run.moderators:
            person = ed.people.get(pid)
            if person is not None and not person.can_moderate:
                bad("moderator", "cannot_moderate", slot=run.slot, person=pid)
            if pid in s.speakers or pid in s.moderators:
                bad("moderator", "moderator_on_session", slot=run.slot, person=pid)

    if ed.parity_hard:
        gender = {p.id: p.gender for p in ed.people.values()}
        on_programme: set[str] = set()
        for run in runs:
            s = ed.sessions[run.session]
            on_stage = set((*s.speakers, *s.moderators, *run.moderators))
            on_programme |= on_stage
            if (ed.no_all_male_panels and len(on_stage) >= 2
                    and all(gender.get(p) == "man" for p in on_stage)):  # fmt: skip
                bad("no_all_male_panels", "all_men", slot=run.slot)
        if ed.women_min_share > 0:
            women = sum(gender.get(p) == "woman" for p in on_programme)
            men = sum(gender.get(p) == "man" for p in on_programme)
            if women + men and women < ed.women_min_share * (women + men) - 1e-9:
                bad("parity_share", "women_share_low", women=women, total=women + men,
                    share=ed.women_min_share)  # fmt: skip

    for audience, windows, low, high in ed.tracks:
        theirs = [r for r in runs if audience in ed.sessions[r.session].audiences]
        for w in windows:
            day = ed.days.get(w.day)
            if day is None:
                continue
            opens, closes, breaks = day
            lo, hi = max(w.start, opens), min(w.end, closes)
            moments = {lo} | {m for r in theirs if r.day == w.day for m in (r.start, r.end)}
            moments |= {resume for _, resume in breaks}
            for t in sorted(moments):
                if not lo <= t < hi or any(pause <= t < resume for pause, resume in breaks):
                    continue
                count = sum(1 for r in theirs if r.day == w.day and r.start <= t < r.end)
                if count < low:
                    bad("tracks", "track_too_few", audience=audience, count=count,
                        day=w.day.isoformat(), time=_clock(t), minimum=low)  # fmt: skip
                if high is not None and count > high:
                    bad("tracks", "track_too_many", audience=audience, count=count,
                        day=w.day.isoformat(), time=_clock(t), maximum=high)  # fmt: skip
    return out


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def check_files(
    edition_path: str | Path, schedule_path: str | Path
) -> tuple[dict[str, Any], dict[str, Any], list[Finding]]:
    """Both documents read, and what the schedule breaks."""
    edition = read_document(edition_path)
    schedule = read_document(schedule_path)
    if schedule.get("edition") != edition.get("id"):
        raise DocumentError(
            "schedule_of_other_edition",
            path=str(schedule_path),
            other=str(schedule.get("edition")),
            edition=str(edition.get("id")),
        )
    try:
        return edition, schedule, check_documents(edition, schedule)
    except (KeyError, TypeError, ValueError) as exc:
        raise DocumentError("bad_value", detail=f"{type(exc).__name__}: {exc}") from exc
