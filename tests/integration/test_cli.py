"""The command line end to end, on a SQLite store."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from creneau.adapters.edition_document import load_edition, to_document
from creneau.events_store import SQLiteEventStore
from creneau.scheduler import EditionService
from tests.integration.cli_helpers import METZ, SUD_OUEST, run
from tests.tampering import tamper


@pytest.mark.parametrize("example", [METZ, SUD_OUEST], ids=lambda p: p.stem)
def test_examples_import_export_and_reimport_to_the_same_state(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    assert run(capsys, "import", str(example), "--store", str(first))[0] == 0
    exported = tmp_path / "exported.json"
    assert run(capsys, "export", "--store", str(first), "--output", str(exported))[0] == 0
    assert run(capsys, "import", str(exported), "--store", str(second))[0] == 0
    a, b = SQLiteEventStore(first), SQLiteEventStore(second)
    edition = load_edition(example).snapshot.id
    state_a, state_b = (
        EditionService(a, actor="tester").load(edition),
        EditionService(b, actor="tester").load(edition),
    )
    assert state_a.snapshot() == state_b.snapshot()
    # The export is the document with its defaults filled in, and a fixed point.
    written = json.loads(exported.read_bytes())
    assert written == to_document(state_a.snapshot())
    original = json.loads(json.dumps(tomllib.loads(example.read_text()), default=str))
    assert_contained(original, written)
    again = tmp_path / "again.json"
    assert run(capsys, "export", "--store", str(second), "--output", str(again))[0] == 0
    assert again.read_bytes() == exported.read_bytes()
    # Importing the same document twice records nothing the second time.
    code, out, _ = run(capsys, "import", str(example), "--store", str(first))
    assert code == 0 and "rien n'a été enregistré" in out
    a.close()
    b.close()


def assert_contained(original: object, exported: object, path: str = "") -> None:
    """Everything the original document says, the export says too (it may add defaults)."""
    if isinstance(original, dict):
        assert isinstance(exported, dict), path
        for key, value in original.items():
            assert key in exported, f"{path}.{key} missing from the export"
            assert_contained(value, exported[key], f"{path}.{key}")
    elif isinstance(original, list):
        assert isinstance(exported, list) and len(exported) == len(original), path
        for i, (a, b) in enumerate(zip(original, exported, strict=True)):
            assert_contained(a, b, f"{path}[{i}]")
    else:
        assert original == exported, f"{path}: {original!r} became {exported!r}"


def test_metz_example_holds_the_real_programme(tmp_path: Path) -> None:
    snap = load_edition(METZ).snapshot
    hall = next(r for r in snap.rooms if r.id == "wolking-ghost-hall")
    assert (hall.capacity, hall.reserve) == (200, 100)
    sessions = {s.id: s for s in snap.sessions}
    assert sessions["esport"].rotation is not None
    assert (sessions["esport"].rotation.every, sessions["esport"].rotation.places) == (15, 6)
    assert (sessions["visite-bliiida"].occurrences, sessions["visite-bliiida"].capacity) == (3, 20)
    genders = {p.id: p.gender for p in snap.people}
    assert genders["jacqueline-schneider"] == "woman"  # "Adjointe au Maire"
    assert genders["julia-herriot"] == "undisclosed"  # no title makes it plain


def test_log_records_actor_and_filters_by_entity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.db")
    run(capsys, "import", str(METZ), "--store", db, "--actor", "comite-metz")
    code, out, _ = run(capsys, "log", "--store", db, "--entity", "wolking-ghost-hall")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2  # header and the one event that touched the hall
    assert "comite-metz" in lines[1] and "salle ajoutée" in lines[1]
    assert "salle wolking-ghost-hall" in lines[1]
    code, out, _ = run(capsys, "log", "--store", db, "--lang", "en")
    assert out.count("\n") == 1 + SQLiteEventStore(db).stream_version("edition-nec-metz-2023")


def test_show_at_a_version_and_at_a_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.db")
    run(capsys, "import", str(METZ), "--store", db)
    moment = dt.datetime.now(dt.UTC)
    changed = tmp_path / "changed.json"
    doc = to_document(load_edition(METZ).snapshot)
    doc["rooms"][0]["capacity"] = 250
    changed.write_text(json.dumps(doc))
    code, out, _ = run(capsys, "import", str(changed), "--store", db, "--actor", "someone-else")
    assert code == 0 and "1 changement" in out  # the room update
    assert "modification de salle wolking-ghost-hall : places assises : 200 → 250" in out
    now = run(capsys, "show", "--store", db)[1]
    assert "250 places" in now
    version = SQLiteEventStore(db).stream_version("edition-nec-metz-2023") - 2
    before = run(capsys, "show", "--store", db, "--at", str(version))[1]
    assert "200 places" in before and "250 places" not in before
    then = run(capsys, "show", "--store", db, "--at", moment.isoformat())[1]
    assert then == before
    english = run(capsys, "show", "--store", db, "--lang", "en")[1]
    assert "Rooms (7):" in english and "250 seats" in english


def test_verify_names_the_event_changed_with_plain_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    run(capsys, "import", str(METZ), "--store", str(db))
    code, out, _ = run(capsys, "verify", "--store", str(db))
    assert code == 0 and out.startswith("OK")
    victim = next(e for e in SQLiteEventStore(db).read_all() if b"Wolking Ghost Hall" in e.payload)
    # Plain SQL on the file: find the bytes in the commit that holds the event, and turn
    # the hall's 200 seats into 201, one byte, leaving everything else as it was.
    needle = "CAST('\"capacity\":200' AS BLOB)"
    sql = (
        f"UPDATE commits SET events = CAST(substr(events, 1, instr(events, {needle}) + 12) "
        f"|| '1' || substr(events, instr(events, {needle}) + 14) AS BLOB) "
        f"WHERE first_position <= {victim.position} AND last_position >= {victim.position};"
    )
    if shutil.which("sqlite3"):
        subprocess.run(["sqlite3", str(db), sql], check=True)
    else:  # the same statement through Python's own SQLite library
        with sqlite3.connect(db) as raw:
            raw.execute(sql)
    assert (
        b'"capacity":201'
        in SQLiteEventStore(db).read_all(victim.position - 1, 1).__next__().payload
    )
    code, out, _ = run(capsys, "verify", "--store", str(db))
    assert code == 1
    assert f"position {victim.position}" in out and "nec-metz-2023" in out
    assert "modifié après son enregistrement" in out


def test_commands_on_a_missing_store_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "show", "--store", str(tmp_path / "nope.db"))
    assert code == 2 and "aucune base en" in err
    assert not (tmp_path / "nope.db").exists()


def test_several_editions_need_a_choice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    run(capsys, "import", str(METZ), "--store", db)
    run(capsys, "import", str(SUD_OUEST), "--store", db)
    code, _, err = run(capsys, "show", "--store", db)
    assert code == 2 and "nec-metz-2023" in err and "--edition" in err
    code, out, _ = run(capsys, "show", "--store", db, "--edition", "nec-sud-ouest-2023")
    assert code == 0 and "Grande scène" in out


def test_json_logs(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "creneau.adapters.cli",
            "--log-json",
            "import",
            str(METZ),
            "--store",
            str(tmp_path / "s.db"),
            "--actor",
            "ci",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["event"] == "command_executed" and record["actor"] == "ci"


def test_unreadable_event_gives_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    run(capsys, "import", str(METZ), "--store", str(db))
    store = SQLiteEventStore(db)
    tamper(store, 3, b"{broken")
    store.close()
    # The edition as it is comes from its snapshot; as it was, the events are read again.
    code, _, err = run(capsys, "show", "--store", str(db), "--at", "10")
    assert code == 1 and "est illisible" in err and "creneau verify" in err
    assert run(capsys, "verify", "--store", str(db))[0] == 1


def test_version_and_store_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run(capsys, "--version")
    assert done.value.code == 0 and capsys.readouterr().out.startswith("creneau 0.")
    with pytest.raises(SystemExit):
        run(capsys, "show", "--help", "--lang", "en")
    text = " ".join(capsys.readouterr().out.split())
    assert "a SQLite file, or a PostgreSQL address postgresql://user@host/db[?schema=NAME]" in text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_command_prints_its_help(capsys: pytest.CaptureFixture[str], lang: str) -> None:
    # The French words hold "100 %": argparse must print them, not read them as formats.
    with pytest.raises(SystemExit) as done:
        run(capsys, "--help", "--lang", lang)
    assert done.value.code == 0
    listing = capsys.readouterr().out
    commands = sorted(set(re.findall(r"^    ([a-z]+) ", listing, re.MULTILINE)))
    assert {"solve", "places", "programme", "views"} <= set(commands)
    for command in commands:
        with pytest.raises(SystemExit) as done:
            run(capsys, command, "--help", "--lang", lang)
        out = capsys.readouterr().out
        usage = {"fr": "usage : creneau ", "en": "usage: creneau "}[lang]
        assert done.value.code == 0 and out.startswith(usage + command), out[:80]
        assert "%%" not in out
