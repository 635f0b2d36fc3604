"""Lower bounds on the objective that cost no search: what no programme can avoid.

Each bound takes a part of the objective's terms, disjoint from the others' parts, and
finds the least those terms can cost in any programme; their sum is at most the
objective of every programme. Two parts:

- ``rooms``: every run of a session that must take place sits in one room, so it costs
  at least the cheapest of its rooms (reserve chairs used, empty seats);
- ``themes``: sessions sharing a theme are kept apart at a cost per overlapping pair
  (among the pairs the objective keeps). When a theme's sessions add up to more minutes
  than the edition is open, some of them run at the same time: with ``n_t`` of them
  running at minute ``t``, the overlapping minutes of their pairs add up to the sum over
  ``t`` of ``n_t (n_t - 1) / 2``, which is least when the minutes are spread as evenly as
  possible, and a pair overlaps for no longer than the shorter of its two sessions. So
  at least that many pairs overlap.
"""

from __future__ import annotations

from creneau.scheduler import SchedulingProblem
from creneau.solver._model import pair_weights

__all__ = ["cheap_bounds"]


def _open_minutes(p: SchedulingProblem) -> int:
    total = 0
    for day in p.days:
        total += (
            day.close
            - day.open
            - sum(
                min(b, day.close) - max(a, day.open)
                for a, b in day.breaks
                if a < day.close and b > day.open
            )
        )
    return total


def _rooms(p: SchedulingProblem) -> int:
    w = p.weights
    bound = 0
    for s in p.sessions:
        if s.optional:
            continue
        costs = []
        for r in p.rooms:
            if not (s.requires <= r.features and (s.rooms is None or r.id in s.rooms)
                    and r.capacity + r.reserve >= s.need):  # fmt: skip
                continue
            cost = w["reserve_seats"] * max(0, s.need - r.capacity)
            if s.need and r.capacity > s.need:
                cost += w["oversized_room"] * ((r.capacity - s.need) // 10)
            costs.append(cost)
        if costs:
            bound += min(costs) * s.occurrences
    return bound


def _least_pair_minutes(minutes: int, span: int) -> int:
    """The least sum over ``span`` minutes of n(n-1)/2, the n adding up to ``minutes``."""
    if span <= 0:
        return 0
    q, r = divmod(minutes, span)
    return r * (q + 1) * q // 2 + (span - r) * q * (q - 1) // 2


def _themes(p: SchedulingProblem) -> int:
    weight = p.weights["same_theme_parallel"]
    if not weight:
        return 0
    kept = pair_weights(p)
    span = _open_minutes(p)
    by_theme: dict[str, list[tuple[str, int]]] = {}
    for s in p.sessions:
        if s.occurrences == 1 and not s.exclusive and not s.optional:
            for theme in s.themes:
                by_theme.setdefault(theme, []).append((s.id, s.duration))
    bound = 0
    for members in by_theme.values():
        # The objective keeps the heaviest pairs only: the bound takes the sessions of the
        # theme whose every pair it keeps (dropping, one at a time, the one with the most
        # pairs missing).
        ids = sorted(x for x, _ in members)
        missing = {x: {y for y in ids if y != x and (min(x, y), max(x, y)) not in kept}
                   for x in ids}  # fmt: skip
        while ids and any(missing[x] for x in ids):
            worst = max(ids, key=lambda x: (len(missing[x]), x))
            ids.remove(worst)
            for x in ids:
                missing[x].discard(worst)
        inside = set(ids)
        durations = sorted(d for x, d in members if x in inside)
        if len(durations) < 2:
            continue
        longest_pair = durations[-2]  # no pair overlaps longer than its shorter session
        overlap = _least_pair_minutes(sum(durations), span)
        bound += weight * -(-overlap // longest_pair)
    return bound


def cheap_bounds(p: SchedulingProblem) -> dict[str, int]:
    """Each part's bound; their sum bounds the objective from below."""
    return {"rooms": _rooms(p), "themes": _themes(p)}
