"""The words of every run come from one catalogue, French and English: every message the
source marks is in both, translated, and the compiled catalogues say what the sources say."""

from __future__ import annotations

from creneau.adapters._i18n import words
from creneau.adapters.locale import catalogue


def test_every_message_has_both_languages_and_is_compiled() -> None:
    assert catalogue.problems() == []


def test_the_catalogue_changes_the_words() -> None:
    assert words("fr")._('unknown person "{id}"', id="p-9") == "personne inconnue « p-9 »"
    assert words("en")._('unknown person "{id}"', id="p-9") == 'unknown person "p-9"'
    assert words("fr").n_("{n} run", "{n} runs", 2) == "2 séances"
    assert words("fr").n_("{n} run", "{n} runs", 1) == "1 séance"
