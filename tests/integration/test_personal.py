"""Personal data in an immutable log: sealed per data subject, erased by destroying a key
while the chain still verifies and the programme still replays."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest
import structlog
import structlog.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from creneau.events_store import MemoryEventStore, SQLiteEventStore
from creneau.scheduler import (
    BookPlace,
    Command,
    CreneauError,
    EditionService,
    EditionState,
    InvalidCommand,
    RecordRegistration,
    Registration,
    UpdatePerson,
    checkpoint,
    replay,
    verify_against,
)
from creneau.scheduler._personal import Personal
from tests.integration.cli_helpers import METZ, published, run
from tests.postgres import DSN
from tests.postgres import require as require_postgres
from tests.strategies import PERSON_IDS, commands, setup
from tests.tampering import tamper

ATTENDEES = ["a0", "a1", "a2", "a3"]
METZ_ID = "nec-metz-2023"
NAME = "Jacqueline Schneider"  # a speaker of the Metz example, id jacqueline-schneider
PERSON = "jacqueline-schneider"
ATTENDEE = "claire.dupuis@example.org"


def counts(state: EditionState) -> dict[Any, tuple[int, int]]:
    """How many are confirmed and waiting in each run: what an erasure must keep."""
    return {k: (len(c), len(w)) for k, (c, w) in state.places.items()}


def assert_nothing_of(state: EditionState, people: set[str], attendees: set[str]) -> None:
    """Nothing of the erased people and attendees is left, not even their ids: they are
    there under their placeholders, erased."""
    assert not people & set(state.people)
    named = {p for x in state.sessions.values() for p in (*x.speakers, *x.moderators)}
    assert not people & named
    assert all(p.erased and (p.name, p.organisation, p.gender) == ("", "", "undisclosed")
               for pid, p in state.people.items() if pid.startswith("erased-"))  # fmt: skip
    held = {*state.registrations, *state.holdings}
    held |= {a for c, w in state.places.values() for a in (*c, *w)}
    assert not held & attendees


Step = Command | tuple[str, str]
# Registrations that stand on their own (no session named): attendees to erase.
registered = st.builds(
    RecordRegistration,
    registration=st.builds(Registration, attendee=st.sampled_from(ATTENDEES),
                           profile=st.sampled_from(["professionals", "general_public"])),
)  # fmt: skip
steps = st.lists(
    st.one_of(
        commands,
        commands,
        commands,
        registered,
        st.tuples(st.just("person"), st.sampled_from(PERSON_IDS)),
        st.tuples(st.just("attendee"), st.sampled_from(ATTENDEES)),
    ),
    min_size=3,
    max_size=25,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps, sqlite=st.booleans())
def test_erasures_keep_the_chain_the_replay_and_the_places(
    plan: list[Step], sqlite: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store: Any = (SQLiteEventStore(tmp_path_factory.mktemp("erase") / "s.db") if sqlite
                  else MemoryEventStore())  # fmt: skip
    service = EditionService(store, actor="tester")
    kept = None
    people: set[str] = set()
    attendees: set[str] = set()
    for step in [*setup, *plan]:
        if isinstance(step, tuple):
            kind, entity = step
            before = service.load("ed")
            try:
                service.forget(kind, entity, actor="dpo")  # type: ignore[arg-type]
            except CreneauError as exc:  # nothing held about them: nothing written
                assert exc.code == "nothing_to_forget", exc
                assert service.load("ed").version == before.version
                continue
            (people if kind == "person" else attendees).add(entity)
            after = service.load("ed")
            assert counts(after) == counts(before)  # places kept, under placeholders
            assert after.programme == before.programme
        else:
            with contextlib.suppress(InvalidCommand):
                service.execute(step, edition_id="ed")
            # A person named again after their erasure is a new subject, with fields.
            people -= set(service.load("ed").people)
        assert store.verify() is None
        if kept is None and service.load("ed").version > len(setup) + 2:
            kept = checkpoint(store)
    live = service.load("ed")
    # Folded again from the log alone, with the keys the store still holds: the same
    # edition, the erased subjects' fields gone; and so for a service that never saw them.
    fresh = Personal(store)
    assert replay(fresh.open("ed", t, v, p, i) for _, t, v, p, i in
                  store.read_payloads("edition-ed")) == live  # fmt: skip
    assert EditionService(store, actor="tester").load("ed") == live
    # An attendee booking again after their erasure is a new subject: only the ones
    # erased since their last booking must be gone.
    attendees -= set(live.registrations) | set(live.holdings)
    assert_nothing_of(live, people, attendees)
    if kept is not None:
        assert verify_against(store, kept) == []  # nothing was rewritten
    store.close()


@pytest.fixture
def metz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The Metz edition published, a speaker with a distinctive name, an attendee with
    an e-mail as identifier holding a place."""
    db = published(capsys, tmp_path)
    code, _, err = run(capsys, "register", "--store", db, "--attendee", ATTENDEE,
                         "--session", "atelier-mediateurs", "--actor", "accueil")  # fmt: skip
    assert code == 0, err
    return {"db": db, "capsys": capsys}


