"""Editions that come from other tools: FOSDEM 2024's real frab ``schedule.xml``, c3voc
JSON as Créneau writes it, pretalx's ``schedule.json``; read through the same checks as
edition documents, their programmes kept as a proposed schedule, round trips that give
back the same sessions, rooms, times and people, bad feeds refused with the store
unchanged."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from creneau.adapters.bootstrap import open_engine
from creneau.scheduler import Placement, Session
from tests.integration.cli_helpers import published, run

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
FOSDEM = FEEDS / "fosdem-2024.xml"
PRETALX = FEEDS / "pretalx-nec.json"
XSD = etree.XMLSchema(etree.parse(str(FEEDS.parent / "c3voc" / "schedule.xml.xsd")))


def programme_of(db: str, schedule: str | None = None) -> Counter[tuple[object, ...]]:
    """The runs of a store's schedule (or programme) as a reader sees them: title, day,
    times, room name and the names of the people on stage."""
    with open_engine(db, read_only=True) as engine:
        service = engine.service
        state = service.load(service.editions()[0])
    runs = state.schedules[schedule].assignments if schedule else state.programme
    rooms = {r.id: r.name for r in state.rooms.values()}
    people = {p.id: p.name for p in state.people.values()}
    return Counter(
        (state.sessions[p.session].title, p.day.isoformat(), p.start, p.end, rooms[p.room],
         on_stage(state.sessions[p.session], p, people),
         state.sessions[p.session].duration)
        for p in runs
    )  # fmt: skip


def on_stage(session: Session, run: Placement, people: dict[str, str]) -> tuple[str, ...]:
    """The names of everyone on stage: a feed has persons, not speakers and moderators."""
    ids = {*session.speakers, *session.moderators, *run.moderators}
    return tuple(sorted(people[x] for x in ids))


def people_and_rooms(db: str) -> tuple[set[str], set[str]]:
    with open_engine(db, read_only=True) as engine:
        state = engine.service.load(engine.service.editions()[0])
    return {p.name for p in state.people.values()}, {r.name for r in state.rooms.values()}


def test_fosdem_2024_imports_with_its_programme_as_a_proposed_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "fosdem.db")
    code, out, err = run(capsys, "import", str(FOSDEM), "--store", db, "--lang", "en")
    assert code == 0, err
    assert "added 674 sessions" in out and "added 26 rooms" in out and "added 738 people" in out
    assert '(674 runs) is recorded as "schedule-1"' in out
    # The real data's faults, named: two talks in one room at once, two speakers booked
    # twice at once.
    assert "it breaks 4 hard rules" in out and out.count("the room already holds") == 2
    found = programme_of(db, "schedule-1")
    assert sum(found.values()) == 674
    assert ("Creative Coding with TurtleStitch", "2024-02-03", "10:30", "11:30", "J.1.106",
            ("Pauline Maas",), 60) in found  # fmt: skip
    # Importing it again changes nothing and records no second schedule.
    code, out, _ = run(capsys, "import", str(FOSDEM), "--store", db, "--lang", "en")
    assert code == 0 and "nothing recorded" in out and "schedule-2" not in out
    # Accepting it as it is is refused, naming the rule.
    code, _, err = run(capsys, "accept", "--store", db, "schedule-1", "--lang", "en")
    assert code == 2 and "no longer fits" in err


def test_fosdem_round_trip_through_frab_xml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    assert run(capsys, "import", str(FOSDEM), "--store", first)[0] == 0
    xml = tmp_path / "schedule.xml"
    code, _, err = run(capsys, "export", "--store", first, "--schedule", "schedule-1",
                       "--format", "frab-xml", "--output", str(xml))  # fmt: skip
    assert code == 0, err
    XSD.assertValid(etree.parse(str(xml)))
    assert run(capsys, "import", str(xml), "--store", second)[0] == 0
    assert programme_of(second, "schedule-1") == programme_of(first, "schedule-1")
    assert people_and_rooms(second) == people_and_rooms(first)


@pytest.mark.slow
def test_fosdem_solved_and_exported_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "fosdem.db")
    assert run(capsys, "import", str(FOSDEM), "--store", db)[0] == 0
    code, _, err = run(capsys, "solve", "--store", db, "--time-limit", "25", "--seed", "1")
    assert code == 0, err
    assert run(capsys, "accept", "--store", db)[0] == 0
    xml = tmp_path / "solved.xml"
    assert (
        run(capsys, "export", "--store", db, "--format", "frab-xml", "--output", str(xml))[0] == 0
    )
    XSD.assertValid(etree.parse(str(xml)))
    assert len(etree.parse(str(xml)).findall(".//event")) == 674
    # And the independent validator finds nothing broken in what the solver published.
    edition, schedule = tmp_path / "fosdem.json", tmp_path / "fosdem.schedule.json"
    assert run(capsys, "export", "--store", db, "--output", str(edition))[0] == 0
    assert (
        run(capsys, "export", "--store", db, "--format", "json", "--output", str(schedule))[0] == 0
    )
    code, out, _ = run(capsys, "check", str(edition), str(schedule))
    assert code == 0, out


def test_c3voc_json_round_trip_of_metz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = published(capsys, tmp_path)
    feed = tmp_path / "schedule.json"
    assert run(capsys, "export", "--store", db, "--format", "c3voc-json",
               "--output", str(feed))[0] == 0  # fmt: skip
    again = str(tmp_path / "again.db")
    code, _, err = run(capsys, "import", str(feed), "--store", again)
    assert code == 0, err
    assert programme_of(again, "schedule-1") == programme_of(db)
    names, rooms = people_and_rooms(again)
    on_stage, all_rooms = people_and_rooms(db)
    assert names <= on_stage and rooms <= all_rooms
    # Organisations travel as the feed's one-line biographies.
    with open_engine(again, read_only=True) as engine:
        state = engine.service.load(engine.service.editions()[0])
    assert any(p.organisation == "Adjointe au Maire de Metz, déléguée à la transition numérique "
               "et à l'insertion professionnelle" for p in state.people.values())  # fmt: skip


def test_pretalx_schedule_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "lyon.db")
    code, _, err = run(capsys, "import", str(PRETALX), "--store", db)
    assert code == 0, err
    with open_engine(db, read_only=True) as engine:
        state = engine.service.load("nec-lyon-2025")
    assert state.info is not None and state.info.timezone == "Europe/Paris"
    assert {r.name: r.capacity for r in state.rooms.values()} == {"Amphithéâtre": 250,
                                                                  "Salle Rhône": 40}  # fmt: skip
    people = {p.name: p for p in state.people.values()}
    assert people["Joris Keller"].organisation == "Chargé de mission inclusion, Métropole de Lyon"
    assert people["Amel Benali"].organisation == ""  # a biography paragraph is no organisation
    atelier = next(s for s in state.sessions.values() if s.title.startswith("Atelier"))
    assert atelier.description == "Un atelier pratique.\noutils\npostures"  # HTML read as text
    assert atelier.duration == 90 and atelier.themes == ("inclusion",)
    found = programme_of(db, "schedule-1")
    assert ("Atelier : accompagner les démarches en ligne", "2025-06-12", "10:30", "12:00",
            "Salle Rhône", ("Amel Benali",), 90) in found  # fmt: skip
    # The feed's programme breaks no rule: it can be published as it is.
    assert run(capsys, "accept", "--store", db, "schedule-1")[0] == 0


BAD = {
    "broken.xml": (b"<schedule><conference>", "XML"),
    "laughs.xml": (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
                   b"<schedule>&lol;</schedule>", "entit"),
    "other.xml": (b"<html><body/></html>", "html"),
    "duration.xml": (b"<schedule><conference><title>X</title></conference>"
                     b'<day date="2024-02-03" index="1"><room name="R">'
                     b"<event id='1'><start>10:00</start><duration>an hour</duration>"
                     b"<title>T</title></event></room></day></schedule>",
                     "day[0].room[0].event[0].duration"),
    "midnight.xml": (b"<schedule><conference><title>X</title></conference>"
                     b'<day date="2024-02-03" index="1"><room name="R">'
                     b"<event id='1'><start>23:30</start><duration>01:00</duration>"
                     b"<title>Late</title></event></room></day></schedule>", "minuit"),
    "nodays.json": (json.dumps({"schedule": {"conference": {"title": "X", "days": [1]}}})
                    .encode(), "schedule.conference.days[0]"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_feeds_are_refused_and_the_store_unchanged(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = published(capsys, tmp_path)
    with open_engine(db, read_only=True) as engine:
        before = engine.service.load(engine.service.editions()[0])
    data, named = BAD[name]
    path = tmp_path / name
    path.write_bytes(data)
    code, _, err = run(capsys, "import", str(path), "--store", db)
    assert code == 2 and named in err and "rien n'a été enregistré" in err, err
    with open_engine(db, read_only=True) as engine:
        assert engine.service.load(engine.service.editions()[0]) == before
