"""A change that breaks the published programme does not go unnoticed: every command that
shows the programme says which rules it breaks now, in the committee's words, and points
to the re-plan; the exported schedule document carries them."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.integration.cli_helpers import METZ, run


def test_a_room_shrunk_under_a_workshop_is_reported_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "metz.db")
    for argv in (["import", str(METZ)], ["solve", "--seed", "1"], ["accept"]):
        assert run(capsys, *argv, "--store", store)[0] == 0
    programme = json.loads(run(capsys, "export", "--store", store, "--format", "json")[1])
    assert programme["violations"] == []
    workshop = next(a for a in programme["assignments"] if a["session"] == "atelier-education")
    doc = json.loads(json.dumps(tomllib.loads(METZ.read_text()), default=str))
    room = next(r for r in doc["rooms"] if r["id"] == workshop["room"])
    room["capacity"] = 20
    path = tmp_path / "shrunk.json"
    path.write_text(json.dumps(doc))
    assert run(capsys, "import", str(path), "--store", store)[0] == 0

    for command in ("programme", "show", "report"):
        code, out, _ = run(capsys, command, "--store", store)
        assert code == 0
        assert "Le programme publié ne tient plus" in out, command
        assert "« Atelier « Numérique et Éducation » »" in out and "demande 25 places" in out
        assert f"`creneau solve --store {store}` le replanifie" in out
    english = run(capsys, "programme", "--store", store, "--lang", "en")[1]
    assert "The published programme no longer holds: it breaks" in english
    assert "needs 25 seats; the room has 20 + 0 in reserve" in english
    code, out, err = run(capsys, "export", "--store", store, "--format", "json")
    assert code == 0 and "ne tient plus" in err
    exported = json.loads(out)
    assert [v["rule"] for v in exported["violations"]] == ["room_fit"]
    assert "demande 25 places" in exported["violations"][0]["message"]
    # The re-plan the message points to puts it right.
    assert run(capsys, "solve", "--store", store, "--seed", "1")[0] == 0
    assert run(capsys, "accept", "--store", store)[0] == 0
    assert "ne tient plus" not in run(capsys, "programme", "--store", store)[1]
