"""The feeds (frab's schedule.xml, c3voc's schedule.json) validate against the official
schemas, and their ids stay the same when the programme is re-planned."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgspec
import pytest
from lxml import etree

from benchmarks.national import generate
from creneau.adapters.edition_document import load_edition
from creneau.adapters.feeds import c3voc_json, event_guid, frab_xml
from creneau.events_store import MemoryEventStore
from creneau.scheduler import (
    AcceptSchedule,
    EditionService,
    EditionSnapshot,
    ImportEdition,
    SolveProgramme,
)
from creneau.solver import CpSatSolver
from tests.integration.cli_helpers import METZ, SUD_OUEST, run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "c3voc"
SCHEMA = json.loads((FIXTURES / "schedule.schema.json").read_text())
XSD = etree.XMLSchema(etree.parse(str(FIXTURES / "schedule.xml.xsd")))


def published(snapshot: EditionSnapshot, seconds: float = 10) -> EditionService:
    service = EditionService(MemoryEventStore(), actor="tester")
    service.execute(ImportEdition(snapshot=snapshot))
    _, schedule = service.solve(snapshot.id, CpSatSolver(), SolveProgramme(time_limit=seconds))
    service.execute(AcceptSchedule(schedule_id=schedule), edition_id=snapshot.id)
    return service


def events(feed: dict) -> list[dict]:
    return [e for day in feed["schedule"]["conference"]["days"]
            for room in day["rooms"].values() for e in room]  # fmt: skip


EDITIONS = [load_edition(METZ).snapshot, load_edition(SUD_OUEST).snapshot, generate(1.0)]


@pytest.mark.parametrize("snapshot", EDITIONS, ids=["metz", "sud-ouest", "national"])
def test_the_feed_validates_against_the_c3voc_schema(snapshot: EditionSnapshot) -> None:
    service = published(snapshot)
    state = service.load(snapshot.id)
    feed = json.loads(json.dumps(c3voc_json(state.snapshot(), state.programme, "v1", "0.1")))
    jsonschema.validate(feed, SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    found = events(feed)
    assert len(found) == len(state.programme)
    assert len({e["guid"] for e in found}) == len({e["id"] for e in found}) == len(found)
    # Times are the edition's local times, with its offset.
    first = min(state.programme, key=lambda p: (p.day, p.start))
    match = next(e for e in found if e["guid"] == str(event_guid(snapshot.id, first.session,
                                                                   first.occurrence)))  # fmt: skip
    assert match["date"].startswith(f"{first.day.isoformat()}T{first.start}:00+0")

    xml = etree.fromstring(frab_xml(state.snapshot(), state.programme, "v1", "0.1"))
    assert XSD.validate(xml), XSD.error_log
    # The same events, ids and times as the JSON.
    written = {(x.get("guid"), int(x.get("id")), x.findtext("date"), x.findtext("room"))
               for x in xml.iter("event")}  # fmt: skip
    assert written == {(e["guid"], e["id"], e["date"], e["room"]) for e in found}


def test_ids_stay_when_a_session_moves() -> None:
    snapshot = load_edition(METZ).snapshot
    state = published(snapshot).load(snapshot.id)
    old = c3voc_json(state.snapshot(), state.programme, "v1", "0.1")
    # A re-plan swaps two sessions' times and rooms: their ids follow the sessions.
    a, b = state.programme[0], state.programme[-1]
    swapped = [
        msgspec.structs.replace(a, day=b.day, start=b.start, end=b.end, room=b.room)
        if p is a else
        msgspec.structs.replace(b, day=a.day, start=a.start, end=a.end, room=a.room)
        if p is b else p
        for p in state.programme
    ]  # fmt: skip
    new = c3voc_json(state.snapshot(), swapped, "v2", "0.1")
    ids = lambda feed: {(e["guid"], e["id"], e["slug"]) for e in events(feed)}  # noqa: E731
    assert ids(old) == ids(new)
    key = str(event_guid(snapshot.id, a.session, a.occurrence))
    assert [e["start"] for e in events(new) if e["guid"] == key] == [b.start]


def test_the_command_line_exports_the_feed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "metz.db")
    assert run(capsys, "import", str(METZ), "--store", db)[0] == 0
    code, _, err = run(capsys, "export", "--store", db, "--format", "c3voc-json")
    assert code == 2 and "solve" in err  # nothing published yet: said, not a traceback
    assert run(capsys, "solve", "--store", db, "--time-limit", "10")[0] == 0
    assert run(capsys, "accept", "--store", db)[0] == 0
    out = tmp_path / "schedule.json"
    assert (
        run(capsys, "export", "--store", db, "--format", "c3voc-json", "--output", str(out))[0] == 0
    )
    feed = json.loads(out.read_text())
    jsonschema.validate(feed, SCHEMA)
    assert feed["schedule"]["conference"]["acronym"] == "nec_metz_2023"
    xml = tmp_path / "schedule.xml"
    assert (
        run(capsys, "export", "--store", db, "--format", "frab-xml", "--output", str(xml))[0] == 0
    )
    assert XSD.validate(etree.parse(str(xml)))


def test_one_shot_exports_from_an_edition_and_a_schedule_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = tmp_path / "metz.schedule.json"
    assert run(capsys, "solve", str(METZ), "--output", str(schedule), "--time-limit", "10")[0] == 0
    out = tmp_path / "schedule.xml"
    code, _, err = run(capsys, "export", str(METZ), str(schedule), "--format", "frab-xml",
                       "--output", str(out))  # fmt: skip
    assert code == 0, err
    XSD.assertValid(etree.parse(str(out)))
    runs = len(msgspec.json.decode(schedule.read_bytes())["assignments"])
    assert len(etree.parse(str(out)).findall(".//event")) == runs
    # A store and documents at once, a schedule missing, a schedule of another edition.
    db = str(tmp_path / "m.db")
    assert run(capsys, "import", str(METZ), "--store", db)[0] == 0
    code, _, err = run(capsys, "export", str(METZ), str(schedule), "--store", db)
    assert code == 2 and "--store" in err
    code, _, err = run(capsys, "export", str(METZ), "--format", "ics")
    assert code == 2 and "ics" in err
    other = tmp_path / "other.schedule.json"
    assert (
        run(capsys, "solve", str(SUD_OUEST), "--output", str(other), "--time-limit", "10")[0] == 0
    )
    code, _, err = run(capsys, "export", str(METZ), str(other), "--format", "csv")
    assert code == 2 and "nec-sud-ouest-2023" in err


def test_the_parser_names_every_export_format() -> None:
    from creneau.adapters._exporting import FORMATS
    from creneau.adapters.cli import EXPORT_FORMATS

    assert set(EXPORT_FORMATS) == set(FORMATS)


def test_every_export_with_a_place_for_it_carries_the_licence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import icalendar
    import openpyxl

    text = METZ.read_text().replace('id = "nec-metz-2023"\n', 'id = "nec-metz-2023"\n'
                                    'licence = "CC-BY-SA-4.0"\n'
                                    'url = "https://example.org/nec-metz"\n', 1)  # fmt: skip
    document = tmp_path / "metz.toml"
    document.write_text(text)
    schedule = tmp_path / "metz.schedule.json"
    assert (
        run(capsys, "solve", str(document), "--output", str(schedule), "--time-limit", "10")[0] == 0
    )

    def exported(fmt: str) -> Path:
        out = tmp_path / f"out.{fmt}"
        code, _, err = run(capsys, "export", str(document), str(schedule), "--format", fmt,
                           "--output", str(out))  # fmt: skip
        assert code == 0, err
        return out

    feed = json.loads(exported("c3voc-json").read_text())
    assert feed["schedule"]["conference"]["meta"]["licence"] == "CC-BY-SA-4.0"
    assert feed["schedule"]["conference"]["url"] == "https://example.org/nec-metz"
    xml = exported("frab-xml")
    XSD.assertValid(etree.parse(str(xml)))
    assert b"<!-- licence: CC-BY-SA-4.0 -->" in xml.read_bytes()
    calendar = icalendar.Calendar.from_ical(exported("ics").read_bytes())
    assert str(calendar["x-creneau-licence"]) == "CC-BY-SA-4.0"
    assert b"CC-BY-SA-4.0" in exported("xcal").read_bytes()
    assert "Licence : CC-BY-SA-4.0." in exported("html").read_text()
    assert "Licence : CC-BY-SA-4.0." in exported("run-sheets-html").read_text()
    book = openpyxl.load_workbook(exported("xlsx"))
    assert book.properties.description == "Licence : CC-BY-SA-4.0."
    assert 'licence = "CC-BY-SA-4.0"' in exported("edition").read_text() or \
        '"licence": "CC-BY-SA-4.0"' in exported("edition").read_text()  # fmt: skip
