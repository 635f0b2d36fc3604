"""What a committee reads about a programme: parity, conflicts for attendees, seats.

Computed from the edition and the placements alone (like the checker, apart from the
solver), so that the same figures describe a schedule found by the solver, one moved by
hand, or one read from a file. Keys are flat, as the schedule document's ``metrics``
holds numbers only: ``women_share``, ``women_share.format.<format>``,
``women_share.day.<date>``, ``women_share.main_stage``, ``all_male_panels``,
``parity_not_established``, ``attendee_conflicts``, ``seats_used``, ``seats_offered``,
``reserve_seats_used``, ``sessions_scheduled``, ``proposals_selected``. A share is left
out when nobody of declared gender is counted in it.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import attrs

from creneau.scheduler._schedule import Placement
from creneau.scheduler._values import EditionSnapshot, Session, minutes

__all__ = ["ParityDetails", "parity_details", "programme_metrics", "stage_people"]


def stage_people(session: Session, placement: Placement) -> tuple[str, ...]:
    """Everyone on stage for one placement: speakers, fixed and assigned moderators."""
    return tuple(dict.fromkeys((*session.speakers, *session.moderators, *placement.moderators)))


def _share(people: Iterable[str], gender: Mapping[str, str]) -> float | None:
    women = men = 0
    for pid in set(people):
        g = gender.get(pid, "undisclosed")
        women += g == "woman"
        men += g == "man"
    return None if women + men == 0 else round(women / (women + men), 4)


@attrs.frozen
class ParityDetails:
    all_male: tuple[str, ...]  # sessions with two or more on stage, all declared men
    not_established: tuple[str, ...]  # no woman or non-binary person, someone undisclosed


def parity_details(edition: EditionSnapshot, placements: Sequence[Placement]) -> ParityDetails:
    sessions = {s.id: s for s in edition.sessions}
    gender = {p.id: p.gender for p in edition.people}
    all_male: dict[str, None] = {}
    unknown: dict[str, None] = {}
    for p in placements:
        s = sessions.get(p.session)
        if s is None:
            continue
        genders = [gender.get(x, "undisclosed") for x in stage_people(s, p)]
        if len(genders) < 2 or any(g in ("woman", "nonbinary") for g in genders):
            continue
        if all(g == "man" for g in genders):
            all_male[s.id] = None
        else:
            unknown[s.id] = None
    return ParityDetails(tuple(all_male), tuple(x for x in unknown if x not in all_male))


def _overlap(a: Placement, b: Placement) -> bool:
    return (
        a.day == b.day and minutes(a.start) < minutes(b.end) and minutes(b.start) < minutes(a.end)
    )


def attendee_conflicts(edition: EditionSnapshot, placements: Sequence[Placement]) -> int:
    """Pairs of sessions an attendee chose that no choice of runs lets them attend both
    of, summed over attendees."""
    runs: dict[str, list[Placement]] = defaultdict(list)
    for p in placements:
        runs[p.session].append(p)
    clash: dict[tuple[str, str], bool] = {}
    total = 0
    for reg in edition.registrations:
        chosen = sorted({s for s in reg.sessions if s in runs})
        for a, b in itertools.combinations(chosen, 2):
            if (a, b) not in clash:
                clash[(a, b)] = all(_overlap(x, y) for x in runs[a] for y in runs[b])
            total += clash[(a, b)]
    return total


def programme_metrics(
    edition: EditionSnapshot, placements: Sequence[Placement]
) -> dict[str, float | int]:
    sessions = {s.id: s for s in edition.sessions}
    rooms = {r.id: r for r in edition.rooms}
    gender = {p.id: p.gender for p in edition.people}
    known = [p for p in placements if p.session in sessions]
    out: dict[str, float | int] = {}

    def share(key: str, people: Iterable[str]) -> None:
        value = _share(people, gender)
        if value is not None:
            out[key] = value

    everyone = [x for p in known for x in stage_people(sessions[p.session], p)]
    share("women_share", everyone)
    by_format: dict[str, list[str]] = defaultdict(list)
    by_day: dict[str, list[str]] = defaultdict(list)
    for p in known:
        people = stage_people(sessions[p.session], p)
        by_format[sessions[p.session].format] += people
        by_day[p.day.isoformat()] += people
    for fmt in sorted(by_format):
        share(f"women_share.format.{fmt}", by_format[fmt])
    for day in sorted(by_day):
        share(f"women_share.day.{day}", by_day[day])
    if edition.rooms:
        main = max(edition.rooms, key=lambda r: r.capacity)  # the first of the largest
        share(
            "women_share.main_stage",
            [x for p in known if p.room == main.id for x in stage_people(sessions[p.session], p)],
        )
    details = parity_details(edition, known)
    out["all_male_panels"] = len(details.all_male)
    out["parity_not_established"] = len(details.not_established)
    out["attendee_conflicts"] = attendee_conflicts(edition, known)
    used = offered = reserve = 0
    for p in known:
        room = rooms.get(p.room)
        if room is None:
            continue
        s = sessions[p.session]
        need = max(s.attendance, s.capacity or 0)
        used += min(need, room.capacity + room.reserve)
        offered += room.capacity
        reserve += max(0, min(need, room.capacity + room.reserve) - room.capacity)
    out["seats_used"] = used
    out["seats_offered"] = offered
    out["reserve_seats_used"] = reserve
    out["sessions_scheduled"] = len({p.session for p in known})
    out["proposals_selected"] = len({p.session for p in known if sessions[p.session].optional})
    return out