def files_of(db: str) -> bytes:
    return b"".join(Path(p).read_bytes() for p in (db, f"{db}-wal") if Path(p).exists())


def test_forget_leaves_no_trace_in_the_file_and_the_programme_replays(
    metz: dict[str, Any], tmp_path: Path
) -> None:
    db, capsys = metz["db"], metz["capsys"]
    code, kept, _ = run(capsys, "checkpoint", "--store", db)
    assert code == 0
    store = SQLiteEventStore(db)
    service = EditionService(store, actor="dpo")
    service.views.catch_up()
    before = service.load(METZ_ID)
    store.close()
    # The events hold ciphertexts only; the views and snapshots hold copies in clear.
    with sqlite3.connect(db) as raw:
        blobs = b"".join(bytes(b) for (b,) in raw.execute("SELECT events FROM commits"))
    assert NAME.encode() not in blobs and ATTENDEE.encode() not in blobs
    assert PERSON.encode() not in blobs  # the id too: sessions name people by it
    assert NAME.encode() in files_of(db)
    # Asked first: without --yes nothing is erased, and what would be is named.
    code, out, _ = run(capsys, "forget", "--store", db, "--person", PERSON, "--lang", "en")
    assert code == 1 and "--yes" in out and METZ_ID in out
    assert NAME.encode() in files_of(db)
    for who in (["--person", PERSON], ["--attendee", ATTENDEE]):
        code, out, err = run(capsys, "forget", "--store", db, *who, "--yes", "--actor", "dpo",
                             "--lang", "en")  # fmt: skip
        assert code == 0 and "erased" in out, err
    data = files_of(db)
    assert NAME.encode() not in data and ATTENDEE.encode() not in data
    assert b"Schneider" not in data and PERSON.encode() not in data  # nor their id
    # Nothing rewritten: the chain verifies, and against the checkpoint taken before.
    assert run(capsys, "verify", "--store", db)[0] == 0
    assert run(capsys, "verify", "--store", db, "--against", kept)[0] == 0
    store = SQLiteEventStore(db)
    after = EditionService(store, actor="dpo").load(METZ_ID)
    assert after.programme == before.programme and counts(after) == counts(before)
    assert_nothing_of(after, {PERSON}, {ATTENDEE})
    store.close()
    # Readers say so, in the run's language.
    code, out, _ = run(capsys, "export", "--store", db, "--format", "csv", "--lang", "fr")
    assert code == 0 and "personne effacée" in out and "Schneider" not in out
    code, out, _ = run(capsys, "report", "--store", db, "--lang", "en")
    assert code == 0 and "erased" in out
    # Asked again: nothing left to erase, nothing left to give.
    code, _, err = run(capsys, "forget", "--store", db, "--person", PERSON, "--yes",
                       "--lang", "en")  # fmt: skip
    assert code != 0 and "nothing" in err
    code, _, err = run(capsys, "export-person", "--store", db, "--attendee", ATTENDEE,
                       "--lang", "en")  # fmt: skip
    assert code != 0 and "nothing" in err


def test_export_person_gives_everything_held_and_a_reimport_makes_a_new_subject(
    metz: dict[str, Any], tmp_path: Path
) -> None:
    db, capsys = metz["db"], metz["capsys"]
    code, out, err = run(capsys, "export-person", "--store", db, "--person", PERSON)
    assert code == 0, err
    held = json.loads(out)
    (edition,) = held["editions"]
    assert edition["now"]["person"]["name"] == NAME and edition["now"]["sessions"]
    assert any(e["type"] == "person.added" for e in edition["events"])
    assert any(e["type"] == "session.added" for e in edition["events"])
    code, out, _ = run(capsys, "export-person", "--store", db, "--attendee", ATTENDEE)
    places = json.loads(out)["editions"][0]["now"]["places"]
    assert places == [{"session": "atelier-mediateurs", "occurrence": 1, "rotation": None,
                       "confirmed": True}]  # fmt: skip
    first = edition["subjects"]
    assert run(capsys, "forget", "--store", db, "--person", PERSON, "--yes")[0] == 0
    assert run(capsys, "import", str(METZ), "--store", db)[0] == 0
    code, out, _ = run(capsys, "export-person", "--store", db, "--person", PERSON)
    again = json.loads(out)["editions"][0]
    assert again["now"]["person"]["name"] == NAME
    assert set(again["subjects"]).isdisjoint(first)
    assert run(capsys, "verify", "--store", db)[0] == 0


