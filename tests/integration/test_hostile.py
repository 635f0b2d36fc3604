"""Hostile and clumsy input, at the command line: forged audit lines, ids that break
checkpoints, someone else's database, a store from a newer Créneau, keys given twice,
documents nested too deep, absurd options, a full disk, read-only media, damaged files,
spreadsheets that are not quite CSV — each answered with a clear error line, nothing
stored lost, no traceback."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from creneau.events_store import SQLiteEventStore
from creneau.events_store.postgres import MIGRATIONS, PostgresEventStore, new_schema_name
from creneau.scheduler import Metadata, NewEvent, Room, encode_event
from creneau.scheduler._events import RoomAdded
from tests.integration.cli_helpers import METZ, run
from tests.postgres import DSN
from tests.postgres import require as require_postgres

CONTROLS = ("\x1b", "\r", "\u202e", "\u200b", "\x00")


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# -- forged lines -------------------------------------------------------------------------


def test_an_attendee_id_cannot_forge_a_line_of_the_log(
    metz: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = run(capsys, "log", "--store", metz)[1]
    forged = "mallory\n      99  1 janv. 2026, 00:00:00     comite     programme publié"
    code, _, err = run(capsys, "register", "--store", metz, "--attendee", forged, "--session",
                       "atelier-education", "--lang", "en")  # fmt: skip
    assert code == 2 and "the attendee id" in err and "invisible character" in err
    assert run(capsys, "log", "--store", metz)[1] == before


def test_an_edition_id_with_control_characters_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in ("ed\rition", "ed\x1b[K", "ed\x1b[8mition", "ed\u202eition", "ed ition"):
        doc = {"format": "creneau/edition@1", "id": bad,
               "days": [{"day": "2023-10-12", "open": "09:00", "close": "12:00"}]}  # fmt: skip
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(doc))
        code, _, err = run(capsys, "import", str(path), "--store", str(tmp_path / "s.db"))
        assert code == 2 and "id" in err and not (tmp_path / "s.db").exists()
        assert not any(c in err for c in CONTROLS[:4])


def write_raw(store: SQLiteEventStore, stream: str, *events: RoomAdded) -> None:
    """Events as an older Créneau may have stored them, past today's checks."""
    meta = Metadata(actor="old\x1b[8mversion", recorded_at="2023-10-12T08:00:00.000000Z",
                    correlation_id=str(uuid.uuid4()))  # fmt: skip
    version = store.stream_version(stream)
    store.append(stream, [NewEvent(event_id=uuid.uuid4(), type="room.added", schema_version=1,
                                   payload=encode_event(e), metadata=meta) for e in events],
                 version)  # fmt: skip


