"""The published programme as calendars: iCalendar (RFC 5545) with the ``icalendar``
library, one event per run of a session, in the edition's time zone.

An event's UID comes from the edition, the session and the run (as the feeds' guid): a
calendar imported again after a re-plan moves the event instead of adding one.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

from creneau.adapters._i18n import Words
from creneau.adapters.feeds import event_guid, local_time
from creneau.scheduler import EditionSnapshot, Placement

__all__ = ["ics"]


def ics(
    edition: EditionSnapshot,
    placements: Sequence[Placement],
    w: Words,
    *,
    name: str,
    stamp: dt.datetime,
) -> bytes:
    """The iCalendar file of ``placements``, called ``name``; ``stamp`` (UTC) is when it
    was made (each event's DTSTAMP)."""
    import icalendar  # only the calendar exports need it

    zone = zoneinfo.ZoneInfo(edition.timezone)
    sessions = {s.id: s for s in edition.sessions}
    rooms = {r.id: r for r in edition.rooms}
    venues = {v.id: v.name or v.id for v in edition.venues}
    people = {p.id: p for p in edition.people}

    def at(day: dt.date, clock: str) -> dt.datetime:
        return local_time(day, clock, zone)

    def who(pid: str) -> str:
        p = people.get(pid)
        if p is None:
            return pid
        return f"{p.name or p.id} ({p.organisation})" if p.organisation else p.name or p.id

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Créneau//programme//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", edition.timezone)
    if edition.url:
        calendar.add("url", edition.url)
    for p in sorted(placements, key=lambda p: (p.day, p.start, p.room, p.session)):
        s = sessions[p.session]
        room = rooms.get(p.room)
        place = (room.name if room else None) or p.room
        if room is not None and room.venue and room.venue in venues:
            place = f"{place}, {venues[room.venue]}"
        event = icalendar.Event()
        event.add("uid", f"{event_guid(edition.id, s.id, p.occurrence)}@creneau")
        event.add("dtstamp", stamp)
        event.add("dtstart", at(p.day, p.start))
        event.add("dtend", at(p.day, p.end))
        title = s.title or s.id
        event.add("summary", title if s.occurrences == 1 else f"{title} ({p.occurrence}/"
                  f"{s.occurrences})")  # fmt: skip
        event.add("location", place)
        lines = []
        speakers = [who(x) for x in s.speakers]
        hosts = [who(x) for x in dict.fromkeys((*s.moderators, *p.moderators))]
        if speakers:
            lines.append(w._("Speakers: {people}", people=w.listing(speakers)))
        if hosts:
            lines.append(w._("Moderation: {people}", people=w.listing(hosts)))
        if s.description:
            lines.append(s.description)
        if lines:
            event.add("description", "\n\n".join(lines))
        event.add("categories", [s.format])
        calendar.add_component(event)
    calendar.add_missing_timezones()
    if edition.licence:
        calendar.add("x-creneau-licence", edition.licence)
    data: bytes = calendar.to_ical()
    return data
