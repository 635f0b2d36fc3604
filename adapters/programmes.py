"""The printed side of a programme: the public programme (one per audience when asked),
the run sheets of the committee (one per session, one per speaker, a door sign per room
and day), as HTML pages from Jinja2 templates and as PDF from that HTML with WeasyPrint.

The templates (``adapters/templates``) hold the structure; every word in them comes from
the catalogue through ``_`` (the catalogue tool extracts them), every value is escaped.
What a page shows is computed here, in the language of the run, so that the HTML and the
PDF say the same.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from creneau.adapters._i18n import Words
from creneau.adapters._messages import (
    audience_name,
    feature_name,
    format_name,
    shown,
)
from creneau.scheduler import EditionSnapshot, EditionState, Placement, Session, minutes, offered

__all__ = ["pdf", "programme_html", "run_sheets_html"]

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def _environment() -> Any:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["typeset"] = _typeset
    return environment


def _typeset(text: str) -> str:
    """French quotation marks kept with the words they quote (no line starts with »)."""
    return text.replace("« ", "«\u00a0").replace(" »", "\u00a0»")


def _render(template: str, w: Words, **values: Any) -> str:
    page: str = _environment().get_template(template).render(_=w._, lang=w.lang, **values)
    return page


@attrs.frozen
class Who:
    name: str
    organisation: str


@attrs.frozen
class Item:
    """A session on one day of the programme, its runs that day together (a guided tour
    at 14:00, 14:30 and 15:00 is one item)."""

    session: str
    start: str
    end: str
    times: str  # "14:00–14:20" or the runs' start times in words
    room: str
    title: str
    format: str
    audiences: tuple[str, ...]
    description: str
    speakers: tuple[Who, ...]
    moderators: tuple[Who, ...]
    places: str
    kind: str = "session"  # or "break"
    anchor: str = ""  # the element's id in the page


def _who(edition: EditionSnapshot) -> dict[str, Who]:
    return {p.id: Who(p.name or p.id, p.organisation) for p in edition.people}


def _room_names(edition: EditionSnapshot) -> dict[str, str]:
    venues = {v.id: v.name or v.id for v in edition.venues}
    names = {}
    for r in edition.rooms:
        name = r.name or r.id
        if r.venue and len(venues) > 1 and r.venue in venues:
            name = f"{name} ({venues[r.venue]})"
        names[r.id] = name
    return names


def _places(state: EditionState, s: Session, runs: Sequence[Placement], w: Words) -> str:
    if s.rotation is not None:
        return w.n_("{places} place every {every} minutes", "{places} places every {every} "
                    "minutes", s.rotation.places, places=w.number(s.rotation.places),
                    every=w.number(s.rotation.every))  # fmt: skip
    offers = [offered(state, s.id, p.occurrence, None) for p in runs]
    known = [n for n in offers if n is not None]
    if not known:
        return ""
    n = min(known)
    if len(runs) > 1:
        return w.n_("{n} place per run", "{n} places per run", n)
    return w.n_("{n} place", "{n} places", n)


def _items(
    state: EditionState, edition: EditionSnapshot, placements: Sequence[Placement], w: Words
) -> dict[dt.date, list[Item]]:
    sessions = {s.id: s for s in edition.sessions}
    who = _who(edition)
    rooms = _room_names(edition)
    grouped: dict[tuple[dt.date, str, str], list[Placement]] = defaultdict(list)
    for p in placements:
        grouped[(p.day, p.session, p.room)].append(p)
    days: dict[dt.date, list[Item]] = defaultdict(list)
    for (day, sid, room), runs in grouped.items():
        runs.sort(key=lambda p: p.start)
        s = sessions[sid]
        if len(runs) == 1:
            times = f"{runs[0].start}–{runs[0].end}"
        else:
            times = w._("{times} ({minutes} min)", times=w.listing([p.start for p in runs]),
                        minutes=w.number(s.duration))  # fmt: skip
        hosts = dict.fromkeys((*s.moderators, *(m for p in runs for m in p.moderators)))
        days[day].append(Item(
            session=sid, start=runs[0].start, end=runs[-1].end, times=times,
            room=rooms.get(room, room), title=s.title or s.id,
            format=format_name(s.format, w),
            audiences=tuple(audience_name(a, w) for a in (s.audiences or edition.audiences)),
            description=s.description,
            speakers=tuple(who.get(x, Who(x, "")) for x in s.speakers),
            moderators=tuple(who.get(x, Who(x, "")) for x in hosts),
            places=_places(state, s, runs, w),
            anchor=f"{day}/{sid}/{room}",
        ))  # fmt: skip
    for d in edition.days:
        if d.day in days:
            for b in d.breaks:
                days[d.day].append(Item(
                    session="", start=b.start, end=b.end, times=f"{b.start}–{b.end}", room="",
                    title=b.label or w._("Break"), format="", audiences=(), description="",
                    speakers=(), moderators=(), places="", kind="break",
                    anchor=f"{d.day}/break/{b.start}",
                ))  # fmt: skip
    for items in days.values():
        items.sort(key=lambda i: (minutes(i.start), i.kind != "break", i.room, i.title))
    return dict(sorted(days.items()))


def _footer(state: EditionState, edition: EditionSnapshot, w: Words, generated: dt.datetime
            ) -> str:  # fmt: skip
    text = w._("Programme of {date}, version {version}, made by Créneau.",
               date=w.moment(generated, edition.timezone), version=state.version)  # fmt: skip
    if edition.licence:
        text += " " + w._("Licence: {licence}.", licence=edition.licence)
    return text


def programme_html(
    state: EditionState,
    placements: Sequence[Placement],
    w: Words,
    *,
    audience: str | None,
    generated: dt.datetime,
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """The public programme: day by day, each session with its time, room, title,
    format, description, speakers with their organisations and places. ``links``: the
    other programmes (label, address), shown on a screen, not in print."""
    edition = shown(state, w)
    days = _items(state, edition, placements, w)
    heading = (w._("Programme for {audience}", audience=audience_name(audience, w))
               if audience else w._("Programme"))  # fmt: skip
    return _render(
        "programme.html", w, edition=edition, heading=heading,
        days=[(w.date(day), items) for day, items in days.items()],
        dates=w.listing([w.date(d) for d in days]) if days else "",
        footer=_footer(state, edition, w, generated), links=links,
    )  # fmt: skip


@attrs.frozen
class Sheet:
    """One session's run sheet (seed 001's « fiche »)."""

    title: str
    format: str
    runs: tuple[str, ...]  # "jeudi 12 octobre 2023, 09:00–09:45"
    room: str
    seats: str
    audiences: tuple[str, ...]
    description: str
    speakers: tuple[Who, ...]
    moderators: tuple[Who, ...]
    equipment: tuple[str, ...]
    places: str
    before: str
    after: str
    anchor: str


def _neighbours(
    placements: Sequence[Placement], p: Placement, titles: dict[str, str], w: Words
) -> tuple[str, str]:
    same = sorted((q for q in placements if q.room == p.room and q.day == p.day),
                  key=lambda q: q.start)  # fmt: skip
    earlier = [q for q in same if minutes(q.end) <= minutes(p.start)]
    later = [q for q in same if minutes(q.start) >= minutes(p.end)]

    def said(q: Placement | None) -> str:
        if q is None:
            return w._("nothing")
        return f"{q.start}–{q.end} · {titles.get(q.session, q.session)}"

    return said(earlier[-1] if earlier else None), said(later[0] if later else None)


def run_sheets_html(
    state: EditionState, placements: Sequence[Placement], w: Words, *, generated: dt.datetime
) -> str:
    """The committee's sheets: one per session (timing, room with seats and reserve
    chairs, set-up and equipment, speakers, moderation, places, what comes before and
    after in the room), one per speaker (their sessions), and a door sign per room and
    day (its sessions, large print)."""
    edition = shown(state, w)
    sessions = {s.id: s for s in edition.sessions}
    rooms = {r.id: r for r in edition.rooms}
    room_names = _room_names(edition)
    titles = {s.id: s.title or s.id for s in edition.sessions}
    who = _who(edition)
    by_session: dict[str, list[Placement]] = defaultdict(list)
    for p in sorted(placements, key=lambda p: (p.day, p.start, p.room)):
        by_session[p.session].append(p)
    sheets = []
    for sid, runs in by_session.items():
        s = sessions[sid]
        room = rooms.get(runs[0].room)
        seats = ""
        if room is not None:
            seats = w.n_("{n} seat", "{n} seats", room.capacity)
            if room.reserve:
                seats += " " + w._("({n} in reserve)", n=w.number(room.reserve))
        before, _ = _neighbours(placements, runs[0], titles, w)
        _, after = _neighbours(placements, runs[-1], titles, w)
        hosts = dict.fromkeys((*s.moderators, *(m for p in runs for m in p.moderators)))
        sheets.append(Sheet(
            title=titles[sid], format=format_name(s.format, w),
            runs=tuple(f"{w.date(p.day)}, {p.start}–{p.end}"
                       + (f" · {room_names.get(p.room, p.room)}" if p.room != runs[0].room
                          else "") for p in runs),
            room=room_names.get(runs[0].room, runs[0].room), seats=seats,
            audiences=tuple(audience_name(a, w) for a in (s.audiences or edition.audiences)),
            description=s.description,
            speakers=tuple(who.get(x, Who(x, "")) for x in s.speakers),
            moderators=tuple(who.get(x, Who(x, "")) for x in hosts),
            equipment=tuple(feature_name(f, w) for f in s.requires),
            places=_places(state, s, runs, w), before=before, after=after,
            anchor=f"sheet/{sid}",
        ))  # fmt: skip
    speakers: dict[str, list[str]] = defaultdict(list)
    for p in sorted(placements, key=lambda p: (p.day, p.start)):
        s = sessions[p.session]
        line = (f"{w.short_date(p.day)}, {p.start}–{p.end} · {room_names.get(p.room, p.room)}"
                f" · {titles[p.session]}")  # fmt: skip
        for x in (*s.speakers, *s.moderators, *p.moderators):
            if line not in speakers[x]:
                speakers[x].append(line)
    order = {p.id: i for i, p in enumerate(edition.people)}
    people = [(who.get(x, Who(x, "")), speakers[x])
              for x in sorted(speakers, key=lambda x: order.get(x, 0))]  # fmt: skip
    doors = []
    by_door: dict[tuple[str, dt.date], list[Placement]] = defaultdict(list)
    for p in placements:
        by_door[(p.room, p.day)].append(p)
    room_order = {r.id: i for i, r in enumerate(edition.rooms)}
    for rid, day in sorted(by_door, key=lambda k: (k[1], room_order.get(k[0], 0))):
        runs = by_door[(rid, day)]
        doors.append((room_names.get(rid, rid), w.date(day),
                      [(f"{p.start}–{p.end}", titles[p.session])
                       for p in sorted(runs, key=lambda p: p.start)]))  # fmt: skip
    return _render(
        "run-sheets.html", w, edition=edition, sheets=sheets, people=people, doors=doors,
        footer=_footer(state, edition, w, generated),
    )  # fmt: skip


def pdf(page: str) -> bytes:
    """The PDF of an HTML page made here (its style sheet says how it prints)."""
    import logging

    import weasyprint

    # WeasyPrint reports every CSS property it skips on its logger; the pages are ours.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    data: bytes = weasyprint.HTML(string=page, base_url=str(TEMPLATES)).write_pdf()
    return data