def test_values_stored_by_older_versions_are_escaped_on_the_terminal(
    metz: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SQLiteEventStore(metz)
    write_raw(
        store,
        "edition-nec-metz-2023",
        RoomAdded(room=Room(id="evil\x1b[2J", name="Salle\r\n     99  forged", capacity=9)),
    )
    store.close()
    for argv in (["log"], ["show"], ["programme"], ["places"], ["verify"], ["report"]):
        code, out, err = run(capsys, *argv, "--store", metz)
        assert code == 0, (argv, err)
        for c in ("\x1b", "\r"):
            assert c not in out and c not in err, argv
        assert "forged" not in out or "\\n" in out, argv
    log = run(capsys, "log", "--store", metz, "--entity", "evil\x1b[2J")[1]
    assert "evil\\x1b[2J" in log and "old\\x1b[8m" in log


# -- checkpoints --------------------------------------------------------------------------


def test_checkpoints_hold_ids_with_spaces_and_newlines_and_their_digest_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.db"
    store = SQLiteEventStore(path)
    for stream in ("edition-a b", "edition-c\nd", "edition-e%20f"):
        write_raw(store, stream, RoomAdded(room=Room(id="r", capacity=1)))
    store.close()
    code, text, _ = run(capsys, "checkpoint", "--store", str(path))
    assert code == 0 and "edition-a%20b" in text and "edition-c%0Ad" in text
    (tmp_path / "kept.txt").write_text(text)
    assert (
        run(capsys, "verify", "--store", str(path), "--against", str(tmp_path / "kept.txt"))[0] == 0
    )
    digest = text.split()[1]
    code, out, _ = run(capsys, "verify", "--store", str(path), "--against", digest)
    assert code == 0 and digest in out
    # History after the checkpoint does not spoil it; history rewritten before it does.
    store = SQLiteEventStore(path)
    write_raw(store, "edition-a b", RoomAdded(room=Room(id="r2", capacity=1)))
    store.close()
    assert run(capsys, "verify", "--store", str(path), "--against", digest)[0] == 0
    assert run(capsys, "verify", "--store", str(path), "--against", "0123456789abcdef")[0] == 1


# -- someone else's database --------------------------------------------------------------


@pytest.mark.parametrize(
    "setup",
    [
        "CREATE TABLE notes (body TEXT); PRAGMA user_version = 7;",
        "CREATE TABLE commits (sha TEXT PRIMARY KEY, message TEXT);",
        "PRAGMA application_id = 1234;",
    ],
    ids=["another application", "another commits table", "another application id"],
)
def test_someone_elses_database_is_refused_and_left_as_it_was(
    setup: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as db:
        db.executescript(setup)
    kept = other.read_bytes()
    for argv in (["import", str(METZ)], ["show"], ["verify"]):
        code, _, err = run(capsys, *argv, "--store", str(other), "--lang", "en")
        assert code != 0 and "is not a Créneau store" in err and "Traceback" not in err
    assert other.read_bytes() == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_a_postgres_schema_from_a_newer_version_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    require_postgres()
    schema = new_schema_name()
    store = PostgresEventStore(DSN, schema=schema)
    store.close()
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("INSERT INTO {}.migrations (version) VALUES (99)").format(
            sql.Identifier(schema)))  # fmt: skip
    address = f"{DSN}?schema={schema}"
    try:
        for argv in (["store", "migrate"], ["show"]):
            code, _, err = run(capsys, *argv, "--store", address, "--lang", "en")
            known = f"up to version {len(MIGRATIONS)}"
            assert code != 0 and "schema version 99" in err and known in err, err
    finally:
        PostgresEventStore(DSN, schema=schema, migrate=False).drop()


def test_a_bad_schema_name_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    require_postgres()
    code, _, err = run(capsys, "show", "--store", f"{DSN}?schema=Bad-Name", "--lang", "en")
    assert code != 0 and 'the schema name "Bad-Name"' in err and "Traceback" not in err


# -- documents ----------------------------------------------------------------------------


def test_a_key_given_twice_in_json_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "twice.json"
    path.write_text('{"format": "creneau/edition@1", "id": "x", "id": "y", "days": [{"day": '
                    '"2023-10-12", "open": "09:00", "close": "12:00", '
                    '"close": "13:00"}]}')  # fmt: skip
    code, _, err = run(capsys, "import", str(path), "--store", str(tmp_path / "s.db"),
                       "--lang", "en")  # fmt: skip
    assert code == 2 and 'id: the key "id" is given twice' in err
    assert 'days[0].close: the key "close" is given twice' in err
    code, _, err = run(capsys, "check", str(path), str(path), "--lang", "en")
    assert code == 2 and "is given twice" in err


def test_a_document_nested_too_deeply_is_refused_by_import_and_solve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "deep.toml"
    toml.write_text('format = "creneau/edition@1"\nid = "x"\nv = ' + "[" * 5000 + "]" * 5000 + "\n")
    deep = tmp_path / "deep.json"
    deep.write_text('{"format": "creneau/edition@1", "id": "x", "v": ' + "[" * 100_000
                    + "]" * 100_000 + "}")  # fmt: skip
    for path in (toml, deep):
        code, _, err = run(capsys, "import", str(path), "--store", str(tmp_path / "s.db"))
        assert code == 2 and "Traceback" not in err, err
        code, _, err = run(capsys, "solve", str(path), "--output", str(tmp_path / "o.json"))
        assert code == 2 and "Traceback" not in err
    assert not (tmp_path / "s.db").exists()


def test_a_byte_order_mark_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + METZ.read_bytes())
    assert run(capsys, "import", str(path), "--store", str(tmp_path / "s.db"))[0] == 0
    sheet = tmp_path / "bom.csv"
    sheet.write_bytes(b"\xef\xbb\xbfattendee,session\nzoe,atelier-education\n")
    assert (
        run(capsys, "import-registrations", "--store", str(tmp_path / "s.db"), str(sheet))[0] == 0
    )


def test_a_refused_document_leaves_no_store_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = {"format": "creneau/edition@1", "id": "x",
           "days": [{"day": "2023-10-12", "open": "09:00", "close": "12:00"}],
           "sessions": [{"id": "s", "duration": 30, "speakers": ["nobody"]}]}  # fmt: skip
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    assert run(capsys, "import", str(path), "--store", str(tmp_path / "s.db"))[0] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


