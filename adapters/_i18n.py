"""The words of a run: one gettext catalogue, French by default and English, and Babel
for dates and numbers.

Every user-facing sentence is an English message id in the source, marked ``w._(…)``
(or ``w.n_(…)`` with a plural, ``N_(…)`` in a table), translated through the catalogue
in ``adapters/locale`` (``make catalogue`` extracts, merges and compiles it). A run
chooses its language once: ``--lang``, else ``CRENEAU_LANG``, else ``LANG``; French when
none says English.

Values put into a sentence are data, not text to trust: ``say`` makes them safe for a
terminal (a control character in an id must not forge a line of the audit log).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gettext
import os
import zoneinfo
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "LANGUAGES",
    "N_",
    "Words",
    "choose_language",
    "for_terminal",
    "words",
]

LANGUAGES = ("fr", "en")
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "creneau"

# Spaces typography puts in French text (Babel does, in numbers and percentages).
_SPACES = frozenset("\u00a0\u202f")


def N_(message: str) -> str:
    """Marks a message id for the catalogue where it is not translated yet (tables)."""
    return message


def choose_language(argv: Sequence[str], environ: dict[str, str] | None = None) -> str:
    """The language of a run: ``--lang X`` anywhere on the command line, else
    ``CRENEAU_LANG``, else ``LANG``; French unless one of them says English."""
    env = os.environ if environ is None else environ
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    for name in ("CRENEAU_LANG", "LANG"):
        value = env.get(name, "")
        if value:
            code = value.split(".")[0].split("_")[0].lower()
            return code if code in LANGUAGES else "fr"
    return "fr"


def for_terminal(value: object) -> str:
    """``value`` as text that cannot move the cursor, hide or reorder what follows, or
    start a line: every control, format or separator character (but plain spaces) is
    written as its escape."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() or c in _SPACES else c.encode("unicode_escape").decode("ascii")
        for c in text
    )


class Words:
    """The catalogue of one language, and the formats of its dates and numbers."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        self.lang = lang
        try:
            self._t: gettext.NullTranslations = gettext.translation(
                DOMAIN, LOCALE_DIR, languages=[lang]
            )
        except OSError:  # a catalogue not compiled yet: the message ids themselves
            self._t = gettext.NullTranslations()

    # -- sentences -------------------------------------------------------------------

    def _(self, message: str, /, **values: Any) -> str:
        """The translated sentence, its values put in as they are (for files and pages)."""
        text = self._t.gettext(message)
        return text.format(**values) if values else text

    def n_(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **values)

    def say(self, message: str, /, **values: Any) -> str:
        """The translated sentence for a terminal: every value made safe."""
        return self._(message, **{k: for_terminal(v) for k, v in values.items()})

    def nsay(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        return self.n_(singular, plural, n, **{k: for_terminal(v) for k, v in values.items()})

    def colon(self) -> str:
        """What follows a label: « : » in French, « : » in English."""
        return self._(": ")

    # -- dates and numbers -----------------------------------------------------------

    def date(self, day: dt.date | str) -> str:
        """A day in words: « jeudi 12 octobre 2023 », "Thursday, October 12, 2023"."""
        from babel.dates import format_date

        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        return format_date(day, "full", locale=self.lang)

    def short_date(self, day: dt.date | str) -> str:
        from babel.dates import format_date

        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        return format_date(day, "EEEE d MMMM" if self.lang == "fr" else "EEEE, MMMM d",
                           locale=self.lang)  # fmt: skip

    def moment(self, moment: dt.datetime, timezone: str | None) -> str:
        """An instant in the edition's time zone, to the second."""
        from babel.dates import format_datetime

        zone = None
        if timezone:
            try:
                zone = zoneinfo.ZoneInfo(timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None
        local = moment.astimezone(zone) if zone else moment
        return format_datetime(local, "medium", locale=self.lang)

    def number(self, value: int | float) -> str:
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.lang)

    def percent(self, value: float | None) -> str:
        if value is None:
            return "—"
        from babel.numbers import format_percent

        return format_percent(value, locale=self.lang)

    def listing(self, items: Sequence[str]) -> str:
        """« a, b et c »."""
        from babel.lists import format_list

        return format_list(list(items), locale=self.lang) if items else ""

    # -- argparse ------------------------------------------------------------------------

    def install_in_argparse(self) -> None:
        """Have argparse's own sentences (usage, errors, help headings) come from the
        catalogue (``adapters/_argparse_words.py`` lists them): argparse looks its words
        up through module-level gettext functions."""
        argparse._ = self._t.gettext  # type: ignore[attr-defined]
        argparse.ngettext = self._t.ngettext  # type: ignore[attr-defined]

    def refusal(self, message: str, /, **values: Any) -> argparse.ArgumentTypeError:
        """An option's value refused, in words (argparse puts the option before it)."""
        return argparse.ArgumentTypeError(self.say(message, **values))


@functools.cache
def words(lang: str) -> Words:
    return Words(lang)
