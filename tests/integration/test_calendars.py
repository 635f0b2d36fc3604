"""Calendars parsed back as a calendar application reads them: every run present, at the
right local time, across a change of daylight-saving time too."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
import zoneinfo
from pathlib import Path

import icalendar
import msgspec
import pytest

from creneau.adapters._i18n import words
from creneau.adapters.calendars import ics, xcal
from creneau.adapters.feeds import event_guid
from creneau.scheduler import Day, Placement, Room
from tests.integration.cli_helpers import published, run
from tests.solver_editions import edition, session

STAMP = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def test_local_times_hold_across_the_end_of_summer_time() -> None:
    # Summer time ends in the night of 28 to 29 October 2023 in Paris.
    days = [Day(day=dt.date(2023, 10, 28), open="09:00", close="12:00"),
            Day(day=dt.date(2023, 10, 30), open="09:00", close="12:00")]  # fmt: skip
    ed = msgspec.structs.replace(
        edition(sessions=[session("a", title="Atelier"), session("b", occurrences=2)],
                rooms=[Room(id="r1", name="Salle 1", capacity=30)], days=days),
        timezone="Europe/Paris",
    )  # fmt: skip

    def run_of(sid: str, k: int, day: dt.date, start: str, end: str) -> Placement:
        return Placement(session=sid, occurrence=k, room="r1", day=day, start=start, end=end)

    runs = [run_of("a", 1, days[0].day, "10:00", "11:00"),
            run_of("b", 1, days[0].day, "11:00", "12:00"),
            run_of("b", 2, days[1].day, "10:00", "11:00")]  # fmt: skip
    calendar = icalendar.Calendar.from_ical(ics(ed, runs, words("en"), name="Test", stamp=STAMP))
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert len(events) == 3 and calendar.walk("VTIMEZONE")
    for p in runs:
        e = events[f"{event_guid('mini', p.session, p.occurrence)}@creneau"]
        start = e.decoded("dtstart")
        assert start.tzinfo is not None
        assert start.astimezone(PARIS).strftime("%Y-%m-%d %H:%M") == f"{p.day} {p.start}"
        assert str(e["location"]) == "Salle 1"
    offsets = {p.day: events[f"{event_guid('mini', p.session, p.occurrence)}@creneau"]
               .decoded("dtstart").utcoffset() for p in runs}  # fmt: skip
    assert offsets == {days[0].day: dt.timedelta(hours=2), days[1].day: dt.timedelta(hours=1)}
    assert str(events[f"{event_guid('mini', 'b', 2)}@creneau"]["summary"]) == "b (2/2)"

    # The same calendar in xCal, read with an XML parser: the same events at the same local
    # times, in the zone its VTIMEZONE defines (offsets +02:00 then +01:00).
    root = ET.fromstring(xcal(ed, runs, words("en"), name="Test", stamp=STAMP))
    ns = {"x": "urn:ietf:params:xml:ns:icalendar-2.0"}
    found = {}
    for e in root.iterfind(".//x:vevent/x:properties", ns):
        uid = e.findtext("x:uid/x:text", namespaces=ns)
        start = e.find("x:dtstart", ns)
        assert start is not None
        assert start.findtext("x:parameters/x:tzid/x:text", namespaces=ns) == "Europe/Paris"
        found[uid] = start.findtext("x:date-time", namespaces=ns)
    assert found == {f"{event_guid('mini', p.session, p.occurrence)}@creneau":
                     f"{p.day}T{p.start}:00" for p in runs}  # fmt: skip
    zone = root.find(".//x:vtimezone", ns)
    assert zone is not None and zone.findtext(".//x:tzid/x:text", namespaces=ns) == "Europe/Paris"
    offsets = {o.text for o in zone.iterfind(".//x:tzoffsetto/x:utc-offset", ns)}
    assert {"+01:00", "+02:00"} <= offsets
    stamp = root.findtext(".//x:vevent//x:dtstamp/x:date-time", namespaces=ns)
    assert stamp == "2026-12-01T09:00:00Z"


def test_calendars_of_metz_per_edition_room_person_and_audience(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = published(capsys, tmp_path)

    def exported(*narrow: str) -> icalendar.Calendar:
        out = tmp_path / "out.ics"
        assert run(capsys, "export", "--store", db, "--format", "ics", *narrow,
                   "--output", str(out))[0] == 0  # fmt: skip
        return icalendar.Calendar.from_ical(out.read_bytes())

    whole = exported()
    assert len(whole.walk("VEVENT")) == 21  # every run of the published programme
    hall = exported("--room", "wolking-ghost-hall")
    assert 0 < len(hall.walk("VEVENT")) < 21
    assert all(str(e["location"]).startswith("Wolking Ghost Hall") for e in hall.walk("VEVENT"))
    assert str(hall["x-wr-calname"]) == "Numérique en Commun[s] Metz 2023 — Wolking Ghost Hall"
    public = exported("--audience", "general_public", "--lang", "fr")
    assert str(public["x-wr-calname"]).endswith("— grand public")
    speaker = next(str(e["description"]) for e in whole.walk("VEVENT") if "description" in e)
    assert speaker.startswith("Intervenant")
    code, _, err = run(capsys, "export", "--store", db, "--format", "ics", "--person", "p-999")
    assert code == 2 and "p-999" in err


def test_the_programme_as_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv

    db = published(capsys, tmp_path)
    out = tmp_path / "programme.csv"
    assert run(capsys, "export", "--store", db, "--format", "csv", "--lang", "en",
               "--output", str(out))[0] == 0  # fmt: skip
    header, *rows = list(csv.reader(out.open(encoding="utf-8")))
    assert header == ["day", "start", "end", "room", "title", "format", "audiences",
                      "speakers", "moderators", "places"]  # fmt: skip
    assert len(rows) == 21 and rows == sorted(rows, key=lambda r: (r[0], r[1]))
    tours = [r for r in rows if r[4].startswith("Visite guidée")]
    assert [r[1] for r in tours] == ["14:00", "14:30", "15:00"]  # the three guided tours
    assert all(r[9].isdigit() for r in rows)  # places offered by each run's room


def test_the_programme_as_a_workbook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import openpyxl

    db = published(capsys, tmp_path)
    csv_out, xlsx_out = tmp_path / "p.csv", tmp_path / "p.xlsx"
    for fmt, out in (("csv", csv_out), ("xlsx", xlsx_out)):
        assert run(capsys, "export", "--store", db, "--format", fmt, "--output", str(out))[0] == 0
    sheet = openpyxl.load_workbook(xlsx_out).active
    assert sheet is not None and sheet.title == "Programme"
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][:5] == ["jour", "début", "fin", "salle", "titre"]
    # Days as dates and times as times, the same runs as the CSV.
    assert all(isinstance(r[0], dt.datetime) and isinstance(r[1], dt.time) for r in rows[1:])
    import csv

    as_text = [[r[0].date().isoformat(), r[1].strftime("%H:%M"), r[2].strftime("%H:%M"),
                *["" if v is None else str(v) for v in r[3:]]] for r in rows[1:]]  # fmt: skip
    assert as_text == list(csv.reader(csv_out.open(encoding="utf-8")))[1:]
    code, _, err = run(capsys, "export", "--store", db, "--format", "xlsx")
    assert code == 2 and "--output" in err
