"""Re-planning, differences and reports from the command line, on the Metz edition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli_helpers import METZ, run


def published(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, dict]:  # type: ignore[type-arg]
    """A store with the Metz programme solved and published, and the programme."""
    store = str(tmp_path / "metz.db")
    run(capsys, "import", str(METZ), "--store", store)
    run(capsys, "solve", "--store", store, "--seed", "1")
    run(capsys, "accept", "--store", store)
    programme = json.loads(run(capsys, "export", "--store", store, "--format", "json")[1])
    return store, programme


def small_edition(unavailable: list[dict[str, str]] | None = None) -> dict:  # type: ignore[type-arg]
    """Four talks of an hour, a speaker each, two rooms, one morning."""
    people = [{"id": x, "name": x.capitalize(), "gender": "woman"}
              for x in ("ana", "bea", "cleo", "dora")]  # fmt: skip
    if unavailable:
        people[1]["unavailable"] = unavailable  # type: ignore[assignment]
    return {
        "format": "creneau/edition@1", "id": "matinee", "name": "Matinée",
        "days": [{"day": "2023-10-12", "open": "09:00", "close": "12:00"}],
        "rooms": [{"id": "r1", "name": "Salle 1", "capacity": 50},
                  {"id": "r2", "name": "Salle 2", "capacity": 50}],
        "people": people,
        "sessions": [{"id": f"talk-{x}", "title": f"Talk {x.capitalize()}", "duration": 60,
                      "speakers": [x]} for x in ("ana", "bea", "cleo", "dora")],
    }  # fmt: skip


def test_a_speaker_cancels_the_replan_moves_only_their_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "matinee.db")
    path = tmp_path / "matinee.json"
    path.write_text(json.dumps(small_edition()))
    run(capsys, "import", str(path), "--store", store)
    run(capsys, "solve", "--store", store, "--seed", "1")
    run(capsys, "accept", "--store", store)
    programme = json.loads(run(capsys, "export", "--store", store, "--format", "json")[1])
    bea = next(a for a in programme["assignments"] if a["session"] == "talk-bea")
    # Bea can no longer come at the time of her talk.
    gone = [{"day": bea["day"], "start": bea["start"], "end": bea["end"]}]
    path.write_text(json.dumps(small_edition(unavailable=gone)))
    assert run(capsys, "import", str(path), "--store", store)[0] == 0

    code, out, err = run(capsys, "solve", "--store", store, "--seed", "1", "--lang", "en")
    assert code == 0 and "recorded as schedule-2" in out, (out, err)
    assert "1 of 4 placements changed from the previous schedule" in out
    code, out, _ = run(capsys, "diff", "--store", store, "schedule-1", "schedule-2", "--lang", "en")
    assert code == 0
    [line] = [x for x in out.splitlines() if x.startswith("  - ")]
    assert line.startswith(f"  - « Talk Bea »: moved from Thursday, October 12 {bea['start']}")
    # The published programme against the new schedule says the same, in French too.
    same = run(capsys, "diff", "--store", store, "programme", "schedule-2", "--lang", "en")[1]
    assert same.splitlines()[1:] == out.splitlines()[1:]
    french = run(capsys, "diff", "--store", store, "schedule-1", "schedule-2")[1]
    assert "« Talk Bea » : déplacée de jeudi 12 octobre" in french


def test_diff_names_an_unknown_schedule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, _ = published(tmp_path, capsys)
    code, _, err = run(capsys, "diff", "--store", store, "schedule-1", "schedule-9")
    assert code != 0 and "aucun planning « schedule-9 »" in err and "schedule-1" in err
    assert run(capsys, "diff", "--store", store, "schedule-1", "programme")[1].startswith(
        "Aucun changement"
    )


def test_report_prints_the_figures_and_writes_a_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, programme = published(tmp_path, capsys)
    page = tmp_path / "rapport.html"
    code, out, _ = run(capsys, "report", "--store", store, "--html", str(page))
    assert code == 0
    assert "Part des femmes sur tout le programme" in out
    # The Metz committee penalises all-male panels rather than forbidding them; the
    # report names the one the 2023 programme had.
    assert "Panels 100 % masculins : 1" in out and "PC Solidaire" in out
    metrics = programme.get("metrics") or {}
    english = run(capsys, "report", "--store", store, "--lang", "en")[1]
    assert "Share of women on the whole programme" in english
    assert "Attendee conflicts" in english
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and "<h2>Parité</h2>" in text
    assert "<h2>Grille horaire</h2>" in text and "Timetable" not in text
    # One block per run in the timetable, its times shown (not on hover only), its whole
    # title, its format and audiences in words, never their ids.
    assert text.count('class="session"') == len(programme["assignments"])
    for p in programme["assignments"]:
        assert f'<span class="when">{p["start"]}–{p["end"]}</span>' in text
    assert "atelier · professionnels" in text and "general_public" not in text
    assert "Visite guidée" in text and "pauses</p>" in text  # a legend for every colour
    assert isinstance(metrics, dict)


def test_sessions_sharing_a_hall_are_drawn_side_by_side() -> None:
    import re

    from creneau.adapters._i18n import words
    from creneau.adapters._report import html_report
    from creneau.scheduler import Placement, Room
    from tests.solver_editions import edition, session

    hall = Room(id="hall", name="Hall", capacity=100, concurrent=2)
    ed = edition(sessions=[session("a", title="Stand A"), session("b", title="Stand B")],
                 rooms=[hall])  # fmt: skip
    day = ed.days[0].day
    runs = [Placement(session=x, room="hall", day=day, start="10:00", end="11:00") for x in "ab"]
    page = html_report(ed, runs, words("en"), "test")
    columns = re.findall(r'class="session" style="grid-row:[^;]*;grid-column:(\d+);', page)
    assert sorted(columns) == ["2", "3"]  # two lanes, not one block over the other
    assert 'grid-column:2 / span 2">Hall</div>' in page


def test_one_shot_solve_with_previous_reports_the_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "first.json"
    assert run(capsys, "solve", str(METZ), "--output", str(first), "--seed", "1")[0] == 0
    document = json.loads(first.read_text())
    assert document["metrics"]["all_male_panels"] == 1  # PC Solidaire (parity is soft here)
    assert "women_share" in document["metrics"]
    again = tmp_path / "again.json"
    code, out, _ = run(capsys, "solve", str(METZ), "--previous", str(first), "--output",
                       str(again), "--seed", "1", "--lang", "en")  # fmt: skip
    assert code == 0 and "0 of 21 placements changed from the previous schedule" in out
    keep = {(a["session"], a["occurrence"]): (a["day"], a["start"], a["room"])
            for a in document["assignments"]}  # fmt: skip
    redo = json.loads(again.read_text())["assignments"]
    assert {(a["session"], a["occurrence"]): (a["day"], a["start"], a["room"])
            for a in redo} == keep  # fmt: skip
