"""Keeps the catalogue in step with the source: ``python -m creneau.adapters.locale.catalogue``
extracts every message id the adapters mark (``w._``, ``w.say``, ``w.n_``, ``w.nsay``,
``N_``), merges them into the French and English catalogues, and compiles them;
``--check`` only says what is out of step (the test suite runs it)."""

from __future__ import annotations

import argparse
import datetime
import gettext
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).parent
SOURCE = HERE.parent  # adapters/
DOMAIN = "creneau"
LANGUAGES = ("fr", "en")
# The Python source, and the page templates (Jinja2's own extractor, through Babel).
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "say": None, "refusal": None, "N_": None, "n_": (1, 2), "nsay": (1, 2)}


def template() -> Catalog:
    """Every message id of the source."""
    catalog = Catalog(domain=DOMAIN, project="Créneau", charset="utf-8")
    found: Iterator[tuple[str, int, Any, list[str], object]] = extract_from_dir(
        str(SOURCE), method_map=METHODS, keywords=KEYWORDS, comment_tags=()
    )
    for _filename, _lineno, message, _comments, _context in found:
        if message and not (isinstance(message, tuple) and not all(message)):
            catalog.add(message)
    return catalog


def po_path(lang: str) -> Path:
    return HERE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


# gettext's plural rules (CLDR's French has a third form, for millions, that msgfmt and
# most tools do not expect).
PLURALS = {"fr": (2, "(n > 1)"), "en": (2, "(n != 1)")}
# Fixed, so that the files change only when their messages do.
STAMP = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def merged(lang: str, source: Catalog) -> Catalog:
    path = po_path(lang)
    if path.exists():
        with path.open("rb") as f:
            catalog = read_po(f, locale=lang, domain=DOMAIN)
    else:
        catalog = Catalog(locale=lang, domain=DOMAIN, charset="utf-8")
    catalog.update(source, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.project, catalog.version = "Créneau", "1"
    catalog.copyright_holder = "the Créneau authors"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "the Créneau authors"
    catalog.language_team = lang
    catalog.creation_date = catalog.revision_date = STAMP
    catalog.fuzzy = False
    catalog._num_plurals, catalog._plural_expr = PLURALS[lang]  # type: ignore[assignment]
    catalog.header_comment = (
        f"# The words of Créneau, {'in French' if lang == 'fr' else 'in English'}.\n"
        "# Kept in step with the source by `python -m creneau.adapters.locale.catalogue`."
    )
    if lang == "en":  # the message ids are English: the English catalogue says them back
        for message in catalog:
            if message.id and not any(message.string if isinstance(message.string, tuple)
                                      else [message.string]):  # fmt: skip
                message.string = message.id
    return catalog


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, sort_output=True, omit_header=False, no_location=True, width=0)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _messages(catalog: Catalog) -> dict[object, object]:
    return {m.id: m.string for m in catalog if m.id}


def _compiled(data: bytes) -> dict[object, object]:
    """The messages a compiled catalogue holds (its header aside)."""
    table: dict[object, object] = gettext.GNUTranslations(io.BytesIO(data))._catalog  # type: ignore[attr-defined]
    return {k: v for k, v in table.items() if k}


def problems() -> list[str]:
    """What is out of step: messages without a translation, catalogues not merged or not
    compiled. (Compared by their messages, not their bytes: the tool's own version
    stamp may differ.)"""
    source = template()
    found = []
    for lang in LANGUAGES:
        catalog = merged(lang, source)
        path = po_path(lang)
        if not path.exists():
            found.append(f"{path} is missing: run the catalogue tool")
            continue
        with path.open("rb") as f:
            on_disk = read_po(f, locale=lang, domain=DOMAIN)
        if _messages(on_disk) != _messages(catalog):
            found.append(f"{path} is not merged with the source: run the catalogue tool")
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings) or message.fuzzy:
                found.append(f"{lang}: no translation for {message.id!r}")
        mo = path.with_suffix(".mo")
        if not mo.exists() or _compiled(mo.read_bytes()) != _compiled(mo_bytes(catalog)):
            found.append(f"{mo} is not compiled from {path.name}: run the catalogue tool")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="say what is out of step; change nothing"
    )
    args = parser.parse_args()
    if args.check:
        found = problems()
        for line in found:
            print(line)
        return 1 if found else 0
    source = template()
    for lang in LANGUAGES:
        catalog = merged(lang, source)
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(po_bytes(catalog))
        path.with_suffix(".mo").write_bytes(mo_bytes(catalog))
        missing = sum(1 for m in catalog if m.id and not all(
            m.string if isinstance(m.string, tuple) else (m.string,)))  # fmt: skip
        print(f"{lang}: {len(catalog)} messages, {missing} without a translation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
