"""The published programme as a table, one row per run of a session: CSV, and an xlsx
workbook (openpyxl) for those who open it in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence

from creneau.adapters._i18n import Words
from creneau.adapters._messages import (
    audience_name,
    format_name,
    shown,
)
from creneau.scheduler import EditionState, Placement, offered

__all__ = ["programme_csv", "programme_rows", "programme_xlsx"]


def programme_rows(
    state: EditionState, placements: Sequence[Placement], w: Words
) -> tuple[list[str], list[list[object]]]:
    """The heading and the rows: day, start, end, room, title, format, audiences,
    speakers, moderators and places of each run, in the language of the run; lists are
    separated by "; "."""
    edition = shown(state, w)
    sessions = {s.id: s for s in edition.sessions}
    rooms = {r.id: r.name or r.id for r in edition.rooms}
    people = {p.id: p.name or p.id for p in edition.people}
    heading = [w._("day"), w._("start"), w._("end"), w._("room"), w._("title"),
               w._("format"), w._("audiences"), w._("speakers"), w._("moderators"),
               w._("places")]  # fmt: skip
    rows: list[list[object]] = []
    for p in sorted(placements, key=lambda p: (p.day, p.start, p.room, p.session)):
        s = sessions[p.session]
        rows.append([
            p.day, p.start, p.end, rooms.get(p.room, p.room), s.title or s.id,
            format_name(s.format, w),
            "; ".join(audience_name(a, w) for a in (s.audiences or edition.audiences)),
            "; ".join(people.get(x, x) for x in s.speakers),
            "; ".join(people.get(x, x) for x in dict.fromkeys((*s.moderators, *p.moderators))),
            offered(state, s.id, p.occurrence, None),
        ])  # fmt: skip
    return heading, rows


def programme_csv(state: EditionState, placements: Sequence[Placement], w: Words) -> bytes:
    """The table as CSV (UTF-8, days as ISO dates, no places left empty)."""
    heading, rows = programme_rows(state, placements, w)
    out = io.StringIO()
    table = csv.writer(out, lineterminator="\n")
    table.writerow(heading)
    for row in rows:
        table.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v
                        for v in row])  # fmt: skip
    return out.getvalue().encode("utf-8")


def programme_xlsx(
    state: EditionState, placements: Sequence[Placement], w: Words, *, title: str
) -> bytes:
    """The table as an xlsx workbook: one sheet, days as dates, times as times, the
    heading frozen and filterable."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    heading, rows = programme_rows(state, placements, w)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = w._("Programme")
    sheet.append(heading)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_clock(v) if i in (1, 2) else v for i, v in enumerate(row)])
    for line in sheet.iter_rows(min_row=2):
        line[0].number_format = "yyyy-mm-dd"
        line[1].number_format = line[2].number_format = "hh:mm"
    for column, width in zip("ABCDEFGHIJ", (11, 7, 7, 24, 48, 16, 28, 36, 24, 8), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    book.properties.title = title
    book.properties.creator = "Créneau"
    licence = state.info.licence if state.info else None
    if licence:
        book.properties.description = w._("Licence: {licence}.", licence=licence)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _clock(value: object) -> object:
    """ "09:30" as a time of day ("24:00" stays text: a spreadsheet time cannot say it)."""
    if isinstance(value, str) and value != "24:00":
        return dt.time.fromisoformat(value)
    return value
