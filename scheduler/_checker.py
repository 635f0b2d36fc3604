"""The domain's check of a programme against every hard rule of its edition.

What a hand move, an accepted schedule and the published programme are held to. It reads
the edition as a snapshot and the placements as the schedule document writes them, apart
from the solver (it shares no code with the model). Each violation is a rule id, a code
and its data, worded by the adapters. (``creneau check`` uses another validator still,
written from the format alone: ``adapters/validator.py``.)
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from creneau.scheduler._schedule import Placement
from creneau.scheduler._values import EditionSnapshot, Window

__all__ = ["Slot", "Violation", "check_schedule"]

# A placement as violations name it: (session, occurrence, day, start, end, room).
Slot = tuple[str, int, str, str, str, str]


@attrs.frozen
class Violation:
    rule: str
    code: str
    params: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)
    _items: tuple[tuple[str, Any], ...] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_items", tuple(sorted(self.params.items(), key=str)))

    def __str__(self) -> str:
        data = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"[{self.rule}] {self.code}" + (f" ({data})" if data else "")


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

    @property
    def label(self) -> Slot:
        p = self.p
        return (p.session, p.occurrence, self.day.isoformat(), p.start, p.end, p.room)


def _within(day: dt.date, start: int, end: int, windows: Iterable[Window]) -> bool:
    return any(w.day == day and _m(w.start) <= start and end <= _m(w.end) for w in windows)


def _touches(day: dt.date, start: int, end: int, windows: Iterable[Window]) -> bool:
    return any(w.day == day and start < _m(w.end) and _m(w.start) < end for w in windows)


def check_schedule(edition: EditionSnapshot, placements: Sequence[Placement]) -> list[Violation]:
    """Every hard rule the placements break; empty when the schedule is valid."""
    out: list[Violation] = []

    def bad(rule: str, code: str, **params: Any) -> None:
        out.append(Violation(rule, code, params))

    days = {d.day: d for d in edition.days}
    rooms = {r.id: r for r in edition.rooms}
    people = {p.id: p for p in edition.people}
    sessions = {s.id: s for s in edition.sessions}
    venues_travel = {(t.from_, t.to): t.minutes for t in edition.travel}
    venues_travel.update({(t.to, t.from_): t.minutes for t in edition.travel})
    pol = edition.policies

    def walk(a: _Slot, b: _Slot) -> int:
        va = rooms[a.p.room].venue if a.p.room in rooms else None
        vb = rooms[b.p.room].venue if b.p.room in rooms else None
        return 0 if va == vb else venues_travel.get((va or "", vb or ""), 0)

    def need(session_id: str) -> int:
        s = sessions[session_id]
        return max(s.attendance, s.capacity or 0)

    slots: list[_Slot] = []
    by_session: dict[str, list[_Slot]] = defaultdict(list)
    for p in placements:
        x = _Slot(p, p.day, _m(p.start), _m(p.end))
        if p.session not in sessions:
            bad("placement", "unknown_session", slot=x.label)
            continue
        slots.append(x)
        by_session[p.session].append(x)

    # Each session: its occurrences, its length, the calendar, its windows, its pin.
    for s in edition.sessions:
        mine = sorted(by_session.get(s.id, []), key=lambda x: x.p.occurrence)
        # A proposal is placed whole or not at all; the pinned start is the first run's.
        numbers = [x.p.occurrence for x in mine]
        if not mine and s.optional:
            continue
        if not mine:
            bad("placement", "not_scheduled", session=s.id)
        elif numbers != list(range(1, s.occurrences + 1)):
            bad("placement", "wrong_occurrences", session=s.id, expected=s.occurrences,
                found=tuple(numbers))  # fmt: skip
        for x in mine:
            day = days.get(x.day)
            if day is None:
                bad("open_hours", "not_a_day", slot=x.label)
                continue
            if x.end - x.start != s.duration:
                bad("placement", "wrong_duration", slot=x.label, minutes=x.end - x.start,
                    duration=s.duration)  # fmt: skip
            if x.start % edition.granularity:
                bad("open_hours", "off_grid", slot=x.label, step=edition.granularity)
            if x.start < _m(day.open) or x.end > _m(day.close):
                bad("open_hours", "outside_open_hours", slot=x.label, open=day.open,
                    close=day.close)  # fmt: skip
            for pause in day.breaks:
                if x.start < _m(pause.end) and _m(pause.start) < x.end:
                    bad("open_hours", "in_break", slot=x.label, start=pause.start,
                        end=pause.end, label=pause.label)  # fmt: skip
            if s.windows is not None and not _within(x.day, x.start, x.end, s.windows):
                bad("windows", "outside_windows", slot=x.label)
            if s.fixed is not None:
                f = s.fixed
                if (
                    (f.day is not None and f.day != x.day)
                    or (f.start is not None and x.p.occurrence == 1 and _m(f.start) != x.start)
                    or (f.room is not None and f.room != x.p.room)
                ):
                    bad("fixed", "not_where_pinned", slot=x.label)
        for a, b in itertools.combinations(mine, 2):
            if a.overlaps(b):
                bad("occurrences", "occurrences_overlap", slot=a.label, other=b.label)

    # Rooms: existence, fit, availability, how many at once, changeover, shared seats.
    for x in slots:
        s = sessions[x.p.session]
        room = rooms.get(x.p.room)
        if room is None:
            bad("room_fit", "unknown_room", slot=x.label)
            continue
        missing = set(s.requires) - set(room.features)
        if missing:
            bad("room_fit", "room_lacks", slot=x.label, features=tuple(sorted(missing)))
        if s.rooms is not None and room.id not in s.rooms:
            bad("room_fit", "room_not_allowed", slot=x.label)
        if room.capacity + room.reserve < need(s.id):
            bad("room_fit", "room_too_small", slot=x.label, need=need(s.id),
                capacity=room.capacity, reserve=room.reserve)  # fmt: skip
        if room.availability is not None and not _within(x.day, x.start, x.end, room.availability):
            bad("room_availability", "room_closed", slot=x.label)
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
                bad("room_overlap", "room_taken", slot=x.label,
                    others=tuple(y.label for y in present), changeover=changeover)  # fmt: skip
            if room.concurrent > 1:
                seated = [y for y in held if y.day == x.day and y.start <= x.start < y.end]
                total = sum(need(y.p.session) for y in seated)
                if total > room.capacity + room.reserve:
                    bad("room_overlap", "hall_seats", slot=x.label,
                        others=tuple(y.label for y in seated if y is not x), need=total,
                        capacity=room.capacity, reserve=room.reserve)  # fmt: skip

    # People: availability, one place at a time with gap and travel, sessions per day.
    by_person: dict[str, list[_Slot]] = defaultdict(list)
    for x in slots:
        s = sessions[x.p.session]
        for pid in dict.fromkeys((*s.speakers, *s.moderators, *x.p.moderators)):
            by_person[pid].append(x)
    for pid, theirs in by_person.items():
        person = people.get(pid)
        if person is None:
            bad("person_availability", "unknown_person", person=pid)
            continue
        for x in theirs:
            if person.available is not None and not _within(
                x.day, x.start, x.end, person.available
            ):
                bad("person_availability", "person_not_available", person=pid, slot=x.label)
            if _touches(x.day, x.start, x.end, person.unavailable):
                bad("person_availability", "person_unavailable", person=pid, slot=x.label)
        for a, b in itertools.combinations(sorted(theirs, key=lambda y: (y.day, y.start)), 2):
            if a.day != b.day:
                continue
            needed = pol.speaker_gap + walk(a, b)
            if b.start < a.end + needed:
                bad("person_overlap", "person_too_close", person=pid, slot=a.label,
                    other=b.label, minutes=needed)  # fmt: skip
        if person.max_per_day is not None:
            per_day: dict[dt.date, int] = defaultdict(int)
            for x in theirs:
                per_day[x.day] += 1
            for date, count in per_day.items():
                if count > person.max_per_day:
                    bad("max_per_day", "too_many_per_day", person=pid, count=count,
                        day=date.isoformat(), maximum=person.max_per_day)  # fmt: skip

    def audiences(session_id: str) -> set[str]:
        return set(sessions[session_id].audiences or edition.audiences)

    # Plenaries, precedence, sessions kept apart, time for the audience to move.
    for x in slots:
        s = sessions[x.p.session]
        if s.exclusive:
            served = audiences(s.id)
            for y in slots:
                if y.p.session != s.id and served & audiences(y.p.session) and x.overlaps(y):
                    bad("exclusive", "beside_exclusive", slot=y.label, other=x.label)
        for rule in s.after:
            for earlier in by_session.get(rule.session, []):
                if (x.day, x.start) < (earlier.day, earlier.end + rule.min_gap):
                    bad("after", "too_soon_after", slot=x.label, other=earlier.label,
                        gap=rule.min_gap)  # fmt: skip
                if rule.same_day and x.day != earlier.day:
                    bad("after", "not_same_day", slot=x.label, other=earlier.label)
        for other_id in s.not_parallel:
            for y in by_session.get(other_id, []):
                if x.overlaps(y):
                    bad("not_parallel", "parallel", slot=x.label, other=y.label)
    if pol.attendee_gap > 0 and "attendee_gap" not in pol.weights:
        ordered = sorted(slots, key=lambda y: (y.day, y.start))
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                if b.day != a.day:
                    break
                if (
                    b.p.room != a.p.room
                    and a.end <= b.start < a.end + pol.attendee_gap + walk(a, b)
                    and audiences(a.p.session) & audiences(b.p.session)
                ):
                    bad("attendee_gap", "no_time_to_move", slot=b.label, other=a.label,
                        minutes=pol.attendee_gap + walk(a, b))  # fmt: skip

    # Moderators the solver assigned.
    for x in slots:
        s = sessions[x.p.session]
        hosts = x.p.moderators
        if s.needs_moderator and len(hosts) != 1:
            bad("moderator", "moderator_count", slot=x.label, count=len(hosts))
        if not s.needs_moderator and hosts:
            bad("moderator", "moderator_not_needed", slot=x.label, people=tuple(hosts))
        for pid in hosts:
            person = people.get(pid)
            if person is not None and not person.can_moderate:
                bad("moderator", "cannot_moderate", slot=x.label, person=pid)
            if pid in s.speakers or pid in s.moderators:
                bad("moderator", "moderator_on_session", slot=x.label, person=pid)

    # Parity, when the committee made it a hard rule.
    if pol.parity.hard:
        gender = {p.id: p.gender for p in edition.people}
        if pol.parity.no_all_male_panels:
            for x in slots:
                s = sessions[x.p.session]
                on_stage = set((*s.speakers, *s.moderators, *x.p.moderators))
                if len(on_stage) >= 2 and all(gender.get(p) == "man" for p in on_stage):
                    bad("no_all_male_panels", "all_men", slot=x.label)
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
                bad("parity_share", "women_share_low", women=women, total=women + men,
                    share=pol.parity.women_min_share)  # fmt: skip

    # Audience tracks: how many of an audience's sessions run, wherever the count changes.
    for track in pol.tracks:
        theirs = [x for x in slots if track.audience in audiences(x.p.session)]
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
                when = f"{t // 60:02d}:{t % 60:02d}"
                if count < track.min_parallel:
                    bad("tracks", "track_too_few", audience=track.audience, count=count,
                        day=w.day.isoformat(), time=when, minimum=track.min_parallel)  # fmt: skip
                if track.max_parallel is not None and count > track.max_parallel:
                    bad("tracks", "track_too_many", audience=track.audience, count=count,
                        day=w.day.isoformat(), time=when, maximum=track.max_parallel)  # fmt: skip
    return out
