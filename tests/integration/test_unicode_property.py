"""Ids, names and titles of arbitrary Unicode through import, then log, show, programme
and verify: no control or invisible character reaches the output, every line of the log
is one event, and a refused value writes nothing (no store is even created)."""

from __future__ import annotations

import json
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from creneau.adapters.cli import main
from creneau.events_store import SQLiteEventStore

HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs"}


def visible(text: str) -> bool:
    return all(c == "\n" or unicodedata.category(c) not in HIDDEN for c in text)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


# Mostly plain words, so that many documents pass and reach every command; else anything.
plain_id = st.from_regex(r"[a-zé0-9-]{1,6}", fullmatch=True)
plain_text = st.from_regex(r"[A-Za-zé «»:]{0,10}", fullmatch=True)
ids = st.one_of(plain_id, plain_id, plain_id, plain_id, plain_id, st.text(max_size=6))
texts = st.one_of(plain_text, plain_text, plain_text, plain_text, plain_text,
                  st.text(max_size=10))  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(room=ids, person=ids, title=texts, name=texts, attendee=ids)
def test_no_control_character_reaches_the_output(
    room: str, person: str, title: str, name: str, attendee: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    doc = {
        "format": "creneau/edition@1", "id": "u",
        "days": [{"day": "2023-10-12", "open": "09:00", "close": "12:00"}],
        "rooms": [{"id": room, "name": name, "capacity": 10}],
        "people": [{"id": person, "name": name}],
        "sessions": [{"id": "s", "title": title, "duration": 60, "speakers": [person]}],
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "u.json"
        path.write_text(json.dumps(doc))
        store = str(folder / "s.db")
        code, text = run(capsys, "import", str(path), "--store", store)
        assert visible(text)
        event("refused" if code else "imported")
        if code != 0:
            assert code == 2 and sorted(p.name for p in folder.iterdir()) == ["u.json"]
            return
        for argv in (["solve"], ["accept"]):
            assert run(capsys, *argv, "--store", store)[0] == 0
        # "--attendee=…": an id may begin with "-", which argparse would read as an option.
        code, text = run(capsys, "register", "--store", store, f"--attendee={attendee}",
                         "--session", "s")  # fmt: skip
        assert visible(text)
        version = SQLiteEventStore(store).stream_version("edition-u")
        for argv in (["log"], ["show"], ["programme"], ["verify"], ["places"]):
            code, text = run(capsys, *argv, "--store", store)
            assert code == 0 and visible(text), (argv, text)
            if argv == ["log"]:
                assert len(text.splitlines()) == version + 1