def test_a_lost_key_table_leaves_everyone_erased_and_the_store_whole(
    metz: dict[str, Any],
) -> None:
    db, capsys = metz["db"], metz["capsys"]
    store = SQLiteEventStore(db)
    before = EditionService(store, actor="x").load(METZ_ID)
    store.close()
    with sqlite3.connect(db) as raw:
        raw.execute("DELETE FROM subject_keys")
    raw.close()
    assert run(capsys, "verify", "--store", db)[0] == 0
    # The recovery story: the log replays, everyone erased; the views, which hold copies
    # in clear, are folded again from it (`creneau views rebuild`) and then say the same.
    store = SQLiteEventStore(db)
    replayed = replay(Personal(store).open(METZ_ID, t, v, p, i)
                      for _, t, v, p, i in store.read_payloads(f"edition-{METZ_ID}"))  # fmt: skip
    assert all(p.erased and not p.name for p in replayed.people.values())
    assert all(a.startswith("erased-") for a in replayed.registrations)
    assert replayed.programme == before.programme and counts(replayed) == counts(before)
    store.close()
    assert run(capsys, "views", "rebuild", "--store", db)[0] == 0
    store = SQLiteEventStore(db)
    assert EditionService(store, actor="x").load(METZ_ID) == replayed
    store.close()
    code, out, _ = run(capsys, "programme", "--store", db, "--lang", "fr")
    assert code == 0 and "Schneider" not in out


def test_a_ciphertext_copied_into_another_event_does_not_open_and_is_reported() -> None:
    store = MemoryEventStore()
    service = EditionService(store, actor="tester")
    for command in setup:
        service.execute(command, edition_id="ed")
    for who in ("alice.m", "bruno.k"):
        service.execute(RecordRegistration(registration=Registration(
            attendee=who, profile="professionals")), edition_id="ed")  # fmt: skip
    a0, a1 = list(store.read_stream("edition-ed"))[-2:]
    moved = json.loads(a1.payload)
    moved["$personal"] = json.loads(a0.payload)["$personal"]
    tamper(store, a1.position, json.dumps(moved).encode())
    personal = Personal(store)
    with structlog.testing.capture_logs() as logged:
        event = personal.open("ed", a1.type, a1.schema_version,
                              store._all[a1.position - 1].payload, a1.event_id)  # fmt: skip
    assert {x["event"] for x in logged} == {"personal_field_unreadable"}
    assert all("alice" not in str(x) for x in logged)  # the warning names no personal field
    assert event.registration.attendee.startswith("erased-")  # type: ignore[union-attr]
    assert {path for _, path in personal.unreadable} == {"registration.attendee",
                                                         "registration.profile"}  # fmt: skip
    with structlog.testing.capture_logs():
        state = EditionService(store, actor="tester").load("ed")  # reads on, does not crash
    assert "alice.m" in state.registrations and "bruno.k" not in state.registrations
    assert store.verify() is not None  # and the chain says the event was altered


def test_an_actor_is_an_account_name_never_an_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.db")
    code, _, err = run(capsys, "import", str(METZ), "--store", db, "--actor",
                       "jean.dupont@example.org", "--lang", "en")  # fmt: skip
    assert code != 0 and "e-mail" in err
    assert not Path(db).exists() or run(capsys, "show", "--store", db)[0] != 0


def test_the_log_shows_people_by_id_unless_asked(metz: dict[str, Any]) -> None:
    db, capsys = metz["db"], metz["capsys"]
    store = SQLiteEventStore(db)
    service = EditionService(store, actor="comite")
    person = service.load(METZ_ID).people[PERSON]
    service.execute(UpdatePerson(person=msgspec.structs.replace(
        person, organisation="Ville de Metz")), edition_id=METZ_ID)  # fmt: skip
    store.close()
    code, out, _ = run(capsys, "log", "--store", db, "--entity", PERSON, "--lang", "en")
    assert code == 0 and PERSON in out and "Ville de Metz" not in out and "organisation" in out
    code, out, _ = run(capsys, "log", "--store", db, "--entity", PERSON, "--names")
    assert code == 0 and "Ville de Metz" in out


@pytest.fixture
def pg() -> Iterator[Any]:
    require_postgres()
    from creneau.events_store.postgres import PostgresEventStore, new_schema_name

    store = PostgresEventStore(DSN, schema=new_schema_name())
    yield store
    store.drop()
    store.close()


