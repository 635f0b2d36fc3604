"""A first-fit construction: a schedule built in one greedy pass, handed to CP-SAT as a
hint so that large editions get a first schedule in seconds (see shared/notes,
solver-scale.md: a plain model finds none in 300 s on ~500 sessions).

Order: pinned sessions first, then every session after all it must follow, the most
constrained first (fewest start times left); each run goes to the earliest start in the
smallest room that fits. It keeps every hard rule; it may fail to place a session, in
which case the hint is partial and CP-SAT does the rest.
"""

from __future__ import annotations

from collections import defaultdict

from scheduler._problem import DAY_MINUTES, SchedulingProblem, SessionSpec, Span

__all__ = ["first_fit"]

Placed = dict[tuple[str, int], tuple[int, str]]  # (session, run) -> (start, room)


def _inside(s: int, d: int, spans: tuple[Span, ...]) -> bool:
    return any(a <= s and s + d <= b for a, b in spans)


def _clear(s: int, e: int, spans: list[tuple[int, int]]) -> bool:
    return all(e <= a or b <= s for a, b in spans)


def _starts(p: SchedulingProblem, s: SessionSpec) -> list[int]:
    g, d = p.granularity, s.duration
    values = []
    for day in p.days:
        if s.fixed_day is not None and day.index != s.fixed_day:
            continue
        midnight = day.index * DAY_MINUTES
        first = midnight + -(-(day.open - midnight) // g) * g
        for start in range(first, day.close - d + 1, g):
            if not all(start + d <= a or b <= start for a, b in day.breaks):
                continue
            if s.windows is not None and not _inside(start, d, s.windows):
                continue
            if any(not _available(p, pid, start, d) for pid in s.people):
                continue
            values.append(start)
    return values


def _available(p: SchedulingProblem, pid: str, start: int, d: int) -> bool:
    person = p.person(pid)
    if person.available is not None and not _inside(start, d, person.available):
        return False
    return all(start + d <= a or b <= start for a, b in person.unavailable)


def _order(p: SchedulingProblem, starts: dict[str, list[int]]) -> list[SessionSpec]:
    by_id = {s.id: s for s in p.sessions}
    done: set[str] = set()
    order: list[SessionSpec] = []
    pending = sorted(
        (s for s in p.sessions if not s.optional),
        key=lambda s: (s.fixed_start is None, len(starts[s.id]) * len(p.rooms), -s.need),
    )
    while pending:
        for s in pending:
            if all(o in done or o not in by_id or by_id[o].optional for o, _, _ in s.after):
                order.append(s)
                done.add(s.id)
                pending.remove(s)
                break
        else:  # a cycle cannot be (documents are checked); place the rest as they come
            order += pending
            break
    return order


def first_fit(p: SchedulingProblem) -> Placed:
    rooms = {r.id: r for r in p.rooms}
    by_size = sorted(p.rooms, key=lambda r: (r.capacity + r.reserve, r.id))
    room_busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
    person_busy: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    placed: Placed = {}
    runs: dict[str, list[tuple[int, int]]] = defaultdict(list)  # session -> [(start, end)]
    exclusive: list[tuple[int, int, frozenset[str]]] = []
    audience_busy: list[tuple[int, int, frozenset[str]]] = []
    starts = {s.id: _starts(p, s) for s in p.sessions}
    sessions = {s.id: s for s in p.sessions}

    def fits(s: SessionSpec, room_id: str) -> bool:
        r = rooms[room_id]
        return (s.requires <= r.features and (s.rooms is None or room_id in s.rooms)
                and r.capacity + r.reserve >= s.need)  # fmt: skip

    for s in _order(p, starts):
        candidates = [r for r in by_size if fits(s, r.id)]
        if s.fixed_room is not None:
            candidates = [r for r in candidates if r.id == s.fixed_room]
        earliest = 0
        for k in range(1, s.occurrences + 1):
            spot = _find(p, s, k, starts[s.id], candidates, earliest, room_busy, person_busy,
                         runs, sessions, exclusive, audience_busy)  # fmt: skip
            if spot is None:
                break
            start, room = spot
            end = start + s.duration
            placed[(s.id, k)] = (start, room)
            r = rooms[room]
            room_busy[room].append((start, end + r.changeover))
            for pid in s.people:
                person_busy[pid].append((start, end, r.venue))
            runs[s.id].append((start, end))
            audience_busy.append((start, end, s.audiences))
            if s.exclusive:
                exclusive.append((start, end, s.audiences))
            earliest = end
    return placed


def _find(
    p: SchedulingProblem,
    s: SessionSpec,
    k: int,
    starts: list[int],
    candidates: list,  # type: ignore[type-arg]
    earliest: int,
    room_busy: dict[str, list[tuple[int, int]]],
    person_busy: dict[str, list[tuple[int, int, str]]],
    runs: dict[str, list[tuple[int, int]]],
    sessions: dict[str, SessionSpec],
    exclusive: list[tuple[int, int, frozenset[str]]],
    audience_busy: list[tuple[int, int, frozenset[str]]],
) -> tuple[int, str] | None:
    d = s.duration
    for start in starts:
        if start < earliest:
            continue
        if k == 1 and s.fixed_start is not None and start % DAY_MINUTES != s.fixed_start:
            continue
        end = start + d
        day = start // DAY_MINUTES
        if not _precedence_ok(s, start, day, runs, sessions):
            continue
        if any(a < end and start < b and (aud & s.audiences) for a, b, aud in exclusive):
            continue
        if s.exclusive and any(
            a < end and start < b and (aud & s.audiences) for a, b, aud in audience_busy
        ):
            continue
        if any(_clear(start, end, runs[o]) is False for o in s.not_parallel) or any(
            s.id in sessions[o].not_parallel and not _clear(start, end, runs[o]) for o in runs
        ):
            continue
        for r in candidates:
            if not _inside(start, d, r.availability):
                continue
            busy = room_busy[r.id]
            overlapping = sum(1 for a, b in busy if a < end + r.changeover and start < b)
            if overlapping >= r.concurrent:
                continue
            if all(_person_free(p, pid, start, end, r.venue, person_busy) for pid in s.people):
                return start, r.id
    return None


def _precedence_ok(
    s: SessionSpec,
    start: int,
    day: int,
    runs: dict[str, list[tuple[int, int]]],
    sessions: dict[str, SessionSpec],
) -> bool:
    for other, gap, same_day in s.after:
        for a, b in runs.get(other, ()):
            if start < b + gap or (same_day and a // DAY_MINUTES != day):
                return False
    return True


def _person_free(
    p: SchedulingProblem,
    pid: str,
    start: int,
    end: int,
    venue: str,
    busy: dict[str, list[tuple[int, int, str]]],
) -> bool:
    person = p.person(pid)
    theirs = busy[pid]
    if person.max_per_day is not None:
        day = start // DAY_MINUTES
        if sum(1 for a, _, _ in theirs if a // DAY_MINUTES == day) >= person.max_per_day:
            return False
    for a, b, v in theirs:
        need = p.speaker_gap + p.travel_minutes(v, venue)
        if start < b + need and a < end + need:
            return False
    return True
