"""What changed between two schedules of one edition: sessions moved in time or room,
added, removed, or given another moderator."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from scheduler._schedule import Placement

__all__ = ["Change", "schedule_changes"]


@attrs.frozen
class Change:
    kind: str  # moved, added, removed, moderators
    session: str
    occurrence: int
    before: Placement | None
    after: Placement | None

    @property
    def moved_time(self) -> bool:
        return (
            self.before is not None
            and self.after is not None
            and (self.before.day, self.before.start) != (self.after.day, self.after.start)
        )

    @property
    def moved_room(self) -> bool:
        return (
            self.before is not None
            and self.after is not None
            and self.before.room != self.after.room
        )


def schedule_changes(before: Sequence[Placement], after: Sequence[Placement]) -> list[Change]:
    """The changes from ``before`` to ``after``, in the order of ``before`` then of the
    sessions ``after`` adds."""
    old = {(p.session, p.occurrence): p for p in before}
    new = {(p.session, p.occurrence): p for p in after}
    out = []
    for key, a in old.items():
        b = new.get(key)
        if b is None:
            out.append(Change("removed", key[0], key[1], a, None))
        elif (a.day, a.start, a.room) != (b.day, b.start, b.room):
            out.append(Change("moved", key[0], key[1], a, b))
        elif tuple(a.moderators) != tuple(b.moderators):
            out.append(Change("moderators", key[0], key[1], a, b))
    for key, b in new.items():
        if key not in old:
            out.append(Change("added", key[0], key[1], None, b))
    return out
