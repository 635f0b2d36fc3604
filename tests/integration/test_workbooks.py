"""Editions kept in spreadsheets: a store's edition written as a workbook and imported
again gives the same edition (xlsx, and ods as LibreOffice writes it); every fault of a
workbook is named by its sheet, row and column, and the store stays as it was."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import openpyxl
import pytest

from benchmarks.national import generate
from creneau.adapters.bootstrap import open_engine
from creneau.adapters.edition_document import document_bytes, load_edition
from creneau.scheduler import EditionSnapshot
from tests.integration.cli_helpers import METZ, SUD_OUEST, run


def snapshot_of(db: str) -> EditionSnapshot:
    with open_engine(db, read_only=True) as engine:
        service = engine.service
        return service.load(service.editions()[0]).snapshot()


def metz_with_registrations(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    db = str(tmp_path / "metz.db")
    assert run(capsys, "import", str(METZ), "--store", db)[0] == 0
    for attendee, session in (("ana", "atelier-education"), ("bea", "visite-guidee")):
        run(capsys, "register", "--store", db, "--attendee", attendee, "--session", session)
    return db


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_edition_to_workbook_and_back_gives_the_same_edition(
    lang: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = metz_with_registrations(capsys, tmp_path)
    book = tmp_path / "metz.xlsx"
    code, _, err = run(capsys, "export", "--store", db, "--format", "xlsx-edition",
                       "--lang", lang, "--output", str(book))  # fmt: skip
    assert code == 0, err
    names = openpyxl.load_workbook(book).sheetnames
    assert ("Salles" in names) == (lang == "fr") and ("Rooms" in names) == (lang == "en")
    again = str(tmp_path / "again.db")
    code, _, err = run(capsys, "import", str(book), "--store", again)
    assert code == 0, err
    assert snapshot_of(again) == snapshot_of(db)
    assert snapshot_of(db).registrations  # the round trip carried registrations too
    # Imported into the store it came from, it changes nothing.
    code, out, _ = run(capsys, "import", str(book), "--store", db, "--lang", "en")
    assert code == 0 and "nothing recorded" in out


@pytest.mark.parametrize("snapshot", [load_edition(SUD_OUEST).snapshot, generate(1.0)],
                         ids=["sud-ouest", "national"])  # fmt: skip
def test_every_field_survives_the_workbook(snapshot: EditionSnapshot, tmp_path: Path) -> None:
    from creneau.adapters.workbooks import workbook_bytes

    book = tmp_path / "edition.xlsx"
    book.write_bytes(workbook_bytes(snapshot, "fr"))
    assert load_edition(book).snapshot == snapshot


def ods_from(xlsx: Path, ods: Path, *, times: bool = True) -> None:
    """The workbook as an OpenDocument spreadsheet (content.xml as LibreOffice writes it),
    dates as dates, numbers as floats, booleans as booleans, the days' hours as times."""
    book = openpyxl.load_workbook(xlsx)
    tables = []
    for ws in book.worksheets:
        rows = []
        for row in ws.iter_rows(values_only=True):
            cells = []
            for v in row:
                if v is None:
                    cells.append("<table:table-cell/>")
                elif isinstance(v, bool):
                    cells.append(f'<table:table-cell office:value-type="boolean" '
                                 f'office:boolean-value="{str(v).lower()}"><text:p>{v}</text:p>'
                                 "</table:table-cell>")  # fmt: skip
                elif isinstance(v, dt.datetime):
                    cells.append(f'<table:table-cell office:value-type="date" '
                                 f'office:date-value="{v.date()}"><text:p>{v.date()}</text:p>'
                                 "</table:table-cell>")  # fmt: skip
                elif isinstance(v, int | float):
                    cells.append(f'<table:table-cell office:value-type="float" office:value="{v}">'
                                 f"<text:p>{v}</text:p></table:table-cell>")  # fmt: skip
                elif times and ws.title == "Jours" and len(str(v)) == 5 and str(v)[2] == ":" \
                        and str(v) != "24:00":  # fmt: skip
                    h, m = str(v).split(":")
                    cells.append(f'<table:table-cell office:value-type="time" '
                                 f'office:time-value="PT{h}H{m}M00S"><text:p>{v}</text:p>'
                                 "</table:table-cell>")  # fmt: skip
                else:
                    text = escape(str(v))
                    cells.append('<table:table-cell office:value-type="string">'
                                 f"<text:p>{text}</text:p></table:table-cell>")  # fmt: skip
            rows.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
        tables.append(f'<table:table table:name="{escape(ws.title)}">' + "".join(rows)
                      + "</table:table>")  # fmt: skip
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:spreadsheet>" + "".join(tables)
        + "</office:spreadsheet></office:body></office:document-content>"
    )  # fmt: skip
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )  # fmt: skip
    with zipfile.ZipFile(ods, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                   compress_type=zipfile.ZIP_STORED)  # fmt: skip
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)


