"""Editions kept in spreadsheets: one sheet per list (Jours, Salles, Personnes, Sessions,
Inscriptions… in French or in English), one row per entry, one column per field, lists
in a cell separated by ";". Read from xlsx or ods with python-calamine, written as xlsx
with openpyxl (``creneau export --format xlsx-edition``), so that a committee can keep
its edition in a spreadsheet and round-trip it.

A workbook is turned into an edition document and read through the same checks as any
other; every fault is named by its cell, ``Sessions!F12``, the way a spreadsheet names it.
The sheet and column names are the format's vocabulary (docs/formats.md lists them), in
both languages, matched without regard to case, accents, spaces or underscores.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from creneau.adapters.edition_document import EDITION_FORMAT
from creneau.scheduler import EditionSnapshot, InvalidCommand, Problem

__all__ = ["SHEETS", "read_workbook", "workbook_bytes"]

SUFFIXES = (".xlsx", ".xlsm", ".ods")


def _key(text: str) -> str:
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[\s_\-.']+", "", plain.lower())


# -- what a cell may hold ------------------------------------------------------------------


class CellError(ValueError):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code, self.params = code, params


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M")
    return str(v).strip()


def _integer(v: Any) -> int:
    if isinstance(v, bool):
        raise CellError("cell_not_whole_number", value=_text(v))
    if isinstance(v, int | float) and float(v).is_integer():
        return int(v)
    text = _text(v).replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    raise CellError("cell_not_whole_number", value=_text(v))


def _share(v: Any) -> float:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    text = _text(v).replace(",", ".").replace("\u00a0", "").replace(" ", "")
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise CellError("cell_not_number", value=_text(v)) from None


YES = {"oui", "yes", "vrai", "true", "x", "1"}
NO = {"non", "no", "faux", "false", "0"}


def _boolean(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    text = _key(_text(v))
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellError("cell_not_yes_no", value=_text(v))


def _clock_text(text: str) -> str:
    match = re.fullmatch(r"(\d{1,2})\s*[:hH]\s*(\d{2})?(?::\d{2})?", text.strip())
    if not match:
        raise CellError("cell_not_time", value=text)
    hours, mins = int(match[1]), int(match[2] or 0)
    if hours > 24 or mins > 59 or (hours == 24 and mins):
        raise CellError("cell_not_time", value=text)
    return f"{hours:02d}:{mins:02d}"


def _clock(v: Any) -> str:
    if isinstance(v, dt.datetime):
        v = v.time()
    if isinstance(v, dt.time):
        return f"{v.hour:02d}:{v.minute:02d}"
    if isinstance(v, dt.timedelta):
        minutes = round(v.total_seconds() / 60)
        return _clock_text(f"{minutes // 60}:{minutes % 60:02d}")
    if isinstance(v, float) and 0 <= v <= 1:  # a spreadsheet time: a fraction of a day
        minutes = round(v * 24 * 60)
        return _clock_text(f"{minutes // 60}:{minutes % 60:02d}")
    return _clock_text(_text(v))


def _date_text(text: str) -> str:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise CellError("cell_not_date", value=text)


def _date(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return _date_text(_text(v))


def _items(v: Any) -> list[str]:
    return [part.strip() for part in _text(v).split(";") if part.strip()]


_SPAN = re.compile(r"(\S+)\s+(\d{1,2}[:hH]\d{2})\s*[-–—]\s*(\d{1,2}[:hH]\d{2})")


def _windows(v: Any) -> list[dict[str, str]]:
    """ "2023-10-12 09:00-12:00; 2023-10-13 14:00-17:00"."""
    out = []
    for part in _items(v):
        match = _SPAN.fullmatch(part)
        if not match:
            raise CellError("cell_not_window", value=part)
        out.append({"day": _date_text(match[1]), "start": _clock_text(match[2]),
                    "end": _clock_text(match[3])})  # fmt: skip
    return out


_BREAK = re.compile(r"(\d{1,2}[:hH]\d{2})\s*[-–—]\s*(\d{1,2}[:hH]\d{2})\s*(.*)")


def _breaks(v: Any) -> list[dict[str, str]]:
    """ "10:45-11:00 Pause-café; 12:00-14:00 Pause méridienne"."""
    out = []
    for part in _items(v):
        match = _BREAK.fullmatch(part)
        if not match:
            raise CellError("cell_not_break", value=part)
        entry = {"start": _clock_text(match[1]), "end": _clock_text(match[2])}
        if match[3].strip():
            entry["label"] = match[3].strip()
        out.append(entry)
    return out


def _after(v: Any) -> list[dict[str, Any]]:
    """ "masterclass-ia +10 même jour; atelier-1": a session, the minutes between, and
    whether on the same day."""
    out = []
    for part in _items(v):
        session, *rest = part.split()
        entry: dict[str, Any] = {"session": session}
        if rest and re.fullmatch(r"\+\d+", rest[0]):
            entry["min_gap"] = int(rest.pop(0)[1:])
        if rest and _key(" ".join(rest)) in ("sameday", "memejour"):
            entry["same_day"] = True
        elif rest:
            raise CellError("cell_not_after", value=part)
        out.append(entry)
    return out


GENDERS = {"femme": "woman", "homme": "man", "nonbinaire": "nonbinary",
           "nondeclare": "undisclosed", "nondeclaree": "undisclosed"}  # fmt: skip


def _gender(v: Any) -> str:
    text = _text(v)
    return GENDERS.get(_key(text), text)


# -- the shape of a workbook --------------------------------------------------------------


@attrs.frozen
class Column:
    field: str  # a path inside the entry: "duration", "rotation.every", "fixed.day"
    fr: str
    en: str
    read: Callable[[Any], Any] = _text
    write: Callable[[Any], Any] | None = None  # the value as a cell (default: as it is)


@attrs.frozen
class Sheet:
    list: str  # where its rows go in the document: "sessions", or "" for a key/value sheet
    fr: str
    en: str
    columns: tuple[Column, ...]
    required: bool = False


def _join(values: Any) -> str:
    return "; ".join(str(v) for v in values or ())


def _join_windows(values: Any) -> str:
    return "; ".join(f"{w['day']} {w['start']}-{w['end']}" for w in values or ())


def _join_breaks(values: Any) -> str:
    return "; ".join(f"{b['start']}-{b['end']} {b.get('label', '')}".strip()
                     for b in values or ())  # fmt: skip


def _join_after(values: Any) -> str:
    parts = []
    for a in values or ():
        text = a["session"] + (f" +{a['min_gap']}" if a.get("min_gap") else "")
        parts.append(text + (" same day" if a.get("same_day") else ""))
    return "; ".join(parts)


def _as_date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def C(field: str, fr: str, en: str | None = None, read: Callable[[Any], Any] = _text,
      write: Callable[[Any], Any] | None = None) -> Column:  # fmt: skip
    return Column(field, fr, en or fr, read, write)


LIST: dict[str, Any] = {"read": _items, "write": _join}
WINDOWS: dict[str, Any] = {"read": _windows, "write": _join_windows}

SHEETS: tuple[Sheet, ...] = (
    Sheet("", "Édition", "Edition", (
        C("id", "id"), C("name", "nom", "name"), C("timezone", "fuseau horaire", "timezone"),
        C("granularity", "granularité", "granularity", _integer),
        C("audiences", "publics", "audiences", **LIST), C("themes", "thèmes", "themes", **LIST),
        C("licence", "licence"), C("url", "url"),
    ), required=True),
    Sheet("days", "Jours", "Days", (
        C("day", "jour", "day", _date, _as_date), C("open", "ouverture", "open", _clock),
        C("close", "fermeture", "close", _clock),
        C("breaks", "pauses", "breaks", _breaks, _join_breaks),
    ), required=True),
    Sheet("venues", "Lieux", "Venues", (C("id", "id"), C("name", "nom", "name"))),
    Sheet("travel", "Trajets", "Travel", (
        C("from", "de", "from"), C("to", "à", "to"), C("minutes", "minutes", read=_integer),
    )),
    Sheet("rooms", "Salles", "Rooms", (
        C("id", "id"), C("name", "nom", "name"), C("venue", "lieu", "venue"),
        C("capacity", "places", "capacity", _integer),
        C("reserve", "réserve", "reserve", _integer),
        C("features", "équipements", "features", **LIST),
        C("availability", "disponibilités", "availability", **WINDOWS),
        C("concurrent", "sessions simultanées", "concurrent", _integer),
        C("changeover", "battement", "changeover", _integer),
    ), required=True),
    Sheet("people", "Personnes", "People", (
        C("id", "id"), C("name", "nom", "name"), C("organisation", "organisation"),
        C("gender", "genre", "gender", _gender),
        C("available", "disponible", "available", **WINDOWS),
        C("unavailable", "indisponible", "unavailable", **WINDOWS),
        C("preferred", "préférences", "preferred", **WINDOWS),
        C("max_per_day", "max par jour", "max per day", _integer),
        C("can_moderate", "peut animer", "can moderate", _boolean),
    )),
    Sheet("sessions", "Sessions", "Sessions", (
        C("id", "id"), C("title", "titre", "title"), C("description", "description"),
        C("format", "format"), C("duration", "durée", "duration", _integer),
        C("audiences", "publics", "audiences", **LIST),
        C("themes", "thèmes", "themes", **LIST),
        C("speakers", "intervenants", "speakers", **LIST),
        C("moderators", "animateurs", "moderators", **LIST),
        C("needs_moderator", "animation requise", "needs moderator", _boolean),
        C("attendance", "affluence", "attendance", _integer),
        C("capacity", "jauge", "capacity", _integer),
        C("rotation.every", "rotation toutes les", "rotation every", _integer),
        C("rotation.places", "rotation places", "rotation places", _integer),
        C("occurrences", "séances", "occurrences", _integer),
        C("requires", "besoins", "requires", **LIST),
        C("rooms", "salles", "rooms", **LIST),
        C("windows", "créneaux", "windows", **WINDOWS),
        C("fixed.day", "jour fixé", "fixed day", _date, _as_date),
        C("fixed.start", "début fixé", "fixed start", _clock),
        C("fixed.room", "salle fixée", "fixed room"),
        C("exclusive", "exclusive", read=_boolean),
        C("optional", "facultative", "optional", _boolean),
        C("priority", "priorité", "priority", _integer),
        C("after", "après", "after", _after, _join_after),
        C("not_parallel", "pas en parallèle", "not parallel", **LIST),
        C("preferred", "préférences", "preferred", **WINDOWS),
    ), required=True),
    Sheet("registrations", "Inscriptions", "Registrations", (
        C("attendee", "participant", "attendee"), C("profile", "profil", "profile"),
        C("sessions", "sessions", **LIST),
    )),
    Sheet("policies", "Règles", "Policies", (
        C("changeover", "battement", "changeover", _integer),
        C("speaker_gap", "écart intervenants", "speaker gap", _integer),
        C("attendee_gap", "écart participants", "attendee gap", _integer),
        C("parity.women_min_share", "part minimale de femmes", "women min share", _share),
        C("parity.no_all_male_panels", "pas de panel masculin", "no all male panels", _boolean),
        C("parity.hard", "parité stricte", "parity hard", _boolean),
    )),
    Sheet("policies.tracks", "Parcours", "Tracks", (
        C("audience", "public", "audience"), C("windows", "créneaux", "windows", **WINDOWS),
        C("min_parallel", "minimum en parallèle", "min parallel", _integer),
        C("max_parallel", "maximum en parallèle", "max parallel", _integer),
    )),
)  # fmt: skip

# The weights of the soft rules: a row "poids <rule>" / "weight <rule>" of Règles.
WEIGHT_PREFIXES = ("poids", "weight")


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(sheet: str, column: int, row: int) -> str:
    name = sheet if re.fullmatch(r"\w+", sheet) else f"'{sheet}'"
    return f"{name}!{_column_letter(column)}{row + 1}"


def _put(entry: dict[str, Any], field: str, value: Any) -> None:
    head, _, rest = field.partition(".")
    if rest:
        _put(entry.setdefault(head, {}), rest, value)
    else:
        entry[head] = value


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


@attrs.define
class _Reading:
    document: dict[str, Any] = attrs.field(factory=lambda: {"format": EDITION_FORMAT})
    cells: dict[str, str] = attrs.field(factory=dict)  # document path -> cell
    problems: list[Problem] = attrs.field(factory=list)

    def value(self, column: Column, raw: Any, cell: str) -> tuple[bool, Any]:
        try:
            return True, column.read(raw)
        except CellError as exc:
            self.problems.append(Problem(cell, exc.code, exc.params))
            return False, None


def _table(reading: _Reading, sheet: Sheet, name: str, rows: list[list[Any]]) -> None:
    header = next((i for i, r in enumerate(rows) if any(not _empty(v) for v in r)), None)
    if header is None:
        return
    by_name = {_key(c.fr): c for c in sheet.columns} | {_key(c.en): c for c in sheet.columns}
    columns: dict[int, Column] = {}
    for j, title in enumerate(rows[header]):
        if _empty(title):
            continue
        column = by_name.get(_key(_text(title)))
        if column is None:
            reading.problems.append(Problem(_cell(name, j, header), "unknown_column",
                                            {"column": _text(title), "sheet": name}))  # fmt: skip
        elif column in columns.values():
            reading.problems.append(Problem(_cell(name, j, header), "column_twice",
                                            {"column": _text(title)}))  # fmt: skip
        else:
            columns[j] = column
    entries: list[dict[str, Any]] = []
    parent, _, child = sheet.list.partition(".")
    for i in range(header + 1, len(rows)):
        row = rows[i]
        if all(_empty(v) for v in row):
            continue
        path = f"{sheet.list}[{len(entries)}]"
        reading.cells[path] = _cell(name, 0, i)
        entry: dict[str, Any] = {}
        for j, column in columns.items():
            raw = row[j] if j < len(row) else None
            if _empty(raw):
                continue
            cell = _cell(name, j, i)
            reading.cells[f"{path}.{column.field}"] = cell
            ok, value = reading.value(column, raw, cell)
            if ok:
                _put(entry, column.field, value)
        entries.append(entry)
    if child:
        reading.document.setdefault(parent, {})[child] = entries
    else:
        reading.document[sheet.list] = entries


def _pairs(reading: _Reading, sheet: Sheet, name: str, rows: list[list[Any]]) -> None:
    """A key/value sheet: the field's name in the first column, its value in the next."""
    by_name = {_key(c.fr): c for c in sheet.columns} | {_key(c.en): c for c in sheet.columns}
    target = reading.document if sheet.list == "" else reading.document.setdefault("policies", {})
    prefix = "" if sheet.list == "" else "policies."
    for i, row in enumerate(rows):
        if not row or _empty(row[0]):
            continue
        label = _text(row[0])
        raw = row[1] if len(row) > 1 else None
        column = by_name.get(_key(label))
        cell = _cell(name, 1, i)
        if column is None and sheet.list == "policies":
            words = label.split(None, 1)
            if len(words) == 2 and _key(words[0]) in WEIGHT_PREFIXES:
                if _empty(raw):
                    continue
                reading.cells[f"policies.weights.{words[1].strip()}"] = cell
                try:
                    target.setdefault("weights", {})[words[1].strip()] = _integer(raw)
                except CellError as exc:
                    reading.problems.append(Problem(cell, exc.code, exc.params))
                continue
        if column is None:
            if i == 0 and _key(label) in ("champ", "field", "cle", "key"):
                continue  # a heading row
            reading.problems.append(Problem(_cell(name, 0, i), "unknown_sheet_field",
                                            {"field": label, "sheet": name}))  # fmt: skip
            continue
        if _empty(raw):
            continue
        reading.cells[f"{prefix}{column.field}"] = cell
        ok, value = reading.value(column, raw, cell)
        if ok:
            _put(target, column.field, value)


