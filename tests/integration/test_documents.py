"""Edition documents: every bad document is refused with its path named, and changes nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from creneau.adapters.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

BASE: dict[str, Any] = {
    "format": "creneau/edition@1",
    "id": "mini",
    "name": "Mini édition",
    "days": [
        {
            "day": "2023-10-12",
            "open": "08:30",
            "close": "17:00",
            "breaks": [{"start": "12:00", "end": "14:00", "label": "Déjeuner"}],
        }
    ],
    "rooms": [
        {"id": "hall", "capacity": 200, "reserve": 100, "features": ["stage"]},
        {"id": "salle-1", "capacity": 30},
    ],
    "people": [
        {
            "id": "p-1",
            "name": "Jacqueline",
            "gender": "woman",
            "available": [{"day": "2023-10-12", "start": "09:00", "end": "12:00"}],
        },
        {"id": "p-2", "name": "Louis"},
    ],
    "sessions": [
        {"id": "ouverture", "format": "plenary", "duration": 45, "speakers": ["p-1"]},
        {
            "id": "atelier",
            "duration": 90,
            "speakers": ["p-2", "p-1"],
            "after": [{"session": "ouverture", "min_gap": 15}],
        },
    ],
}


def mutate(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    change(doc)
    return doc


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return change


BAD_DOCUMENTS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown top-level field", mutate(_set("colour", "blue")), 'unknown field "colour"'),
    (
        "unknown nested field",
        mutate(_set("sessions.1.speaker", ["p-1"])),
        'sessions[1]: unknown field "speaker"',
    ),
    (
        "dangling speaker",
        mutate(_set("sessions.1.speakers.1", "p-999")),
        'sessions[1].speakers[1]: unknown person "p-999"',
    ),
    ("bad time", mutate(_set("days.0.open", "8h30")), 'days[0].open: "8h30" is not a time of day'),
    (
        "bad date",
        mutate(_set("days.0.day", "2023-02-30")),
        "days[0].day: not a date written YYYY-MM-DD",
    ),
    (
        "empty window",
        mutate(_set("people.0.available.0.end", "09:00")),
        "people[0].available[0]: empty window: 09:00 is not before 09:00",
    ),
    (
        "overlapping windows",
        mutate(
            _set(
                "people.0.available",
                [
                    {"day": "2023-10-12", "start": "09:00", "end": "11:00"},
                    {"day": "2023-10-12", "start": "10:30", "end": "12:00"},
                ],
            )
        ),
        "people[0].available[1]: 10:30–12:00 overlaps 09:00–11:00",
    ),
    (
        "window on a day the edition does not have",
        mutate(_set("people.0.available.0.day", "2023-10-13")),
        "people[0].available[0].day: 2023-10-13 is not a day of the edition",
    ),
    (
        "negative capacity",
        mutate(_set("rooms.1.capacity", -5)),
        "rooms[1].capacity: -5 is below the lowest allowed value, 0",
    ),
    ("duplicate id", mutate(_set("rooms.1.id", "hall")), 'rooms[1].id: duplicate room id "hall"'),
    (
        "after cycle",
        mutate(_set("sessions.0.after", [{"session": "atelier"}])),
        "precedence cycle: « ouverture » → « atelier » → « ouverture »",
    ),
    (
        "wrong format",
        mutate(_set("format", "creneau/edition@9")),
        'format: "creneau/edition@9" is not a format this Créneau reads',
    ),
    (
        "missing duration",
        mutate(lambda d: d["sessions"][0].pop("duration")),
        'sessions[0]: missing required field "duration"',
    ),
    (
        "wrong type",
        mutate(_set("rooms.0.capacity", "lots")),
        "rooms[0].capacity: expected a whole number, got text",
    ),
    (
        "unknown audience",
        mutate(_set("sessions.0.audiences", ["children"])),
        'sessions[0].audiences[0]: unknown audience "children"',
    ),
    (
        "break outside open hours",
        mutate(_set("days.0.breaks.0.end", "18:00")),
        "days[0].breaks[0]: the break 12:00–18:00 is outside the open hours 08:30–17:00",
    ),
    (
        "fixed start off the grid",
        mutate(_set("sessions.0.fixed", {"start": "09:03"})),
        "sessions[0].fixed.start: 09:03 is not on the 5-minute grid",
    ),
    (
        "unknown gender",
        mutate(_set("people.1.gender", "robot")),
        "people[1].gender: not a valid value: robot",
    ),
    (
        "unknown weight",
        mutate(_set("policies", {"weights": {"reserve_seat": 3}})),
        'policies.weights.reserve_seat: unknown weight "reserve_seat"',
    ),
]


def snapshot_dir(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    db = store_dir / "creneau.db"
    assert main(["import", str(EXAMPLES / "nec-metz-2023.toml"), "--store", str(db)]) == 0
    return db


@pytest.mark.parametrize(
    ("case", "doc", "message"), BAD_DOCUMENTS, ids=[c[0] for c in BAD_DOCUMENTS]
)
def test_bad_document_is_refused_and_changes_nothing(
    case: str,
    doc: dict[str, Any],
    message: str,
    store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    before = snapshot_dir(store.parent)
    capsys.readouterr()
    assert main(["--lang", "en", "import", str(path), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "nothing was recorded" in err
    assert snapshot_dir(store.parent) == before


def test_the_base_document_itself_is_accepted(store: Path, tmp_path: Path) -> None:
    path = tmp_path / "good.json"
    path.write_text(json.dumps(BASE))
    assert main(["import", str(path), "--store", str(store)]) == 0


def test_all_problems_are_reported_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = mutate(_set("rooms.1.capacity", -1))
    doc["sessions"][1]["speakers"] = ["p-404"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    assert main(["--lang", "en", "import", str(path), "--store", str(tmp_path / "s.db")]) == 2
    err = capsys.readouterr().err
    assert "rooms[1].capacity" in err and 'sessions[1].speakers[0]: unknown person "p-404"' in err


def test_a_refused_first_document_creates_no_store(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{ not json")
    assert main(["import", str(path), "--store", str(tmp_path / "s.db")]) == 2
    assert not (tmp_path / "s.db").exists()


def test_malformed_toml_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('format = "creneau/edition@1"\nid = \n')
    assert main(["--lang", "en", "import", str(path), "--store", str(tmp_path / "s.db")]) == 2
    assert "not valid TOML" in capsys.readouterr().err
