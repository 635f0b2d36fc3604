"""An independent check of a schedule against every hard rule of its edition.

Written from the spec, apart from the solver: it shares no code with the model (not
even the problem the model is built from), so that a mistake in one is caught by the
other. It reads the edition as the committee wrote it and the placements as the
schedule document writes them.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence

import attrs

from scheduler._schedule import Placement
from scheduler._values import EditionSnapshot, Window

__all__ = ["Violation", "check_schedule"]


@attrs.frozen
class Violation:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


def _m(clock: str) -> int:
    hours, _, mins = clock.partition(":")
    return int(hours) * 60 + int(mins)


@attrs.frozen
class _Slot:
    """A placement, with its times as (day, minutes)."""

    p: Placement
    day: dt.date
    start: int
    end: int

    def overlaps(self, other: _Slot, pad: int = 0) -> bool:
        return (
            self.day == other.day and self.start < other.end + pad and other.start < self.end + pad
        )

    def label(self) -> str:
        return (
            f"{self.p.session}#{self.p.occurrence} ({self.day.isoformat()} "
            f"{self.p.start}–{self.p.end}, {self.p.room})"
        )


def _within(day: dt.date, start: int, end: int, windows: Iterable[Window]) -> bool:
    return any(w.day == day and _m(w.start) <= start and end <= _m(w.end) for w in windows)


def _touches(day: dt.date, start: int, end: int, windows: Iterable[Window]) -> bool:
    return any(w.day == day and start < _m(w.end) and _m(w.start) < end for w in windows)


def check_schedule(edition: EditionSnapshot, placements: Sequence[Placement]) -> list[Violation]:
    """Every hard rule the placements break; empty when the schedule is valid."""
    out: list[Violation] = []

    def bad(rule: str, message: str) -> None:
        out.append(Violation(rule, message))

    days = {d.day: d for d in edition.days}
    rooms = {r.id: r for r in edition.rooms}
    people = {p.id: p for p in edition.people}
    sessions = {s.id: s for s in edition.sessions}
    venues_travel = {(t.from_, t.to): t.minutes for t in edition.travel}
    venues_travel.update({(t.to, t.from_): t.minutes for t in edition.travel})
    pol = edition.policies

    slots: list[_Slot] = []
    by_session: dict[str, list[_Slot]] = defaultdict(list)
    for p in placements:
        s = sessions.get(p.session)
        if s is None:
            bad("placement", f"{p.session} is not a session of the edition")
            continue
        slot = _Slot(p, p.day, _m(p.start), _m(p.end))
        slots.append(slot)
        by_session[p.session].append(slot)

    # Each session: its occurrences, its length, the calendar, its windows, its pin.
    for s in edition.sessions:
        mine = sorted(by_session.get(s.id, []), key=lambda x: x.p.occurrence)
        # A proposal is placed whole or not at all; the pinned start is the first run's.
        numbers = [x.p.occurrence for x in mine]
        if not mine and s.optional:
            continue
        if numbers != list(range(1, s.occurrences + 1)):
            bad("placement", f"{s.id} needs occurrences 1..{s.occurrences}, has {numbers}")
        for x in mine:
            day = days.get(x.day)
            if day is None:
                bad("open_hours", f"{x.label()}: not a day of the edition")
                continue
            if x.end - x.start != s.duration:
                bad("placement", f"{x.label()}: lasts {x.end - x.start} min, not {s.duration}")
            if x.start % edition.granularity:
                bad("open_hours", f"{x.label()}: starts off the {edition.granularity}-minute grid")
            if x.start < _m(day.open) or x.end > _m(day.close):
                bad("open_hours", f"{x.label()}: outside open hours {day.open}–{day.close}")
            for pause in day.breaks:
                if x.start < _m(pause.end) and _m(pause.start) < x.end:
                    bad("open_hours", f"{x.label()}: runs into the break {pause.start}–{pause.end}")
            if s.windows is not None and not _within(x.day, x.start, x.end, s.windows):
                bad("windows", f"{x.label()}: outside the session's windows")
            if s.fixed is not None:
                f = s.fixed
                if (
                    (f.day is not None and f.day != x.day)
                    or (f.start is not None and x.p.occurrence == 1 and _m(f.start) != x.start)
                    or (f.room is not None and f.room != x.p.room)
                ):
                    bad("fixed", f"{x.label()}: not where the committee pinned it")
        for a, b in itertools.combinations(mine, 2):
            if a.overlaps(b):
                bad("occurrences", f"{a.label()} and {b.label()} overlap")

    # Rooms: existence, fit, availability, how many at once, changeover.
    for x in slots:
        s = sessions[x.p.session]
        room = rooms.get(x.p.room)
        if room is None:
            bad("room_fit", f"{x.label()}: unknown room")
            continue
        missing = set(s.requires) - set(room.features)
        if missing:
            bad("room_fit", f"{x.label()}: the room lacks {', '.join(sorted(missing))}")
        if s.rooms is not None and room.id not in s.rooms:
            bad("room_fit", f"{x.label()}: not among the session's rooms")
        need = max(s.attendance, s.capacity or 0)
        if room.capacity + room.reserve < need:
            bad(
                "room_fit",
                f"{x.label()}: needs {need} seats, the room has {room.capacity} + {room.reserve}",
            )
        if room.availability is not None and not _within(x.day, x.start, x.end, room.availability):
            bad("room_availability", f"{x.label()}: the room is not available then")
    by_room: dict[str, list[_Slot]] = defaultdict(list)
    for x in slots:
        by_room[x.p.room].append(x)
    for room_id, held in by_room.items():
        room = rooms.get(room_id)
        if room is None:
            continue
        changeover = pol.changeover if room.changeover is None else room.changeover
        # The load is highest at some session's start: count who occupies the room then,
        # each session holding it until its end plus the changeover.
        for x in held:
            present = [
                y
                for y in held
                if y is not x and y.day == x.day and y.start <= x.start < y.end + changeover
            ]
            if len(present) + 1 > room.concurrent:
                others = ", ".join(y.label() for y in present)
                bad(
                    "room_overlap",
                    f"{x.label()}: the room already holds {others}"
                    + (f" (with {changeover} min of changeover)" if changeover else ""),
                )

    # People: availability, one place at a time with gap and travel, sessions per day.
    by_person: dict[str, list[_Slot]] = defaultdict(list)
    for x in slots:
        s = sessions[x.p.session]
        for pid in dict.fromkeys((*s.speakers, *s.moderators, *x.p.moderators)):
            by_person[pid].append(x)
    for pid, theirs in by_person.items():
        person = people.get(pid)
        if person is None:
            bad("person_availability", f"{pid} is not a person of the edition")
            continue
        for x in theirs:
            if person.available is not None and not _within(
                x.day, x.start, x.end, person.available
            ):
                bad("person_availability", f"{pid} is not available for {x.label()}")
            if _touches(x.day, x.start, x.end, person.unavailable):
                bad("person_availability", f"{pid} is unavailable during {x.label()}")
        for a, b in itertools.combinations(sorted(theirs, key=lambda y: (y.day, y.start)), 2):
            if a.day != b.day:
                continue
            va = rooms[a.p.room].venue if a.p.room in rooms else None
            vb = rooms[b.p.room].venue if b.p.room in rooms else None
            walk = 0 if va == vb else venues_travel.get((va or "", vb or ""), 0)
            needed = pol.speaker_gap + walk
            if b.start < a.end + needed:
                bad(
                    "person_overlap",
                    f"{pid}: {a.label()} then {b.label()} leave less than "
                    f"{needed} min between them",
                )
        if person.max_per_day is not None:
            per_day: dict[dt.date, int] = defaultdict(int)
            for x in theirs:
                per_day[x.day] += 1
            for date, count in per_day.items():
                if count > person.max_per_day:
                    bad(
                        "max_per_day",
                        f"{pid}: {count} sessions on {date.isoformat()}, "
                        f"at most {person.max_per_day}",
                    )

    # Plenaries, precedence, sessions kept apart.
    for x in slots:
        s = sessions[x.p.session]
        if s.exclusive:
            audiences = set(s.audiences or edition.audiences)
            for y in slots:
                beside = sessions[y.p.session]
                if (
                    beside.id != s.id
                    and audiences & set(beside.audiences or edition.audiences)
                    and x.overlaps(y)
                ):
                    bad("exclusive", f"{y.label()} runs beside the exclusive {x.label()}")
        for rule in s.after:
            for earlier in by_session.get(rule.session, []):
                if (x.day, x.start) < (earlier.day, earlier.end + rule.min_gap):
                    bad(
                        "after",
                        f"{x.label()} must start {rule.min_gap} min or more after "
                        f"{earlier.label()} ends",
                    )
                if rule.same_day and x.day != earlier.day:
                    bad("after", f"{x.label()} must be on the same day as {earlier.label()}")
        for other_id in s.not_parallel:
            for y in by_session.get(other_id, []):
                if x.overlaps(y):
                    bad("not_parallel", f"{x.label()} overlaps {y.label()}")

    # Moderators the solver assigned.
    for x in slots:
        s = sessions[x.p.session]
        hosts = x.p.moderators
        if s.needs_moderator and len(hosts) != 1:
            bad("moderator", f"{x.label()}: needs one moderator, has {len(hosts)}")
        if not s.needs_moderator and hosts:
            bad("moderator", f"{x.label()}: needs no moderator, was given {', '.join(hosts)}")
        for pid in hosts:
            person = people.get(pid)
            if person is not None and not person.can_moderate:
                bad("moderator", f"{x.label()}: {pid} may not moderate")
            if pid in s.speakers or pid in s.moderators:
                bad("moderator", f"{x.label()}: {pid} is already on the session")

    # Parity, when the committee made it a hard rule.
    if pol.parity.hard:
        gender = {p.id: p.gender for p in edition.people}
        if pol.parity.no_all_male_panels:
            for x in slots:
                s = sessions[x.p.session]
                on_stage = set((*s.speakers, *s.moderators, *x.p.moderators))
                if len(on_stage) >= 2 and all(gender.get(p) == "man" for p in on_stage):
                    bad("no_all_male_panels", f"{x.label()}: only men on stage")
        if pol.parity.women_min_share > 0:
            everyone = {
                pid
                for x in slots
                for pid in (*sessions[x.p.session].speakers, *sessions[x.p.session].moderators,
                            *x.p.moderators)
            }  # fmt: skip
            women = sum(gender.get(p) == "woman" for p in everyone)
            men = sum(gender.get(p) == "man" for p in everyone)
            if women + men and women < pol.parity.women_min_share * (women + men) - 1e-9:
                bad(
                    "parity_share",
                    f"{women} women out of {women + men} women and men on the programme: "
                    f"below {pol.parity.women_min_share:.0%}",
                )

    # Audience tracks: how many of an audience's sessions run, wherever the count changes.
    for track in pol.tracks:
        theirs = [
            x
            for x in slots
            if track.audience in (sessions[x.p.session].audiences or edition.audiences)
        ]
        for w in track.windows:
            day = days.get(w.day)
            if day is None:
                continue
            lo, hi = max(_m(w.start), _m(day.open)), min(_m(w.end), _m(day.close))
            moments = {lo} | {m for x in theirs if x.day == w.day for m in (x.start, x.end)}
            moments |= {_m(b.end) for b in day.breaks}
            for t in sorted(moments):
                if not lo <= t < hi or any(_m(b.start) <= t < _m(b.end) for b in day.breaks):
                    continue
                count = sum(1 for x in theirs if x.day == w.day and x.start <= t < x.end)
                when = f"{w.day.isoformat()} {t // 60:02d}:{t % 60:02d}"
                if count < track.min_parallel:
                    bad("tracks", f"{track.audience}: {count} sessions at {when}, "
                                  f"at least {track.min_parallel}")  # fmt: skip
                if track.max_parallel is not None and count > track.max_parallel:
                    bad("tracks", f"{track.audience}: {count} sessions at {when}, "
                                  f"at most {track.max_parallel}")  # fmt: skip
    return out
