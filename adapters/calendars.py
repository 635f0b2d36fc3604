"""The published programme as calendars: iCalendar (RFC 5545) with the ``icalendar``
library, one event per run of a session, in the edition's time zone; and the same
calendar in its XML form, xCal (RFC 6321).

An event's UID comes from the edition, the session and the run (as the feeds' guid): a
calendar imported again after a re-plan moves the event instead of adding one.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
import zoneinfo
from collections.abc import Sequence
from typing import Any

from creneau.adapters._i18n import Words
from creneau.adapters.feeds import event_guid, local_time
from creneau.scheduler import EditionSnapshot, Placement

__all__ = ["ics", "xcal"]


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
    data: bytes = _calendar(edition, placements, w, name=name, stamp=stamp).to_ical()
    return data


def xcal(
    edition: EditionSnapshot,
    placements: Sequence[Placement],
    w: Words,
    *,
    name: str,
    stamp: dt.datetime,
) -> bytes:
    """The same calendar as :func:`ics`, written as xCal (RFC 6321)."""
    calendar = _calendar(edition, placements, w, name=name, stamp=stamp)
    root = ET.Element("icalendar", xmlns=XCAL)
    _xcal_component(calendar, root)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


XCAL = "urn:ietf:params:xml:ns:icalendar-2.0"


def _xcal_component(component: Any, parent: ET.Element) -> None:
    import icalendar

    element = ET.SubElement(parent, component.name.lower())
    properties = ET.SubElement(element, "properties")
    for key, value in component.property_items(recursive=False):
        if key in ("BEGIN", "END"):
            continue
        prop = ET.SubElement(properties, key.lower())
        params = getattr(value, "params", None)
        if params:
            holder = ET.SubElement(prop, "parameters")
            for pname, pvalue in params.items():
                ET.SubElement(ET.SubElement(holder, pname.lower()), "text").text = str(pvalue)
        zoned = bool(params and "TZID" in params)
        if isinstance(value, icalendar.vDDDTypes):
            _xcal_time(prop, value.dt, zoned)
        elif isinstance(value, icalendar.vDDDLists):
            for one in value.dts:
                _xcal_time(prop, one.dt, zoned)
        elif isinstance(value, icalendar.vUTCOffset):
            seconds = int(value.td.total_seconds())
            sign, seconds = ("-", -seconds) if seconds < 0 else ("+", seconds)
            ET.SubElement(
                prop, "utc-offset"
            ).text = f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
        elif isinstance(value, icalendar.vCategory):
            for category in value.cats:
                ET.SubElement(prop, "text").text = str(category)
        elif isinstance(value, icalendar.vRecur):
            recur = ET.SubElement(prop, "recur")
            for part in value.to_ical().decode().split(";"):  # type: ignore[no-untyped-call]
                rule, _, values = part.partition("=")
                for one in values.split(","):
                    ET.SubElement(recur, rule.lower()).text = one
        elif isinstance(value, icalendar.vUri) or key == "URL":
            ET.SubElement(prop, "uri").text = str(value)
        else:
            ET.SubElement(prop, "text").text = str(value)
    if component.subcomponents:
        children = ET.SubElement(element, "components")
        for sub in component.subcomponents:
            _xcal_component(sub, children)


def _xcal_time(prop: ET.Element, moment: object, zoned: bool) -> None:
    """A date or a date-time: local to its TZID parameter, floating, or in UTC ("Z")."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is not None and not zoned:
            moment = moment.astimezone(dt.UTC)
            text = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            text = moment.strftime("%Y-%m-%dT%H:%M:%S")
        ET.SubElement(prop, "date-time").text = text
    elif isinstance(moment, dt.date):
        ET.SubElement(prop, "date").text = moment.isoformat()
    else:  # periods and durations: Créneau's calendars have none
        raise TypeError(f"no xCal form for {moment!r}")


def _calendar(
    edition: EditionSnapshot,
    placements: Sequence[Placement],
    w: Words,
    *,
    name: str,
    stamp: dt.datetime,
) -> Any:
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
    return calendar
