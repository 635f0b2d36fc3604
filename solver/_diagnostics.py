"""Pre-solve diagnostics: the common impossibilities, found in milliseconds and told in
plain words, before any model is built."""

from __future__ import annotations

from scheduler._problem import DAY_MINUTES, Conflict, SchedulingProblem, SessionSpec, Span

__all__ = ["diagnose"]


def _clock(moment: int) -> str:
    m = moment % DAY_MINUTES
    return f"{m // 60:02d}:{m % 60:02d}"


def _when(p: SchedulingProblem, span: Span) -> str:
    day = p.days[span[0] // DAY_MINUTES].day.isoformat()
    return f"{day} {_clock(span[0])}–{_clock(span[1])}"


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


def diagnose(p: SchedulingProblem) -> list[Conflict]:
    """Impossibilities that need no search to prove; empty when none is found."""
    found: list[Conflict] = []
    longest_day = max((d.close - d.open for d in p.days), default=0)
    for s in p.sessions:
        if s.optional:
            continue
        if s.duration > longest_day:
            found.append(
                Conflict(
                    "open_hours",
                    s.id,
                    f"« {s.title} » lasts {s.duration} min, "
                    f"longer than the longest day ({longest_day} min)",
                )
            )
        rooms = _fits(p, s)
        if not rooms:
            wants = []
            if s.requires:
                wants.append("needs " + ", ".join(f"`{f}`" for f in sorted(s.requires)))
            if s.need:
                wants.append(f"{s.need} seats")
            if s.rooms is not None:
                wants.append("only " + ", ".join(sorted(s.rooms)))
            found.append(
                Conflict(
                    "room_fit", s.id, f"« {s.title} » {' and '.join(wants)}: no room has all of it"
                )
            )
        elif s.fixed_room is not None and s.fixed_room not in rooms:
            found.append(
                Conflict(
                    "fixed",
                    s.id,
                    f"« {s.title} » is pinned to {s.fixed_room}, "
                    "which lacks the features or seats it needs",
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
                    found.append(
                        Conflict(
                            "person_availability",
                            pid,
                            f"{person.name} is not available {_when(p, fixed)}, when « {s.title} » "
                            "is pinned",
                        )
                    )
    found += _crowded_fixed_rooms(p)
    found += _after_chains(p, longest_day)
    demand = sum(s.duration * s.occurrences for s in p.sessions if not s.optional)
    supply = sum(
        sum(min(b, d.close) - max(a, d.open) for a, b in r.availability for d in p.days
            if min(b, d.close) > max(a, d.open)) * r.concurrent
        for r in p.rooms
    )  # fmt: skip
    if demand > supply:
        found.append(
            Conflict(
                "room_overlap",
                "*",
                f"the sessions need {demand} room-minutes; the rooms offer {supply}",
            )
        )
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
                names = ", ".join(f"« {o.title} »" for o in overlapping)
                found.append(
                    Conflict(
                        "room_overlap",
                        r.id,
                        f"{r.name} is pinned for « {s.title} » "
                        f"{_when(p, span)} while already holding {names}",
                    )
                )
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
        Conflict("after", s.id, f"the same-day chain of sessions ending with « {s.title} » "
                 f"needs {length(s.id)} min, more than the longest day ({longest_day} min)")
        for s in p.sessions if any(same for _, _, same in s.after) and length(s.id) > longest_day
    ]  # fmt: skip
