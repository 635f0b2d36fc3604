"""The published programme as a table, one row per run of a session: CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from creneau.adapters._i18n import Words
from creneau.adapters._messages import audience_name, format_name
from creneau.scheduler import EditionState, Placement, offered

__all__ = ["programme_csv"]


def programme_csv(state: EditionState, placements: Sequence[Placement], w: Words) -> bytes:
    """Day, start, end, room, title, format, audiences, speakers, moderators and places
    of each run, in the language of the run; lists are separated by "; "."""
    edition = state.snapshot()
    sessions = {s.id: s for s in edition.sessions}
    rooms = {r.id: r.name or r.id for r in edition.rooms}
    people = {p.id: p.name or p.id for p in edition.people}
    out = io.StringIO()
    table = csv.writer(out, lineterminator="\n")
    table.writerow([w._("day"), w._("start"), w._("end"), w._("room"), w._("title"),
                    w._("format"), w._("audiences"), w._("speakers"), w._("moderators"),
                    w._("places")])  # fmt: skip
    for p in sorted(placements, key=lambda p: (p.day, p.start, p.room, p.session)):
        s = sessions[p.session]
        places = offered(state, s.id, p.occurrence, None)
        table.writerow([
            p.day.isoformat(), p.start, p.end, rooms.get(p.room, p.room), s.title or s.id,
            format_name(s.format, w),
            "; ".join(audience_name(a, w) for a in (s.audiences or edition.audiences)),
            "; ".join(people.get(x, x) for x in s.speakers),
            "; ".join(people.get(x, x) for x in dict.fromkeys((*s.moderators, *p.moderators))),
            "" if places is None else places,
        ])  # fmt: skip
    return out.getvalue().encode("utf-8")
