"""The printed programme and the run sheets as their readers meet them: PDF pages whose
text layer holds every session's title and time, PNG pages rendered by pdftoppm, one
programme per audience, sessions never cut by a page break, hostile titles escaped."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from creneau.adapters._i18n import words
from creneau.adapters.edition_document import load_edition
from creneau.adapters.programmes import programme_html, run_sheets_html
from creneau.events_store import MemoryEventStore
from creneau.scheduler import (
    AcceptSchedule,
    EditionService,
    EditionState,
    ImportEdition,
    SolveProgramme,
)
from creneau.solver import CpSatSolver
from tests.integration.cli_helpers import METZ, published, run

STAMP = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        if os.environ.get("CI"):  # .ci/run installs poppler-utils: missing there is a fault
            pytest.fail(f"{tool} is not installed")
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return found


def text_of(pdf: Path) -> str:
    out = subprocess.run([poppler("pdftotext"), str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return re.sub(r"\s+", " ", out.replace("\u00a0", " "))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def metz() -> EditionState:
    service = EditionService(MemoryEventStore(), actor="tester")
    snapshot = load_edition(METZ).snapshot
    service.execute(ImportEdition(snapshot=snapshot))
    _, schedule = service.solve(snapshot.id, CpSatSolver(), SolveProgramme(time_limit=10))
    service.execute(AcceptSchedule(schedule_id=schedule), edition_id=snapshot.id)
    return service.load(snapshot.id)


def test_the_public_programme_as_pdf_holds_every_session_and_renders_to_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = published(capsys, tmp_path)
    out = tmp_path / "programme.pdf"
    code, _, err = run(capsys, "export", "--store", db, "--format", "pdf", "--output", str(out))
    assert code == 0, err
    assert out.read_bytes().startswith(b"%PDF-")
    text = text_of(out)
    snapshot = load_edition(METZ).snapshot
    titles = {s.id: flat(s.title) for s in snapshot.sessions}
    _, shown, _ = run(capsys, "export", "--store", db, "--format", "json")
    programme = msgspec.json.decode(shown)["assignments"]
    for p in programme:
        assert titles[p["session"]] in text
        assert p["start"] in text
    assert "jeudi 12 octobre 2023" in text and "Pause méridienne" in text
    assert "6 places toutes les 15 minutes" in text  # a rotation, in words
    pages = tmp_path / "page"
    subprocess.run([poppler("pdftoppm"), "-r", "40", "-png", str(out), str(pages)], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_one_programme_per_audience_in_the_language_of_the_run(
    metz: EditionState,
) -> None:
    state = metz
    sessions = {s.id: s for s in state.snapshot().sessions}
    audiences = state.snapshot().audiences
    pro = [p for p in state.programme
           if "professionals" in (sessions[p.session].audiences or audiences)]  # fmt: skip
    page = programme_html(state, pro, words("en"), audience="professionals", generated=STAMP)
    assert "<title>Numérique en Commun[s] Metz 2023 — Programme for professionals</title>" in page
    assert 'lang="en"' in page and "Thursday, October 12, 2023" in page
    public_only = {sid for sid, s in sessions.items() if s.audiences == ("general_public",)}
    assert public_only
    for sid in public_only:
        assert f"/{sid}/" not in page  # no anchor of a general-public session
    for p in pro:
        assert f"/{p.session}/" in page


def boxes(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or ():
        yield from boxes(child)


def test_page_breaks_never_cut_a_session(metz: EditionState) -> None:
    import weasyprint

    state = metz
    fr = words("fr")
    for page in (programme_html(state, state.programme, fr, audience=None, generated=STAMP),
                 run_sheets_html(state, state.programme, fr, generated=STAMP)):  # fmt: skip
        document = weasyprint.HTML(string=page).render()
        assert len(document.pages) > 1
        seen: Counter[str] = Counter()
        for laid in document.pages:
            ids = {b.element.get("id") for b in boxes(laid._page_box)
                   if getattr(b, "element", None) is not None and b.element.get("id")}  # fmt: skip
            seen.update(ids)
        assert seen and max(seen.values()) == 1, [k for k, n in seen.items() if n > 1]


def test_run_sheets_door_signs_and_speakers_sheets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = published(capsys, tmp_path)
    out = tmp_path / "sheets.pdf"
    code, _, err = run(capsys, "export", "--store", db, "--format", "run-sheets",
                       "--output", str(out))  # fmt: skip
    assert code == 0, err
    text = text_of(out)
    # The discours' sheet as seed 001 has it: timing, room with seats and reserve chairs,
    # equipment, speakers with organisations, moderation, the session before.
    assert "Discours d'introduction et présentation du programme de la journée" in text
    assert "jeudi 12 octobre 2023, 09:00–09:45" in text
    assert "Wolking Ghost Hall — 200 places (100 en réserve)" in text
    assert "scène, pupitre, micro, écran" in text
    assert "Jacqueline Schneider (Adjointe au Maire de Metz" in text
    assert "08:30–09:00 · Accueil café" in text
    assert "Fiches des intervenants" in text
    snapshot = load_edition(METZ).snapshot
    on_stage = {x for s in snapshot.sessions for x in (*s.speakers, *s.moderators)}
    for person in snapshot.people:
        if person.id in on_stage:
            assert flat(person.name) in text
    for room in snapshot.rooms:
        assert room.name in text
    html_out = tmp_path / "sheets.html"
    assert run(capsys, "export", "--store", db, "--format", "run-sheets-html", "--lang", "en",
               "--output", str(html_out))[0] == 0  # fmt: skip
    page = html_out.read_text()
    assert "Set-up and equipment" in page and "Before, in this room" in page


def test_hostile_titles_are_escaped(metz: EditionState) -> None:
    state = metz
    first = state.programme[0].session
    hostile = "<script>alert(1)</script> & <b>co</b>"
    sessions = tuple(msgspec.structs.replace(s, title=hostile) if s.id == first else s
                     for s in state.snapshot().sessions)  # fmt: skip
    hacked = msgspec.structs.replace(state.snapshot(), sessions=sessions)
    service = EditionService(MemoryEventStore(), actor="tester")
    service.execute(ImportEdition(snapshot=hacked))
    from creneau.scheduler import RecordSchedule

    schedule = state.schedules[state.accepted or ""]
    version = service.load(hacked.id).version
    service.execute(RecordSchedule(schedule=msgspec.structs.replace(
        schedule, stream_version=version)), edition_id=hacked.id)  # fmt: skip
    service.execute(AcceptSchedule(), edition_id=hacked.id)
    again = service.load(hacked.id)
    fr = words("fr")
    for page in (programme_html(again, again.programme, fr, audience=None, generated=STAMP),
                 run_sheets_html(again, again.programme, fr, generated=STAMP)):  # fmt: skip
        assert "<script>" not in page and "&lt;script&gt;" in page
