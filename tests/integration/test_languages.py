"""One language per run: the same commands in French and in English, and no word of the
other language in either (data aside: the titles and names the committee wrote). The
language comes from --lang anywhere on the line, else CRENEAU_LANG, else LANG; French
when nothing says English."""

from __future__ import annotations

import getpass
import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from creneau.adapters._i18n import choose_language
from tests.integration.cli_helpers import METZ, run

ROOT = Path(__file__).resolve().parents[2]
WORD = re.compile(r"[A-Za-zÀ-ÿ]{4,}")


def catalogue_words() -> tuple[set[str], set[str]]:
    """Words only the English messages use, and words only the French ones use."""
    path = ROOT / "adapters" / "locale" / "fr" / "LC_MESSAGES" / "creneau.po"
    with path.open("rb") as f:
        catalogue = read_po(f, locale="fr")
    english: set[str] = set()
    french: set[str] = set()

    def words(text: str) -> set[str]:
        return {w.lower() for w in WORD.findall(re.sub(r"\{[^}]*\}|%\([^)]*\)[sr]", "", text))}

    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in ids:
            english |= words(text)
        for text in strings:
            french |= words(text)
    return english - french, french - english


def data_words() -> set[str]:
    """Every word of the example's own text (titles, names, ids): data, in any language."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.update(w.lower() for w in WORD.findall(value))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(tomllib.loads(METZ.read_text()))
    return found


# Words both languages share or that are names of the tool and its options.
NEUTRAL = {"creneau", "créneau", "store", "lang", "prune", "edition", "version", "programme",
           "schedule", "json", "toml", "postgresql", "sqlite", "session", "sessions", "options",
           "rotation", "format", "description", "minutes", "stream", "accept", "solve", "places",
           "place", "total", "import", "export", "report", "none", "true", "false", "table",
           "parity", "workshop", "masterclass", "pitch", "social", "visite", "discovery",
           "conclusion", "animation", "pause", "public", "date", "position", "titre", "license",
           "optimal", "micro", "tables", "verify", "check", "usage", "demonstration", "show",
           "help", "register", "cancel", "diff", "move", "checkpoint"}  # fmt: skip


def outputs(store: str, capsys: pytest.CaptureFixture[str], lang: str, tmp: Path) -> str:
    texts = []
    for argv in (
        ["show"], ["programme"], ["places"], ["log"], ["report"],
        ["diff", "schedule-1", "programme"], ["verify"], ["checkpoint"],
        ["register", "--attendee", f"x-{lang}", "--session", "atelier-education"],
        ["register", "--attendee", f"y-{lang}", "--session", "atelier-education",
         "--profile", "general_public"],
        ["move", "atelier-education", "--start", "14:30"],
        ["show", "--help"], ["places", "--help"],
    ):  # fmt: skip
        try:
            _, out, err = run(capsys, *argv, "--store", store, "--lang", lang)
        except SystemExit:
            out, err = capsys.readouterr()
        texts.append(out + err)
    _, out, err = run(capsys, "solve", str(METZ), "--output", str(tmp / f"{lang}.json"),
                      "--lang", lang)  # fmt: skip
    texts.append(out + err)
    _, out, err = run(capsys, "check", str(METZ), str(tmp / f"{lang}.json"), "--lang", lang)
    texts.append(out + err)
    return "\n".join(texts)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_each_run_speaks_one_language(
    lang: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "metz.db")
    for argv in (["import", str(METZ)], ["solve", "--seed", "1"], ["accept"]):
        assert run(capsys, *argv, "--store", store)[0] == 0
    text = outputs(store, capsys, lang, tmp_path)
    only_english, only_french = catalogue_words()
    other = only_english if lang == "fr" else only_french
    # Option names (--open-reserve) are the command's own vocabulary, in no language.
    spoken = {w.lower() for w in WORD.findall(re.sub(r"--[a-z-]+", "", text))}
    # The actor recorded is the OS user's name ("root" here): data too.
    strays = (spoken & other) - data_words() - NEUTRAL - {getpass.getuser().lower()}
    where = {w: re.search(rf".{{0,40}}\b{w}\b.{{0,20}}", text, re.I | re.S) for w in strays}
    assert strays == set(), "\n".join(f"{w}: {m.group(0) if m else ''!r}" for w, m in where.items())
    assert ("salles" in spoken) == (lang == "fr") and ("rooms" in spoken) == (lang == "en")


def test_the_language_is_chosen_once_for_the_run() -> None:
    assert choose_language(["show", "--lang", "en"], {}) == "en"
    assert choose_language(["--lang=en", "show"], {"CRENEAU_LANG": "fr"}) == "en"
    assert choose_language(["show"], {"CRENEAU_LANG": "en", "LANG": "fr_FR.UTF-8"}) == "en"
    assert choose_language(["show"], {"LANG": "en_GB.UTF-8"}) == "en"
    assert choose_language(["show"], {"LANG": "C.UTF-8"}) == "fr"
    assert choose_language(["show"], {}) == "fr"
    assert choose_language(["import", "--", "--lang"], {"LANG": "en_US.UTF-8"}) == "en"


def test_argparse_speaks_the_language_of_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(capsys, "show")
    err = capsys.readouterr().err
    assert "usage : creneau show" in err and "ces arguments sont obligatoires : --store" in err
    with pytest.raises(SystemExit):
        run(capsys, "show", "--lang", "en")
    err = capsys.readouterr().err
    assert "usage: creneau show" in err and "the following arguments are required" in err


def test_soft_parity_is_not_shown_as_forbidden(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "metz.db")
    run(capsys, "import", str(METZ), "--store", store)  # Metz: parity sought, not forced
    out = run(capsys, "show", "--store", store)[1]
    assert "panels 100 % masculins évités, pénalisés" in out and "interdits" not in out
    assert "professionnels" in out and "professionals" not in out
    assert "regards croisés" in out and "crossed_views" not in out
