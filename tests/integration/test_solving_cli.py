"""Solving from the command line: the one-shot contract and the stateful form."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from creneau.adapters._i18n import words
from creneau.adapters._solving import ProgressLine
from creneau.scheduler import Progress
from tests.integration.cli_helpers import METZ, run


def test_one_shot_solve_writes_a_valid_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "schedule.json"
    code, out, _ = run(capsys, "solve", str(METZ), "--output", str(out_file), "--lang", "en")
    assert code == 0 and out.startswith("optimal")
    document = json.loads(out_file.read_text())
    assert document["format"] == "creneau/schedule@1"
    assert document["edition"] == "nec-metz-2023" and document["status"] == "optimal"
    assert {"session", "occurrence", "room", "day", "start", "end", "moderators"} <= set(
        document["assignments"][0]
    )
    code, out, _ = run(capsys, "check", str(METZ), str(out_file))
    assert code == 0 and out.startswith("valide : 21 placements")


def test_same_seed_and_workers_give_the_same_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.json"
        run(capsys, "solve", str(METZ), "--output", str(path), "--workers", "1", "--seed", "7")
        outputs.append(json.loads(path.read_text())["assignments"])
    assert outputs[0] == outputs[1]


def test_check_names_every_broken_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "schedule.json"
    run(capsys, "solve", str(METZ), "--output", str(path))
    document = json.loads(path.read_text())
    opening = next(a for a in document["assignments"] if a["session"] == "discours-introduction")
    opening["start"], opening["end"] = "09:30", "10:15"
    path.write_text(json.dumps(document))
    code, out, _ = run(capsys, "check", str(METZ), str(path))
    assert code == 1
    assert "[fixed]" in out and "[room_overlap]" in out and "[exclusive]" in out


def test_invalid_document_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "creneau/edition@1", "id": "x", "days": []}))
    code, _, err = run(capsys, "solve", str(bad), "--output", str(tmp_path / "s.json"))
    assert code == 2 and "days : une édition a besoin d'au moins un jour" in err
    assert not (tmp_path / "s.json").exists()


def test_infeasible_exits_3_naming_the_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = {
        "format": "creneau/edition@1", "id": "x",
        "days": [{"day": "2023-06-06", "open": "14:00", "close": "17:30"}],
        "rooms": [{"id": "espace-1", "name": "Espace 1", "capacity": 30, "features": ["tables"]},
                  {"id": "espace-2", "name": "Espace 2", "capacity": 30, "features": ["tables"]}],
        "sessions": [
            {"id": "parentalite", "title": "Atelier Parentalité", "duration": 90,
             "requires": ["tables"], "attendance": 40},
        ],
    }  # fmt: skip
    path = tmp_path / "x.json"
    path.write_text(json.dumps(doc))
    out_file = tmp_path / "s.json"
    code, _, err = run(capsys, "solve", str(path), "--output", str(out_file), "--lang", "en")
    assert code == 3
    assert "« Atelier Parentalité » needs tables and 40 seats: no room has all of it" in err
    assert json.loads(out_file.read_text())["status"] == "infeasible"


def test_nothing_found_in_time_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Two hundred sessions over sixty rooms: a hundredth of a second does not reach a
    # first schedule (the model alone holds twelve thousand room choices).
    doc = {
        "format": "creneau/edition@1", "id": "x",
        "days": [{"day": "2023-06-06", "open": "09:00", "close": "13:00"}],
        "rooms": [{"id": f"r{i}", "capacity": 30} for i in range(60)],
        "sessions": [{"id": f"s{i}", "duration": 60} for i in range(200)],
    }  # fmt: skip
    path = tmp_path / "x.json"
    path.write_text(json.dumps(doc))
    out_file = tmp_path / "s.json"
    code, _, err = run(
        capsys, "solve", str(path), "--output", str(out_file), "--time-limit", "0.01"
    )
    assert code == 4 and "aucun planning trouvé en 0.01 s" in err
    assert json.loads(out_file.read_text())["status"] == "unknown"


def test_stateful_solve_accept_move_and_programme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "metz.db")
    run(capsys, "import", str(METZ), "--store", store)
    code, out, _ = run(capsys, "solve", "--store", store, "--actor", "comite")
    assert code == 0 and "enregistré sous schedule-1" in out
    code, out, _ = run(capsys, "accept", "--store", store)
    assert code == 0 and "schedule-1 publié" in out
    code, out, _ = run(capsys, "programme", "--store", store)
    assert code == 0 and "jeudi 12 octobre 2023" in out and "Wolking Ghost Hall" in out
    assert "08:30–09:00  Accueil café" in out
    assert "14:00–14:45  Activité découverte « Instagram » (1/2)" in out  # as the seed says
    english = run(capsys, "programme", "--store", store, "--lang", "en")[1]
    assert "Thursday, October 12, 2023" in english
    # A move that breaks a rule is refused, naming it, and nothing is written.
    code, _, err = run(capsys, "move", "--store", store, "atelier-education", "--start", "14:30",
                       "--lang", "en")  # fmt: skip
    assert code == 2 and "windows" in err and "nothing was recorded" in err
    # The pinned opening cannot move either.
    code, _, err = run(
        capsys, "move", "--store", store, "discours-introduction", "--start", "09:05"
    )
    assert code == 2 and "« fixée par le comité »" in err
    # A move that keeps every rule is recorded, and the programme shows it: World of
    # Legend into the hall (it has the screen; the solver keeps it out of so large a room).
    programme = json.loads(run(capsys, "export", "--store", store, "--format", "json")[1])
    legend = next(a for a in programme["assignments"] if a["session"] == "world-of-legend")
    assert legend["room"] != "wolking-ghost-hall"
    code, out, _ = run(
        capsys, "move", "--store", store, "world-of-legend", "--room", "wolking-ghost-hall"
    )
    assert code == 0 and out.startswith("déplacée")
    programme = json.loads(run(capsys, "export", "--store", store, "--format", "json")[1])
    moved = next(a for a in programme["assignments"] if a["session"] == "world-of-legend")
    assert (moved["room"], moved["start"]) == ("wolking-ghost-hall", legend["start"])
    code, out, _ = run(capsys, "log", "--store", store, "--entity", "schedule-1")
    assert "planning proposé" in out and "programme publié" in out and "comite" in out


def test_accept_refuses_a_schedule_the_edition_has_outgrown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "metz.db")
    run(capsys, "import", str(METZ), "--store", store)
    run(capsys, "solve", "--store", store)
    exported = tmp_path / "metz.json"
    run(capsys, "export", "--store", store, "--output", str(exported))
    doc = json.loads(exported.read_text())
    hall = next(r for r in doc["rooms"] if r["id"] == "wolking-ghost-hall")
    hall["features"] = ["lectern"]  # the stage is gone
    exported.write_text(json.dumps(doc))
    run(capsys, "import", str(exported), "--store", store)
    code, _, err = run(capsys, "accept", "--store", store, "--lang", "en")
    assert code == 2 and "no longer fits the edition" in err and "stage" in err
    assert "the room lacks microphone, screen, and stage" in err and "Wolking Ghost Hall" in err


def test_progress_line_text() -> None:
    line = ProgressLine(io.StringIO(), words("fr"))
    assert line.format(2.5, None) == "résolution… 2,5 s"
    text = line.format(3.0, Progress(3.0, 120.0, 118.0))
    assert "meilleur 120" in text and "borne 118" in text and "écart 2\xa0%" in text
    english = ProgressLine(io.StringIO(), words("en")).format(3.0, Progress(3.0, 120.0, 118.0))
    assert english == "solving… 3 s · best 120 · bound 118 · gap 2%"
