"""Importing the committee's document again changes what it describes and nothing else:
registrations, places, hand moves and the published programme recorded through other
commands stay; what the document no longer names is listed, and goes only with --prune;
--dry-run says what would change and writes nothing; every import says what it changed."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from creneau.events_store import SQLiteEventStore
from creneau.scheduler import EditionService
from tests.integration.cli_helpers import METZ, run


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name.startswith("metz")}


@pytest.fixture
def published(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    store = str(tmp_path / "metz.db")
    for argv in (["import", str(METZ)], ["solve", "--seed", "1"], ["accept"]):
        assert run(capsys, *argv, "--store", store)[0] == 0
    assert run(capsys, "register", "--store", store, "--attendee", "ana", "--session",
               "atelier-education")[0] == 0  # fmt: skip
    assert run(capsys, "register", "--store", store, "--attendee", "bob", "--session",
               "esport", "--rotation", "14:00")[0] == 0  # fmt: skip
    sheet = tmp_path / "inscriptions.csv"
    sheet.write_text("attendee,session,occurrence\ncid,visite-bliiida,3\n")
    assert run(capsys, "import-registrations", "--store", store, str(sheet))[0] == 0
    return store


def metz_document(tmp_path: Path, change: str = "") -> Path:
    doc = json.loads(json.dumps(tomllib.loads(METZ.read_text()), default=str))
    if change == "capacity":
        next(r for r in doc["rooms"] if r["id"] == "wolking-ghost-hall")["capacity"] = 250
    if change == "no-tours":
        doc["sessions"] = [s for s in doc["sessions"] if s["id"] != "visite-bliiida"]
    path = tmp_path / f"metz-{change or 'same'}.json"
    path.write_text(json.dumps(doc))
    return path


def test_reimport_keeps_registrations_places_and_the_programme(
    published: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = published
    before = EditionService(SQLiteEventStore(store), actor="tester").load("nec-metz-2023")
    code, out, _ = run(capsys, "import", str(metz_document(tmp_path, "capacity")), "--store", store,
                       "--lang", "en")  # fmt: skip
    assert code == 0
    assert 'Imported "nec-metz-2023": 1 change' in out
    assert "changed room wolking-ghost-hall: seats: 200 → 250" in out
    # The attendees registered through other commands are not in the document: kept, named.
    assert "Kept, though the document does not name them" in out
    assert "3 registrations: ana, bob, cid" in out
    after = EditionService(SQLiteEventStore(store), actor="tester").load("nec-metz-2023")
    assert dict(after.places) == dict(before.places)
    assert after.registrations == before.registrations
    assert after.programme == before.programme and after.accepted == before.accepted
    log = run(capsys, "log", "--store", store, "--lang", "en")[1]
    assert "registration removed" not in log and "place given back" not in log


def test_dry_run_says_what_would_change_and_writes_nothing(
    published: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = metz_document(tmp_path, "capacity")
    kept = files(tmp_path)
    code, out, _ = run(capsys, "import", str(document), "--store", published, "--dry-run",
                       "--lang", "en")  # fmt: skip
    assert code == 0
    assert 'Importing metz-capacity.json would record 1 change in "nec-metz-2023":' in out
    assert "changed room wolking-ghost-hall: seats: 200 → 250" in out
    assert "(dry run: nothing was recorded)" in out
    assert files(tmp_path) == kept
    # A dry run on a store that does not exist yet creates none.
    new = tmp_path / "new.db"
    code, out, _ = run(capsys, "import", str(METZ), "--store", str(new), "--dry-run")
    assert code == 0 and "enregistrerait" in out and not new.exists()


def test_a_session_left_out_of_the_document_stays_unless_pruned(
    published: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, document = published, metz_document(tmp_path, "no-tours")
    code, out, _ = run(capsys, "import", str(document), "--store", store, "--lang", "en")
    assert code == 0 and "1 session: visite-bliiida" in out and "--prune removes them" in out
    assert (
        "visite-bliiida"
        in EditionService(SQLiteEventStore(store), actor="tester").load("nec-metz-2023").sessions
    )
    # --prune removes what the document does not name, the registrations made through
    # other commands included, and says so, their places too.
    code, out, _ = run(capsys, "import", str(document), "--store", store, "--prune", "--lang", "en")
    assert code == 0
    assert "removed 1 session: visite-bliiida" in out
    assert "removed 3 registrations: ana, bob, cid" in out
    assert "places given back: ana (atelier-education), bob (esport), cid (visite-bliiida)" in out
    state = EditionService(SQLiteEventStore(store), actor="tester").load("nec-metz-2023")
    assert "visite-bliiida" not in state.sessions
    assert not any(key[0] == "visite-bliiida" for key in state.places if state.places[key][0])


def test_an_import_that_would_cancel_places_is_refused_without_prune(
    published: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(metz_document(tmp_path).read_text())
    tours = next(s for s in doc["sessions"] if s["id"] == "visite-bliiida")
    tours["occurrences"], tours["windows"] = 1, tours["windows"][:1]  # cid holds run 3 of 3
    path = tmp_path / "fewer-tours.json"
    path.write_text(json.dumps(doc))
    kept = files(tmp_path)
    code, _, err = run(capsys, "import", str(path), "--store", published, "--lang", "en")
    assert code == 2
    assert 'the import would cancel the place of "cid"' in err and "--prune" in err
    assert files(tmp_path) == kept