def read_workbook(path: Path) -> tuple[dict[str, Any], Callable[[str], str], list[Problem]]:
    """The edition document a workbook holds, where each of its paths came from (a
    document path such as ``sessions[3].speakers[1]`` to its cell, ``Sessions!H5``), and
    the faults of its cells (the document then lacks those values)."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine says what it could not read, in its own words
        detail = {"path": path.name, "detail": str(exc)}
        raise InvalidCommand([Problem("", "not_a_workbook", detail)]) from exc
    reading = _Reading()
    found: dict[str, str] = {}
    for name in book.sheet_names:
        sheet = next((s for s in SHEETS if _key(name) in (_key(s.fr), _key(s.en))), None)
        if sheet is None:
            continue  # a sheet of the committee's own (notes, a draft): not the edition's
        if sheet.list in found:
            twice = {"sheet": name, "other": found[sheet.list]}
            reading.problems.append(Problem(f"{name}!A1", "sheet_twice", twice))
            continue
        found[sheet.list] = name
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        if sheet.list in ("", "policies"):
            _pairs(reading, sheet, name, rows)
        else:
            _table(reading, sheet, name, rows)
    for sheet in SHEETS:
        if sheet.required and sheet.list not in found:
            reading.problems.append(Problem("", "missing_sheet", {"fr": sheet.fr, "en": sheet.en}))
    cells = reading.cells

    def cell_of(where: str) -> str:
        path = where
        while path:
            if path in cells:
                return cells[path]
            trimmed = re.sub(r"(\[\d+\]|\.[^.\[\]]+)$", "", path)
            if trimmed == path:
                break
            path = trimmed
        return where

    return reading.document, cell_of, reading.problems


def located(problems: Sequence[Problem], cell_of: Callable[[str], str]) -> list[Problem]:
    """Problems of the document, each at the cell its value came from."""
    return [Problem(cell_of(p.path), p.code, p.params) for p in problems]


# -- writing ------------------------------------------------------------------------------


def _rows(sheet: Sheet, entries: list[dict[str, Any]]) -> Iterator[list[Any]]:
    for entry in entries:
        row: list[Any] = []
        for column in sheet.columns:
            value: Any = entry
            for part in column.field.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is None or value == [] or value == {}:
                row.append(None)
            elif column.write is not None:
                row.append(column.write(value))
            else:
                row.append(value)
        yield row


def workbook_bytes(snapshot: EditionSnapshot, lang: str) -> bytes:
    """The edition as a workbook, its sheet and column names in ``lang`` (fr or en)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from creneau.adapters.edition_document import to_document

    document = to_document(snapshot)
    policies = document.get("policies", {})
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    bold = Font(bold=True)
    for sheet in SHEETS:
        title = sheet.fr if lang == "fr" else sheet.en
        ws = book.create_sheet(title)
        if sheet.list in ("", "policies"):
            source = document if sheet.list == "" else policies
            ws.append(["champ" if lang == "fr" else "field", "valeur" if lang == "fr" else "value"])
            for row in _rows(sheet, [source]):
                for column, value in zip(sheet.columns, row, strict=True):
                    ws.append([column.fr if lang == "fr" else column.en, value])
            if sheet.list == "policies":
                for rule, weight in sorted(policies.get("weights", {}).items()):
                    ws.append([f"{WEIGHT_PREFIXES[0 if lang == 'fr' else 1]} {rule}", weight])
            ws.column_dimensions["A"].width = 28
            ws.column_dimensions["B"].width = 40
        else:
            parent, _, child = sheet.list.partition(".")
            entries = (document.get(parent, {}).get(child, []) if child
                       else document.get(sheet.list, []))  # fmt: skip
            ws.append([c.fr if lang == "fr" else c.en for c in sheet.columns])
            for row in _rows(sheet, entries):
                ws.append(row)
            for j in range(len(sheet.columns)):
                ws.column_dimensions[_column_letter(j)].width = 16
            ws.freeze_panes = "B2"
        for cell in ws[1]:
            cell.font = bold
        for line in ws.iter_rows(min_row=2):
            for cell in line:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