def test_forget_on_postgres_leaves_the_name_in_no_table(pg: Any) -> None:
    from creneau.adapters.edition_document import load_edition
    from creneau.scheduler import ImportEdition

    service = EditionService(pg, actor="comite")
    service.execute(ImportEdition(snapshot=load_edition(METZ).snapshot))
    service.execute(BookPlace(attendee=ATTENDEE, session_id="atelier-mediateurs"),
                    edition_id=METZ_ID)  # fmt: skip
    service.views.catch_up()

    def everything() -> str:
        with psycopg.connect(DSN, autocommit=True) as conn:
            tables = [t for (t,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (pg.schema,))]  # fmt: skip
            text = []
            for table in tables:
                query = sql.SQL("SELECT t::text FROM {}.{} t").format(
                    sql.Identifier(pg.schema), sql.Identifier(table))  # fmt: skip
                text += [r[0] for r in conn.execute(query)]
        return "\n".join(text)

    def holds(text: str, needle: str) -> bool:  # bytea columns read as hexadecimal
        return needle in text or needle.encode().hex() in text

    assert holds(everything(), "Schneider")  # the views' copies, before
    before = service.load(METZ_ID)
    service.forget("person", PERSON)
    service.forget("attendee", ATTENDEE)
    found = everything()
    assert not holds(found, "Schneider") and not holds(found, ATTENDEE)
    assert not holds(found, PERSON)
    assert pg.verify() is None
    again = EditionService(pg, actor="x").load(METZ_ID)
    assert PERSON not in again.people and counts(again) == counts(before)
    assert any(p.erased for p in again.people.values())
    assert msgspec.json.encode(again.snapshot()).find(NAME.encode()) == -1


def test_the_logs_never_print_personal_fields(metz: dict[str, Any]) -> None:
    db, capsys = metz["db"], metz["capsys"]
    logged = ""
    for who, session in (("marc.l@example.org", "atelier-mediateurs"),
                         ("marc.l\x07@example.org", "nope")):  # fmt: skip
        logged += run(capsys, "--log-json", "register", "--attendee", who, "--session",
                      session, "--store", db, "--actor", "accueil")[2]  # fmt: skip
    logged += run(capsys, "--log-json", "cancel", "--attendee", ATTENDEE, "--session",
                  "atelier-mediateurs", "--store", db, "--actor", "accueil")[2]  # fmt: skip
    events = {json.loads(line)["event"] for line in logged.splitlines() if line.startswith("{")}
    assert {"command_executed", "command_refused"} <= events
    assert "marc.l" not in logged and ATTENDEE not in logged and "Schneider" not in logged


def test_another_process_holding_the_fields_lets_them_go_when_it_reads_on(
    metz: dict[str, Any],
) -> None:
    db = metz["db"]
    here, there = SQLiteEventStore(db), SQLiteEventStore(db)
    desk = EditionService(there, actor="accueil")  # another process, its state kept
    assert desk.load(METZ_ID).people[PERSON].name == NAME
    assert ATTENDEE in desk.load(METZ_ID).registrations
    EditionService(here, actor="dpo").forget("attendee", ATTENDEE)
    EditionService(here, actor="dpo").forget("person", PERSON)
    now = desk.load(METZ_ID)
    assert_nothing_of(now, {PERSON}, {ATTENDEE})
    desk.views.catch_up()
    assert all(ATTENDEE not in repr(x) and NAME not in repr(x) for x in desk.views.audit(METZ_ID))
    # The same attendee at the desk again: a new subject, their own fields again.
    desk.execute(BookPlace(attendee=ATTENDEE, session_id="atelier-mediateurs"),
                 edition_id=METZ_ID)  # fmt: skip
    assert ATTENDEE in EditionService(here, actor="x").load(METZ_ID).registrations
    assert len(desk.subjects_of("attendee", ATTENDEE)) == 1
    here.close()
    there.close()


def test_a_person_made_by_another_process_is_named_by_one_placeholder(
    metz: dict[str, Any],
) -> None:
    from creneau.scheduler import AddPerson, AddSession, Person

    db = metz["db"]
    stores = [SQLiteEventStore(db) for _ in range(3)]
    writer, other, reader = (EditionService(s, actor="comite") for s in stores)
    first = writer.load(METZ_ID)  # this process has read the edition's keys
    other.execute(AddPerson(person=Person(id="p-nouvelle", name="Nouvelle Venue")),
                  edition_id=METZ_ID)  # fmt: skip
    template = next(iter(first.sessions.values()))
    session = msgspec.structs.replace(template, id="s-nouvelle", speakers=("p-nouvelle",),
                                      moderators=(), after=(), fixed=None)  # fmt: skip
    writer.execute(AddSession(session=session), edition_id=METZ_ID)
    fresh = reader.load(METZ_ID)
    assert fresh.sessions["s-nouvelle"].speakers == ("p-nouvelle",)
    assert fresh.people["p-nouvelle"].name == "Nouvelle Venue"
    for s in stores:
        s.close()
