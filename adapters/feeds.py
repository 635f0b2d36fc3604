"""The published programme as conference apps and video teams read it: frab's
``schedule.xml`` and the c3voc ``schedule.json`` (its JSON form).

Identifiers are derived from the edition, the session and the run alone, never from a
time or a room: a session that moves keeps its ``guid`` and ``id``, and the tools that
diff re-imports by them see a move, not a new event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
import xml.etree.ElementTree as ET
import zoneinfo
from collections.abc import Sequence
from typing import Any

from creneau.scheduler import EditionSnapshot, InvalidCommand, Placement, Problem

__all__ = ["c3voc_json", "event_guid", "frab_xml", "local_time", "select"]

# uuid5 namespace of the ids Créneau gives in feeds.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:creneau:feeds")


def event_guid(edition: str, session: str, occurrence: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{edition}/session/{session}/{occurrence}")


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    return slug or "x"


def _acronym(edition_id: str) -> str:
    # The schema's pattern: lower-case letters, digits and underscores, four at least.
    acronym = re.sub(r"[^a-z0-9_]", "_", edition_id.lower())
    return acronym.ljust(4, "_")


def _ids(keys: Sequence[tuple[str, int]], edition: str) -> dict[tuple[str, int], int]:
    """A positive integer per (session, run), from its name: stable across re-plans."""
    taken: set[int] = set()
    out = {}
    for key in sorted(keys):
        digest = hashlib.sha256(f"{edition}/{key[0]}/{key[1]}".encode()).digest()
        n = int.from_bytes(digest[:4], "big") % 2_000_000_000 + 1
        while n in taken:  # a collision, however unlikely, takes the next free number
            n = n % 2_000_000_000 + 1
        taken.add(n)
        out[key] = n
    return out


def local_time(day: dt.date, clock: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """A day and a wall-clock time of the edition as an aware datetime ("24:00" is the
    next day's midnight)."""
    if clock == "24:00":
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), zone)
    return dt.datetime.combine(day, dt.time.fromisoformat(clock), zone)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def c3voc_json(
    edition: EditionSnapshot, placements: Sequence[Placement], version: str, generator: str
) -> dict[str, Any]:
    """The c3voc ``schedule.json`` of ``placements`` (the published programme);
    ``version`` names this state of the programme, ``generator`` Créneau's version."""
    zone = zoneinfo.ZoneInfo(edition.timezone)
    sessions = {s.id: s for s in edition.sessions}
    rooms = {r.id: r for r in edition.rooms}
    people = {p.id: p for p in edition.people}
    acronym = _acronym(edition.id)
    keys = [(s.id, k) for s in edition.sessions for k in range(1, s.occurrences + 1)]
    numbers = _ids(keys, edition.id)

    def at(day: dt.date, clock: str) -> dt.datetime:
        return local_time(day, clock, zone)

    def person(pid: str) -> dict[str, Any]:
        p = people.get(pid)
        guid = uuid.UUID(_guid(edition.id, "person", pid))
        entry: dict[str, Any] = {"guid": str(guid), "code": guid.hex[:12].upper(),
                                 "name": (p.name if p else None) or pid}  # fmt: skip
        if p is not None and p.organisation:
            entry["biography"] = p.organisation
        return entry

    days = []
    for index, d in enumerate(edition.days, start=1):
        by_room: dict[str, list[dict[str, Any]]] = {}
        todays = sorted((p for p in placements if p.day == d.day),
                        key=lambda p: (p.start, p.room, p.session, p.occurrence))  # fmt: skip
        for p in todays:
            s = sessions[p.session]
            room = rooms.get(p.room)
            room_name = (room.name if room else None) or p.room
            start, end = at(p.day, p.start), at(p.day, p.end)
            minutes = int((end - start).total_seconds() // 60)
            guid = event_guid(edition.id, s.id, p.occurrence)
            slug = _slug(f"{acronym}-{s.id}-{p.occurrence}")
            on_stage = dict.fromkeys((*s.speakers, *s.moderators, *p.moderators))
            by_room.setdefault(room_name, []).append({
                "guid": str(guid),
                "id": numbers[(s.id, p.occurrence)],
                "date": start.isoformat(),
                "start": p.start,
                "duration": _hhmm(minutes),
                "room": room_name,
                "slug": slug,
                "url": f"{edition.url}#{slug}" if edition.url else guid.urn,
                "title": s.title or s.id,
                "subtitle": None,
                "track": s.themes[0] if s.themes else None,
                "type": s.format,
                "language": None,
                "abstract": s.description or None,
                "description": s.description or None,
                "persons": [person(pid) for pid in on_stage],
                "links": [],
            })  # fmt: skip
        days.append({
            "index": index,
            "date": d.day.isoformat(),
            "day_start": at(d.day, d.open).isoformat(),
            "day_end": at(d.day, d.close).isoformat(),
            "rooms": by_room,
        })  # fmt: skip
    conference: dict[str, Any] = {
        "acronym": acronym,
        "title": edition.name or edition.id,
        "start": edition.days[0].day.isoformat() if edition.days else "",
        "end": edition.days[-1].day.isoformat() if edition.days else "",
        "daysCount": len(edition.days),
        "timeslot_duration": _hhmm(edition.granularity),
        "time_zone_name": edition.timezone,
        "rooms": [
            {
                "name": r.name or r.id,
                "guid": _guid(edition.id, "room", r.id),
                "slug": _slug(r.id),
                "capacity": r.capacity,
            }
            for r in edition.rooms
        ],
        "days": days,
    }
    if edition.url:
        conference["url"] = edition.url
    if edition.licence:
        conference["meta"] = {"licence": edition.licence}
    return {"$schema": "https://c3voc.de/schedule/schema.json",
            "generator": {"name": "Créneau", "version": generator},
            "schedule": {"version": version, "conference": conference}}  # fmt: skip


def _text(parent: ET.Element, tag: str, value: object) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if value is not None:
        child.text = str(value)
    return child


def frab_xml(
    edition: EditionSnapshot, placements: Sequence[Placement], version: str, generator: str
) -> bytes:
    """The frab/pentabarf ``schedule.xml`` of ``placements``: the same events, ids and
    times as ``c3voc_json`` (it is written from it)."""
    feed = c3voc_json(edition, placements, version, generator)
    conference = feed["schedule"]["conference"]
    root = ET.Element("schedule")
    ET.SubElement(root, "generator", name="Créneau", version=generator)
    _text(root, "version", version)
    c = ET.SubElement(root, "conference")
    for tag in ("title", "acronym", "start", "end"):
        _text(c, tag, conference[tag])
    _text(c, "days", conference["daysCount"])
    _text(c, "timeslot_duration", conference["timeslot_duration"])
    if str(conference.get("url", "")).startswith(("http://", "https://")):
        _text(c, "url", conference["url"])
    _text(c, "time_zone_name", conference["time_zone_name"])
    guids = {r["name"]: r["guid"] for r in conference["rooms"]}
    for day in conference["days"]:
        d = ET.SubElement(root, "day", date=day["date"], start=day["day_start"],
                          end=day["day_end"], index=str(day["index"]))  # fmt: skip
        for room_name, events in day["rooms"].items():
            r = ET.SubElement(d, "room", name=room_name, guid=guids[room_name])
            for e in events:
                x = ET.SubElement(r, "event", id=str(e["id"]), guid=e["guid"])
                for tag in ("date", "start", "duration", "room", "slug", "title", "type"):
                    _text(x, tag, e[tag])
                _text(x, "subtitle", None)
                _text(x, "track", e["track"] or "")
                _text(x, "abstract", e["abstract"] or "")
                _text(x, "description", e["description"] or "")
                people = ET.SubElement(x, "persons")
                for p in e["persons"]:
                    _text(people, "person", p["name"]).set("guid", p["guid"])
                ET.SubElement(x, "links")
                if e["url"].startswith(("http://", "https://")):
                    _text(x, "url", e["url"])
    if edition.licence:  # the schema has no place for it: a comment, which readers skip
        root.insert(0, ET.Comment(f" licence: {edition.licence} "))
    ET.indent(root)
    written: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return written + b"\n"


def select(
    edition: EditionSnapshot,
    placements: Sequence[Placement],
    *,
    audience: str | None = None,
    room: str | None = None,
    person: str | None = None,
) -> list[Placement]:
    """The runs for one audience, in one room, or with one person on stage (a speaker,
    a moderator named or assigned); an id the edition does not have is refused."""
    known = (("--audience", "unknown_audience", audience, set(edition.audiences)),
             ("--room", "unknown_room", room, {r.id for r in edition.rooms}),
             ("--person", "unknown_person", person, {p.id for p in edition.people}))  # fmt: skip
    problems = [Problem(option, code, {"id": wanted}) for option, code, wanted, ids in known
                if wanted is not None and wanted not in ids]  # fmt: skip
    if problems:
        raise InvalidCommand(problems)
    sessions = {s.id: s for s in edition.sessions}
    out = []
    for p in placements:
        s = sessions[p.session]
        if audience is not None and audience not in (s.audiences or edition.audiences):
            continue
        if room is not None and p.room != room:
            continue
        if person is not None and person not in (*s.speakers, *s.moderators, *p.moderators):
            continue
        out.append(p)
    return out
