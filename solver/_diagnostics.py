"""Pre-solve diagnostics: the common impossibilities, found in milliseconds and told in
plain words, before any model is built."""

from __future__ import annotations

from creneau.scheduler import (
    DAY_MINUTES,
    Conflict,
    RoomSpec,
    SchedulingProblem,
    SessionSpec,
    Span,
)

__all__ = ["diagnose"]


def _clock(moment: int) -> str:
    m = moment % DAY_MINUTES
    return f"{m // 60:02d}:{m % 60:02d}"


def _fits(p: SchedulingProblem, s: SessionSpec) -> list[str]:
    return [
        r.id for r in p.rooms
        if s.requires <= r.features and (s.rooms is None or r.id in s.rooms)
        and r.capacity + r.reserve >= s.need
    ]  # fmt: skip


def _fixed_span(p: SchedulingProblem, s: SessionSpec) -> Span | None:
    if s.fixed_day is None or s.fixed_start is None:
        return None
    start = s.fixed_day * DAY_MINUTES + s.fixed_start
    return start, start + s.duration


def _spans(p: SchedulingProblem, spans: list[Span]) -> list[tuple[str, str, str]]:
    return [(p.days[a // DAY_MINUTES].day.isoformat(), _clock(a), _clock(b)) for a, b in spans]


def diagnose(p: SchedulingProblem) -> list[Conflict]:
    """Impossibilities that need no search to prove; empty when none is found."""
    found: list[Conflict] = []
    longest_day = max((d.close - d.open for d in p.days), default=0)
    only: dict[str, list[SessionSpec]] = {}  # a room's sessions that fit no other room
    for s in p.sessions:
        if s.optional:
            continue
        if s.duration > longest_day:
            found.append(
                Conflict(
                    "open_hours",
                    s.id,
                    "too_long",
                    {"title": s.title, "duration": s.duration, "longest": longest_day},
                )
            )
        rooms = _fits(p, s)
        if len(rooms) == 1:
            only.setdefault(rooms[0], []).append(s)
        if not rooms:
            found.append(
                Conflict(
                    "room_fit",
                    s.id,
                    "room_fit_none",
                    {"title": s.title, "needs": (tuple(sorted(s.requires)), s.need)},
                )
            )
        elif s.fixed_room is not None and s.fixed_room not in rooms:
            found.append(
                Conflict(
                    "fixed",
                    s.id,
                    "fixed_room_unfit",
                    {"title": s.title, "room": p.room(s.fixed_room).name},
                )
            )
        fixed = _fixed_span(p, s)
        if fixed is not None:
            for pid in s.people:
                person = p.person(pid)
                inside = person.available is None or any(
                    a <= fixed[0] and fixed[1] <= b for a, b in person.available
                )
                clear = all(fixed[1] <= a or b <= fixed[0] for a, b in person.unavailable)
                if not (inside and clear):
                    found.append(Conflict("person_availability", pid, "person_pinned_unavailable",
                                          {"name": person.name, "when": _spans(p, [fixed]),
                                           "title": s.title}))  # fmt: skip
    found += _crowded_fixed_rooms(p)
    found += _after_chains(p, longest_day)
    demand = sum(s.duration * s.occurrences for s in p.sessions if not s.optional)
    supply = sum(_room_minutes(p, r) for r in p.rooms)
    if demand > supply:
        found.append(Conflict("room_overlap", "*", "room_minutes",
                              {"demand": demand, "supply": supply}))  # fmt: skip
    else:
        found += _crowded_rooms(p, only)
    return found


def _room_minutes(p: SchedulingProblem, r: RoomSpec) -> int:
    """The minutes ``r`` is open inside the days' hours, times the sessions it holds at
    once."""
    return r.concurrent * sum(
        min(b, d.close) - max(a, d.open) for a, b in r.availability for d in p.days
        if min(b, d.close) > max(a, d.open)
    )  # fmt: skip


def _crowded_rooms(p: SchedulingProblem, only: dict[str, list[SessionSpec]]) -> list[Conflict]:
    """A room that the sessions only it can host (``only``) need longer than it is open
    (a workshop's tables in one room: the core a search takes seconds to find)."""
    found = []
    for room_id, sessions in only.items():
        r = p.room(room_id)
        demand = sum(s.duration * s.occurrences for s in sessions)
        if demand > (supply := _room_minutes(p, r)):
            found.append(Conflict("room_overlap", r.id, "room_only_minutes", {
                "room": r.name, "count": len(sessions), "demand": demand,
                "supply": supply}))  # fmt: skip
    return found


def _crowded_fixed_rooms(p: SchedulingProblem) -> list[Conflict]:
    found = []
    for r in p.rooms:
        spans = sorted(
            (span, s) for s in p.sessions
            if s.fixed_room == r.id and not s.optional and (span := _fixed_span(p, s))
        )  # fmt: skip
        for i, (span, s) in enumerate(spans):
            overlapping = [o for o_span, o in spans[:i] if o_span[1] + r.changeover > span[0]]
            if len(overlapping) >= r.concurrent:
                found.append(Conflict("room_overlap", r.id, "room_pinned_full", {
                    "room": r.name, "title": s.title, "when": _spans(p, [span]),
                    "others": tuple(o.title for o in overlapping)}))  # fmt: skip
    return found


def _after_chains(p: SchedulingProblem, longest_day: int) -> list[Conflict]:
    """A same-day precedence chain longer than the longest day."""
    by_id = {s.id: s for s in p.sessions}
    memo: dict[str, int] = {}

    def length(sid: str) -> int:  # minutes from the chain's first start to this end
        if sid not in memo:
            s = by_id[sid]
            memo[sid] = s.duration * s.occurrences + max(
                (length(o) + gap for o, gap, same in s.after if same and o in by_id), default=0
            )
        return memo[sid]

    return [
        Conflict("after", s.id, "after_chain", {"title": s.title, "minutes": length(s.id),
                                                "longest": longest_day})
        for s in p.sessions if any(same for _, _, same in s.after) and length(s.id) > longest_day
    ]  # fmt: skip
