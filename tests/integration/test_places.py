"""Places, waiting lists and rotations: no seat sold twice, first come first served."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.adapters.cli import main
from creneau.events_store import MemoryEventStore, SQLiteEventStore
from creneau.scheduler import (
    BookPlace,
    CancelPlace,
    ConcurrencyError,
    EditionService,
    ImportEdition,
    InvalidCommand,
    Session,
)
from tests.solver_editions import edition

ROOT = Path(__file__).resolve().parents[2]
METZ = ROOT / "examples" / "nec-metz-2023.toml"


def small(capacity: int) -> EditionService:
    service = EditionService(MemoryEventStore(), actor="tester")
    ed = edition(
        sessions=[
            Session(id="atelier", duration=60, capacity=capacity),
            Session(id="autre", duration=60),
        ]
    )
    service.execute(ImportEdition(snapshot=ed))
    return service


steps = st.lists(
    st.tuples(st.sampled_from(["book", "cancel"]), st.sampled_from([f"a{i}" for i in range(6)])),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(steps=steps)
def test_interleavings_never_oversell_lose_or_reorder(steps: list[tuple[str, str]]) -> None:
    service = small(capacity=2)
    holding: list[str] = []  # everyone with a place or a rank, in booking order
    for action, who in steps:
        command = (
            BookPlace(attendee=who, session_id="atelier")
            if action == "book"
            else CancelPlace(attendee=who, session_id="atelier")
        )
        try:
            service.execute(command, edition_id="mini")
        except InvalidCommand:
            assert (who in holding) == (action == "book")  # a refusal has its reason
            continue
        if action == "book":
            holding.append(who)
        else:
            holding.remove(who)
        confirmed, waiting = service.load("mini").places[("atelier", 1, None)]
        assert len(confirmed) <= 2
        assert sorted(confirmed + waiting) == sorted(holding)  # nobody lost, nobody twice
        # First come, first served: the earliest bookers still holding have the places
        # (a cancellation promotes the first waiting), the others wait in booking order.
        assert set(confirmed) == set(holding[:2])
        assert list(waiting) == holding[2:]


def test_an_attendee_holds_one_place_per_session_and_none_overlapping() -> None:
    service = small(capacity=5)
    service.execute(BookPlace(attendee="ann", session_id="atelier"), edition_id="mini")
    with pytest.raises(InvalidCommand, match="already_holds_place"):
        service.execute(BookPlace(attendee="ann", session_id="atelier"), edition_id="mini")
    registration = service.load("mini").registrations["ann"]
    assert (registration.profile, registration.sessions) == ("professionals", ("atelier",))


def test_metz_rotations_tours_and_jauges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "metz.db")
    for argv in (["import", str(METZ)], ["solve"], ["accept"]):
        assert main([*argv, "--store", store]) == 0
    capsys.readouterr()
    # E-Sport: 6 places every 15 minutes, each rotation booked on its own.
    for i in range(7):
        assert (
            main(
                [
                    "register",
                    "--store",
                    store,
                    "--attendee",
                    f"g{i}",
                    "--session",
                    "esport",
                    "--rotation",
                    "14:00",
                    "--profile",
                    "general_public",
                ]
            )
            == 0
        )
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["confirmé"] * 6 + ["liste d'attente, rang 1"]
    assert (
        main(
            [
                "register",
                "--store",
                store,
                "--attendee",
                "g6b",
                "--session",
                "esport",
                "--rotation",
                "14:15",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == "confirmé"
    assert (
        main(
            [
                "register",
                "--store",
                store,
                "--attendee",
                "x",
                "--session",
                "esport",
                "--rotation",
                "14:05",
            ]
        )
        == 2
    )
    assert "choisissez une rotation" in capsys.readouterr().err
    # Guided tours: three occurrences of 20 people.
    assert (
        main(
            [
                "register",
                "--store",
                store,
                "--attendee",
                "t1",
                "--session",
                "visite-bliiida",
                "--occurrence",
                "3",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["cancel", "--store", store, "--attendee", "g0", "--session", "esport"]) == 0
    assert "g6 prend une place dans esport" in capsys.readouterr().out
    assert main(["places", "--store", store]) == 0
    table = {
        (cols[0], cols[1], cols[2] if len(cols) == 6 else ""): cols[-3:]
        for cols in (line.split() for line in capsys.readouterr().out.splitlines()[1:])
    }
    assert table[("esport", "1", "14:00")] == ["6", "6", "0"]
    assert table[("esport", "1", "14:15")] == ["6", "1", "0"]
    assert len([k for k in table if k[0] == "esport"]) == 6  # 14:00 … 15:15
    assert table[("visite-bliiida", "3", "")] == ["20", "1", "0"]
    assert table[("instagram", "2", "")][0] == "20"


def _register_many(path: str, attendees: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    service = EditionService(SQLiteEventStore(path), actor="tester")
    for who in attendees:
        while True:
            try:
                service.execute(
                    BookPlace(attendee=who, session_id="atelier"), edition_id="mini", attempts=50
                )
                break
            except ConcurrencyError:
                continue


@pytest.mark.slow
def test_eight_processes_five_hundred_attendees_one_hundred_places(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    service = EditionService(SQLiteEventStore(path), actor="tester")
    service.execute(
        ImportEdition(snapshot=edition(sessions=[Session(id="atelier", duration=60, capacity=100)]))
    )
    attendees = [f"a{i:03d}" for i in range(500)]
    shares = [attendees[i::8] for i in range(8)]
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        pool.starmap(_register_many, [(path, share) for share in shares])
    confirmed, waiting = (
        EditionService(SQLiteEventStore(path), actor="tester")
        .load("mini")
        .places[("atelier", 1, None)]
    )
    assert len(confirmed) == 100 and len(waiting) == 400
    assert sorted(confirmed + waiting) == attendees  # no duplicate, none lost
    assert SQLiteEventStore(path).verify() is None


def _metz_published(tmp_path: Path) -> EditionService:
    from creneau.adapters.edition_document import load_edition
    from creneau.scheduler import AcceptSchedule, SolveProgramme
    from creneau.solver import CpSatSolver

    service = EditionService(SQLiteEventStore(tmp_path / "metz.db"), actor="tester")
    service.execute(ImportEdition(snapshot=load_edition(METZ).snapshot))
    _, schedule_id = service.solve("nec-metz-2023", CpSatSolver(), SolveProgramme(seed=1))
    service.execute(AcceptSchedule(schedule_id=schedule_id), edition_id="nec-metz-2023")
    return service


def test_a_smaller_room_sends_the_latest_back_to_the_waiting_list(tmp_path: Path) -> None:
    from creneau.scheduler import Room, UpdateRoom

    service = _metz_published(tmp_path)
    state = service.load("nec-metz-2023")
    placed = next(p for p in state.programme if p.session == "atelier-education")
    room = state.rooms[placed.room]
    people = [f"p{i:02d}" for i in range(32)]
    for who in people:
        service.execute(
            BookPlace(attendee=who, session_id="atelier-education"), edition_id="nec-metz-2023"
        )
    key = ("atelier-education", 1, None)
    confirmed, waiting = service.load("nec-metz-2023").places[key]
    assert (list(confirmed), list(waiting)) == (people[:30], people[30:])
    # The room loses ten chairs: the ten latest registered go back, at the head of the list.
    recorded = service.execute(
        UpdateRoom(room=Room(**{**_fields(room), "capacity": 20})), edition_id="nec-metz-2023"
    )
    bumped = [r for r in recorded if r.type == "place.bumped"]
    assert len(bumped) == 10
    confirmed, waiting = service.load("nec-metz-2023").places[key]
    assert (list(confirmed), list(waiting)) == (people[:20], people[20:])
    # The chairs come back: the first waiting are promoted again.
    service.execute(UpdateRoom(room=room), edition_id="nec-metz-2023")
    confirmed, waiting = service.load("nec-metz-2023").places[key]
    assert (list(confirmed), list(waiting)) == (people[:30], people[30:])


def test_demand_moves_a_popular_workshop_to_a_bigger_room(tmp_path: Path) -> None:
    from creneau.scheduler import AcceptSchedule, AddRoom, Room, SolveProgramme, derive_problem
    from creneau.solver import CpSatSolver

    service = _metz_published(tmp_path)
    service.execute(
        AddRoom(
            room=Room(id="grande-salle", name="Grande salle", capacity=60, features=("tables",))
        ),
        edition_id="nec-metz-2023",
    )
    for i in range(45):
        service.execute(
            BookPlace(attendee=f"d{i}", session_id="atelier-mediateurs"), edition_id="nec-metz-2023"
        )
    state = service.load("nec-metz-2023")
    confirmed, waiting = state.places[("atelier-mediateurs", 1, None)]
    assert (len(confirmed), len(waiting)) == (30, 15)
    assert derive_problem(state.snapshot()).session("atelier-mediateurs").need == 25
    _, schedule_id = service.solve("nec-metz-2023", CpSatSolver(), SolveProgramme(seed=1))
    service.execute(AcceptSchedule(schedule_id=schedule_id), edition_id="nec-metz-2023")
    state = service.load("nec-metz-2023")
    placed = next(p for p in state.programme if p.session == "atelier-mediateurs")
    assert placed.room == "grande-salle"
    # The bigger room offers more places: the waiting list moved up.
    confirmed, waiting = state.places[("atelier-mediateurs", 1, None)]
    assert (len(confirmed), len(waiting)) == (45, 0)


def _fields(room: object) -> dict[str, object]:
    return {f: getattr(room, f) for f in room.__struct_fields__}  # type: ignore[attr-defined]


SHEET = (
    "attendee;session;profile;occurrence\n"
    "ann;atelier-education;professionals;1\n"
    "bob;nope;;\n"
    "cid;atelier-education;children;\n"
    "dan;visite-bliiida;;x\n"
    "eve;visite-bliiida;;2\n"
    "ann;atelier-education;;\n"
)


def test_import_registrations_names_every_bad_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "metz.db")
    for argv in (["import", str(METZ)], ["solve"], ["accept"]):
        assert main([*argv, "--store", store]) == 0
    sheet = tmp_path / "inscriptions.csv"
    sheet.write_text(SHEET)
    expected = [
        '  line 3: unknown session "nope"',
        '  line 4: unknown audience "children"',
        '  line 5: the run "x" is not a number',
        '  line 7: ann already holds a place in "atelier-education"',
    ]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("metz")}
    capsys.readouterr()
    assert main(["--lang", "en", "import-registrations", "--store", store, str(sheet),
                 "--all-or-nothing"]) == 2  # fmt: skip
    assert capsys.readouterr().out.splitlines()[1:] == expected
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("metz")}
    assert after == before  # nothing recorded
    assert main(["--lang", "en", "import-registrations", "--store", store, str(sheet)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["2 rows recorded", "4 rows refused:"] and out[2:] == expected
    state = EditionService(SQLiteEventStore(store), actor="tester").load("nec-metz-2023")
    assert state.places[("atelier-education", 1, None)][0] == ("ann",)
    assert state.places[("visite-bliiida", 2, None)][0] == ("eve",)
    sheet.write_text("attendee,session\nzoe,atelier-education\nyan,visite-bliiida\n")
    assert main(["import-registrations", "--store", store, str(sheet), "--all-or-nothing"]) == 0
    assert capsys.readouterr().out.strip() == "2 lignes enregistrées"
