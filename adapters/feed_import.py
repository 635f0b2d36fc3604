"""Editions that come from other tools: frab/pentabarf's ``schedule.xml``, the c3voc
``schedule.json`` and the JSON pretalx serves (the same shape). Rooms, days, sessions with
their durations and persons become an edition document, read through the same checks as
any other; the times and rooms the feed gives become the runs of a schedule.

What a feed does not say stays at the format's defaults, and is said in the docs: rooms
have no seats (capacity 0), people no declared gender, sessions every audience.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import re
import unicodedata
import xml.etree.ElementTree as ET
import zoneinfo
from collections.abc import Iterable
from typing import Any

import attrs

from creneau.adapters.edition_document import EDITION_FORMAT
from creneau.adapters.feeds import _hhmm
from creneau.scheduler import InvalidCommand, Placement, Problem

__all__ = ["FeedEdition", "is_feed_json", "read_c3voc_json", "read_frab_xml"]


@attrs.frozen
class FeedEdition:
    """An edition document (raw, to be read as any other) and the feed's runs."""

    document: dict[str, Any]
    placements: tuple[Placement, ...]


def _refuse(where: str, code: str, **params: Any) -> InvalidCommand:
    return InvalidCommand([Problem(where, code, params)])


def _slug(text: str, fallback: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return slug or fallback


def _one_line(text: str | None) -> str:
    """A title or a name on one line, without the invisible characters feeds carry
    (zero-width spaces, soft hyphens: an edition refuses them in names)."""
    visible = "".join(c for c in (text or "") if c.isprintable() or c.isspace())
    return " ".join(visible.split())


class _Text(html.parser.HTMLParser):
    """The text of an HTML fragment (abstracts are HTML in frab and pretalx)."""

    BREAKS = frozenset({"p", "br", "li", "div", "h1", "h2", "h3", "h4", "ul", "ol"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _plain(fragment: str | None) -> str:
    if not fragment:
        return ""
    if "<" not in fragment and "&" not in fragment:
        text = fragment
    else:
        reader = _Text()
        reader.feed(fragment)
        reader.close()
        text = "".join(reader.parts)
    lines = (" ".join(line.split()) for line in text.splitlines())
    kept = "\n".join(line for line in lines if line)
    # A description holds printable characters, line breaks and tabs only.
    return "".join(c for c in kept if c.isprintable() or c in "\n\t")


def _minutes(text: str, where: str) -> int:
    """ "01:30", "01:30:00" or "90" as minutes."""
    parts = text.strip().split(":")
    try:
        if len(parts) == 1:
            return int(parts[0])
        if len(parts) in (2, 3):
            return int(parts[0]) * 60 + int(parts[1])
    except ValueError:
        pass
    raise _refuse(where, "feed_bad_duration", value=text)


def _clock(text: str, where: str) -> int:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise _refuse(where, "feed_bad_time", value=text)
    return int(match[1]) * 60 + int(match[2])


@attrs.define
class _Event:
    where: str
    key: str  # the feed's own id of the event
    slug: str
    day: dt.date
    start: int
    duration: int
    room: str
    title: str
    description: str
    format: str
    track: str
    persons: list[tuple[str, str, str]]  # (feed id, name, biography)


def _build(
    *,
    title: str,
    acronym: str,
    timezone: str,
    granularity: int,
    url: str,
    rooms: Iterable[tuple[str, int]],
    days: Iterable[dt.date],
    events: list[_Event],
) -> FeedEdition:
    """The edition document and runs of a feed's conference, rooms and events."""
    problems = []
    room_ids: dict[str, str] = {}
    capacity: dict[str, int] = {}
    for name, seats in rooms:
        if name not in room_ids:
            room_ids[name] = _unique(_slug(name, "room"), set(room_ids.values()))
            capacity[name] = seats
    for e in events:
        if e.room not in room_ids:
            room_ids[e.room] = _unique(_slug(e.room, "room"), set(room_ids.values()))
            capacity[e.room] = 0
    people: dict[str, dict[str, Any]] = {}
    by_name: dict[str, str] = {}
    session_ids: set[str] = set()
    sessions = []
    themes: dict[str, str] = {}
    placements = []
    opening: dict[dt.date, tuple[int, int]] = {d: (24 * 60, 0) for d in days}
    for e in events:
        end = e.start + e.duration
        if e.duration <= 0:
            problems.append(Problem(e.where, "feed_bad_duration", {"value": str(e.duration)}))
            continue
        if end > 24 * 60:
            problems.append(Problem(e.where, "feed_crosses_midnight", {"title": e.title}))
            continue
        sid = _unique(e.slug if _identifier(e.slug) else f"e-{_slug(e.key, 'x')}", session_ids)
        session_ids.add(sid)
        speakers = []
        for pid, name, biography in e.persons:
            key = f"p-{_slug(pid, 'x')}" if pid else by_name.get(name, "")
            if not key:
                key = _unique(f"p-{_slug(name, 'x')}", set(people))
            by_name.setdefault(name, key)
            person = people.setdefault(key, {"id": key, "name": name or key})
            # A one-line biography is an organisation (Créneau's feeds write it so); a
            # paragraph is not, and Créneau keeps no biographies.
            short = _one_line(biography)
            if short and len(short) <= 120 and "\n" not in biography.strip():
                person.setdefault("organisation", short)
            if key not in speakers:
                speakers.append(key)
        session: dict[str, Any] = {"id": sid, "title": e.title or sid,
                                   "format": _slug(e.format, "talk").replace("-", "_"),
                                   "duration": e.duration, "speakers": speakers}  # fmt: skip
        if e.description:
            session["description"] = e.description
        if e.track:
            theme = themes.setdefault(e.track, _unique(_slug(e.track, "track"),
                                                       set(themes.values())))  # fmt: skip
            session["themes"] = [theme]
        sessions.append(session)
        low, high = opening.get(e.day, (24 * 60, 0))
        opening[e.day] = (min(low, e.start), max(high, end))
        placements.append(Placement(session=sid, room=room_ids[e.room], day=e.day,
                                    start=_hhmm(e.start), end=_hhmm(end)))  # fmt: skip
    if problems:
        raise InvalidCommand(problems)
    day_list = []
    for day, (low, high) in sorted(opening.items()):
        if high <= low:  # a day without events: open it for the day
            low, high = 9 * 60, 18 * 60
        low -= low % granularity
        high += -high % granularity
        day_list.append({"day": day.isoformat(), "open": _hhmm(low),
                         "close": _hhmm(min(high, 24 * 60))})  # fmt: skip
    document: dict[str, Any] = {
        "format": EDITION_FORMAT,
        "id": _slug(acronym or title, "edition"),
        "name": _one_line(title) or acronym,
        "timezone": timezone,
        "granularity": granularity,
        "days": day_list,
        "themes": list(themes.values()),
        "rooms": [
            {"id": rid, "name": _one_line(name) or rid, "capacity": capacity[name]}
            for name, rid in room_ids.items()
        ],
        "people": list(people.values()),
        "sessions": sessions,
    }
    if url.startswith(("http://", "https://")):
        document["url"] = url
    return FeedEdition(document, tuple(placements))


def _identifier(text: str) -> bool:
    return bool(text) and text.isprintable() and not any(c.isspace() for c in text)


def _unique(candidate: str, taken: set[str]) -> str:
    if candidate not in taken:
        return candidate
    n = 2
    while f"{candidate}-{n}" in taken:
        n += 1
    return f"{candidate}-{n}"


def _zone(name: str | None) -> str:
    if name:
        try:
            zoneinfo.ZoneInfo(name)
            return name
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return "Europe/Paris"


def _granularity(text: str | None) -> int:
    if not text:
        return 5
    try:
        minutes = _minutes(text, "conference.timeslot_duration")
    except InvalidCommand:
        return 5
    return minutes if 1 <= minutes <= 60 and 60 % minutes == 0 else 5


def _date(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise _refuse(where, "feed_bad_date", value=text) from None


# -- frab's schedule.xml ------------------------------------------------------------------


def read_frab_xml(data: bytes) -> FeedEdition:
    """A frab/pentabarf ``schedule.xml``."""
    try:
        # The standard library parser expands no external entities; a document type
        # declaration (the entities of "billion laughs") is refused outright.
        if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
            raise _refuse("", "feed_doctype")
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise _refuse("", "not_xml", detail=str(exc)) from exc
    if root.tag != "schedule":
        raise _refuse("", "not_a_feed", found=root.tag)
    conference = root.find("conference")
    if conference is None:
        raise _refuse("schedule", "feed_missing", what="conference")
    days = []
    events = []
    for d_index, day in enumerate(root.iterfind("day")):
        where_day = f"day[{d_index}]"
        date = _date(day.get("date", ""), f"{where_day}@date")
        days.append(date)
        for r_index, room in enumerate(day.iterfind("room")):
            for e_index, e in enumerate(room.iterfind("event")):
                where = f"{where_day}.room[{r_index}].event[{e_index}]"
                start = e.findtext("start") or ""
                date_text = e.findtext("date")
                events.append(_Event(
                    where=where,
                    key=e.get("id") or e.get("guid") or f"{d_index}-{r_index}-{e_index}",
                    slug=(e.findtext("slug") or "").strip(),
                    day=_date(date_text, f"{where}.date") if date_text else date,
                    start=_clock(start, f"{where}.start"),
                    duration=_minutes(e.findtext("duration") or "", f"{where}.duration"),
                    room=(e.findtext("room") or room.get("name") or "").strip(),
                    title=_one_line(e.findtext("title")),
                    description=_plain(e.findtext("abstract") or e.findtext("description")),
                    format=(e.findtext("type") or "").strip(),
                    track=_one_line(e.findtext("track")),
                    persons=[(p.get("id") or p.get("guid") or "", _one_line(p.text), "")
                             for p in e.iterfind("persons/person")],
                ))  # fmt: skip
    rooms = [(r.get("name", "").strip(), 0) for d in root.iterfind("day")
             for r in d.iterfind("room") if r.find("event") is not None]  # fmt: skip
    return _build(
        title=conference.findtext("title") or "",
        acronym=conference.findtext("acronym") or "",
        timezone=_zone(conference.findtext("time_zone_name")),
        granularity=_granularity(conference.findtext("timeslot_duration")),
        url=(conference.findtext("url") or "").strip(),
        rooms=rooms,
        days=days,
        events=events,
    )


# -- c3voc's schedule.json, and pretalx's -------------------------------------------------


def is_feed_json(raw: object) -> bool:
    return isinstance(raw, dict) and "format" not in raw and isinstance(raw.get("schedule"), dict)


def read_c3voc_json(raw: dict[str, Any]) -> FeedEdition:
    """A c3voc ``schedule.json`` (pretalx serves the same shape)."""
    conference = raw["schedule"].get("conference")
    if not isinstance(conference, dict):
        raise _refuse("schedule", "feed_missing", what="conference")
    days = []
    events = []
    for d_index, day in enumerate(conference.get("days") or []):
        where_day = f"schedule.conference.days[{d_index}]"
        if not isinstance(day, dict):
            raise _refuse(where_day, "wrong_type", expected="object", got=type(day).__name__)
        date = _date(str(day.get("date", "")), f"{where_day}.date")
        days.append(date)
        rooms = day.get("rooms") or {}
        if not isinstance(rooms, dict):
            raise _refuse(f"{where_day}.rooms", "wrong_type", expected="object",
                          got=type(rooms).__name__)  # fmt: skip
        for room_name, room_events in rooms.items():
            for e_index, e in enumerate(room_events or []):
                where = f"{where_day}.rooms.{room_name}[{e_index}]"
                if not isinstance(e, dict):
                    raise _refuse(where, "wrong_type", expected="object", got=type(e).__name__)
                events.append(_Event(
                    where=where,
                    key=str(e.get("id") or e.get("guid") or f"{d_index}-{room_name}-{e_index}"),
                    slug=str(e.get("slug") or "").strip(),
                    day=_date(str(e["date"]), f"{where}.date") if e.get("date") else date,
                    start=_clock(str(e.get("start", "")), f"{where}.start"),
                    duration=_minutes(str(e.get("duration", "")), f"{where}.duration"),
                    room=str(e.get("room") or room_name).strip(),
                    title=_one_line(str(e.get("title") or "")),
                    description=_plain(e.get("abstract") or e.get("description")),
                    format=str(e.get("type") or "").strip(),
                    track=_one_line(str(e.get("track") or "")),
                    persons=[_person(p) for p in e.get("persons") or [] if isinstance(p, dict)],
                ))  # fmt: skip
    rooms_list = [(str(r.get("name", "")).strip(), _seats(r.get("capacity")))
                  for r in conference.get("rooms") or [] if isinstance(r, dict)]  # fmt: skip
    return _build(
        title=str(conference.get("title") or ""),
        acronym=str(conference.get("acronym") or ""),
        timezone=_zone(conference.get("time_zone_name")),
        granularity=_granularity(conference.get("timeslot_duration")),
        url=str(conference.get("url") or "").strip(),
        rooms=rooms_list,
        days=days,
        events=events,
    )


def _person(p: dict[str, Any]) -> tuple[str, str, str]:
    name = _one_line(str(p.get("public_name") or p.get("name") or ""))
    key = str(p.get("code") or p.get("guid") or p.get("id") or "")
    return key, name, str(p.get("biography") or "")


def _seats(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