def test_an_ods_workbook_reads_the_same(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = metz_with_registrations(capsys, tmp_path)
    xlsx, ods = tmp_path / "metz.xlsx", tmp_path / "metz.ods"
    assert run(capsys, "export", "--store", db, "--format", "xlsx-edition",
               "--output", str(xlsx))[0] == 0  # fmt: skip
    ods_from(xlsx, ods)
    assert load_edition(ods).snapshot == snapshot_of(db)


def column(ws: Any, title: str) -> str:
    for cell in ws[1]:
        if cell.value == title:
            return str(cell.column_letter)
    raise AssertionError(title)


def row_of(ws: Any, ident: str | None) -> int:
    if ident is None:  # the first entry
        return 2
    for cell in ws["A"]:
        if cell.value == ident:
            return int(cell.row)
    raise AssertionError(ident)


def set_cell(sheet: str, ident: str | None, title: str, value: object) -> Callable[[Any], str]:
    def change(book: Any) -> str:
        ws = book[sheet]
        cell = f"{column(ws, title)}{row_of(ws, ident)}"
        ws[cell] = value
        return f"{sheet}!{cell}"

    return change


def add_column(book: Any) -> str:
    ws = book["Salles"]
    ws.cell(1, ws.max_column + 1, "couleur")
    return f"Salles!{ws.cell(1, ws.max_column).column_letter}1"


def drop_rooms(book: Any) -> str:
    del book["Salles"]
    return "« Salles »"


def twice(book: Any) -> str:
    ws = book["Salles"]
    ws[f"A{row_of(ws, 'salle-travail-2')}"] = "salle-travail-1"
    return f"Salles!A{row_of(ws, 'salle-travail-1') + 1}"


# Ten kinds of faults, and what the refusal must say after the cell it names.
FAULTS: dict[str, tuple[Callable[[Any], str], str]] = {
    "unknown person": (set_cell("Sessions", "atelier-education", "intervenants", "p-999"),
                       "personne inconnue « p-999 »"),
    "bad time": (set_cell("Jours", None, "ouverture", "9h75"), "n’est pas une heure"),
    "negative seats": (set_cell("Salles", "salle-travail-1", "places", -5), "-5"),
    "words for minutes": (set_cell("Sessions", "accueil", "durée", "une heure"),
                          "n’est pas un nombre entier"),
    "no such date": (set_cell("Jours", None, "jour", "31/02/2023"), "n’est pas une date"),
    "unknown column": (add_column, "« couleur » n’est pas une colonne"),
    "missing sheet": (drop_rooms, "pas de feuille"),
    "same id twice": (twice, "salle-travail-1"),
    "neither yes nor no": (set_cell("Personnes", "frederic-schnur", "peut animer", "peut-être"),
                           "ni oui ni non"),
    "bad window": (set_cell("Salles", "salle-travail-3", "disponibilités", "demain matin"),
                   "n’est pas un créneau"),
    "unknown room": (set_cell("Sessions", "atelier-education", "salle fixée", "cave"), "cave"),
}  # fmt: skip


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_is_named_by_its_cell_and_the_store_is_unchanged(
    fault: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = metz_with_registrations(capsys, tmp_path)
    book_path = tmp_path / "metz.xlsx"
    assert run(capsys, "export", "--store", db, "--format", "xlsx-edition",
               "--output", str(book_path))[0] == 0  # fmt: skip
    before = document_bytes(snapshot_of(db))
    change, said = FAULTS[fault]
    book = openpyxl.load_workbook(book_path)
    where = change(book)
    book.save(book_path)
    code, _, err = run(capsys, "import", str(book_path), "--store", db)
    assert code == 2, err
    assert "refusé, rien n'a été enregistré" in err
    assert f"{where} : " in err or where in err, err
    assert said in err, err
    assert document_bytes(snapshot_of(db)) == before