# -- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [("--workers", "-1"), ("--workers", "100000"), ("--workers", "x"), ("--time-limit", "0"),
     ("--time-limit", "-5"), ("--time-limit", "nan"), ("--time-limit", "inf")],
    ids=lambda o: " ".join(o),
)  # fmt: skip
def test_absurd_solve_options_are_refused_plainly(
    option: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        run(capsys, "solve", str(METZ), "--output", str(tmp_path / "o.json"), *option,
            "--lang", "en")  # fmt: skip
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and f"argument {option[0]}" in err and option[1] in err
    assert "Traceback" not in err and not (tmp_path / "o.json").exists()


def test_a_run_written_in_other_digits_is_refused_plainly(
    metz: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        run(capsys, "register", "--store", metz, "--attendee", "a", "--session",
            "visite-bliiida", "--occurrence", "²")  # fmt: skip
    assert "n'est pas un numéro de séance" in capsys.readouterr().err
    sheet = tmp_path / "s.csv"
    sheet.write_text("attendee,session,occurrence\na,visite-bliiida,²\nb,visite-bliiida,2\n")
    code, out, _ = run(capsys, "import-registrations", "--store", metz, str(sheet), "--lang", "en")
    assert code == 2 and 'line 2: the run "²" is not a number' in out and "1 row recorded" in out


# -- spreadsheets -------------------------------------------------------------------------


def test_spreadsheets_that_are_not_quite_csv(
    metz: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one_column = tmp_path / "one.csv"
    one_column.write_text("attendee\nann\n")
    code, _, err = run(capsys, "import-registrations", "--store", metz, str(one_column),
                       "--lang", "en")  # fmt: skip
    assert code == 2 and "the columns are attendee, session" in err and "Traceback" not in err
    quotes = tmp_path / "quotes.csv"
    quotes.write_text('attendee,session\n"ann,atelier-education\nbob,atelier-education\n')
    code, out, _ = run(capsys, "import-registrations", "--store", metz, str(quotes), "--lang", "en")
    assert code == 2
    assert "line 2: a quote is opened and not closed" in out and "1 row recorded" in out


# -- the store's medium -------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_named_and_nothing_stored_is_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.validation_bench import big_edition

    with tmpfs(tmp_path / "small", "400k") as disk:
        store = str(disk / "s.db")
        assert run(capsys, "import", str(METZ), "--store", store)[0] == 0
        big = tmp_path / "big.json"
        doc = big_edition(3000)
        doc["id"] = "nec-metz-2023-bis"
        big.write_text(json.dumps(doc))
        code, _, err = run(capsys, "import", str(big), "--store", store, "--lang", "en")
        assert code == 1 and "is full; nothing was written" in err, err
        assert "no transaction is active" not in err
        code, out, _ = run(capsys, "verify", "--store", store, "--lang", "en")
        assert code == 0 and "57 events in 1 streams" in out


def test_a_store_on_read_only_media_can_be_read_and_verified(
    metz: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tmpfs(tmp_path / "usb", "20m") as medium:
        store = str(medium / "metz.db")
        Path(store).write_bytes(Path(metz).read_bytes())
        subprocess.run(["mount", "-o", "remount,ro", str(medium)], check=True)
        for argv in (["verify"], ["show"], ["programme"], ["log"], ["places"], ["checkpoint"]):
            code, _, err = run(capsys, *argv, "--store", store)
            assert code == 0, (argv, err)
        code, _, err = run(capsys, "register", "--store", store, "--attendee", "a", "--session",
                           "atelier-education", "--lang", "en")  # fmt: skip
        assert code != 0 and "read-only" in err and "Traceback" not in err


# -- damage -------------------------------------------------------------------------------


def test_a_zeroed_page_or_an_undecodable_blob_is_reported_by_verify(
    metz: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blob = tmp_path / "blob.db"
    blob.write_bytes(Path(metz).read_bytes())
    with contextlib.closing(sqlite3.connect(blob)) as db:
        first = db.execute("SELECT first_position FROM commits ORDER BY first_position DESC "
                           "LIMIT 1").fetchone()[0]  # fmt: skip
        db.execute("UPDATE commits SET events = X'C1C1C1' WHERE first_position = ?", (first,))
        db.commit()
    code, out, _ = run(capsys, "verify", "--store", str(blob), "--lang", "en")
    assert code == 1 and f"(position {first})" in out and "cannot give it back" in out
    zeroed = tmp_path / "zeroed.db"
    data = bytearray(Path(metz).read_bytes())
    page = 4096
    data[2 * page : 3 * page] = bytes(page)  # a page of the file, wiped
    zeroed.write_bytes(bytes(data))
    code, out, err = run(capsys, "verify", "--store", str(zeroed), "--lang", "en")
    assert code == 1 and "Traceback" not in err
    assert "BROKEN" in out or "damaged" in err


# -- permissions --------------------------------------------------------------------------


def test_stores_and_exports_are_readable_by_their_owner_only(
    metz: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = {
        "edition.json": ["export", "--store", metz, "--output", str(tmp_path / "edition.json")],
        "programme.json": ["export", "--store", metz, "--format", "json", "--output",
                           str(tmp_path / "programme.json")],
        "rapport.html": ["report", "--store", metz, "--html", str(tmp_path / "rapport.html")],
        "schedule.json": ["solve", str(METZ), "--output", str(tmp_path / "schedule.json")],
    }  # fmt: skip
    for name, argv in outputs.items():
        assert run(capsys, *argv)[0] == 0
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600, name
    for name in ("metz.db", "metz.db-wal", "metz.db-shm"):
        if (tmp_path / name).exists():
            assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600, name
