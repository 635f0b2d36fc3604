"""The edition document (``creneau/edition@1``), in JSON or TOML: read, check, write.

Reading turns any defect into ``InvalidCommand`` problems whose paths name the
offending value the way the format does (``sessions[12].speakers[1]``); the snapshot
read has every default the format gives resolved (``EditionSnapshot``). Writing gives
the document back with every static default filled in.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from creneau.scheduler import EditionSnapshot, InvalidCommand, Placement, Problem

__all__ = [
    "EDITION_FORMAT",
    "EditionDocument",
    "LoadedDocument",
    "decode_raw",
    "document_bytes",
    "load_edition",
    "parse_edition",
    "to_document",
]

EDITION_FORMAT = "creneau/edition@1"
_BOM = b"\xef\xbb\xbf"


class EditionDocument(EditionSnapshot, frozen=True, kw_only=True, forbid_unknown_fields=True):
    format: str


class LoadedDocument(msgspec.Struct, frozen=True, kw_only=True):
    snapshot: EditionSnapshot
    # The runs a feed (frab XML, c3voc or pretalx JSON) gives: its programme as found.
    placements: tuple[Placement, ...] | None = None
    sha256: str
    source: str


def _refuse(where: str, code: str, **params: Any) -> InvalidCommand:
    return InvalidCommand([Problem(where, code, params)])


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _problem_of(error: msgspec.ValidationError) -> Problem:
    m = _AT.match(str(error))
    assert m is not None
    message, path = m["msg"], (m["path"] or "").removeprefix(".")
    if found := re.fullmatch(r"Object contains unknown field `([^`]*)`", message):
        return Problem(path, "unknown_field", {"field": found[1]})
    if found := re.fullmatch(r"Object missing required field `([^`]*)`", message):
        return Problem(path, "missing_field", {"field": found[1]})
    if message.startswith("Invalid RFC3339 encoded date"):
        return Problem(path, "not_a_date", {})
    if found := re.fullmatch(r"Expected `([^`]*)`, got `([^`]*)`", message):
        return Problem(path, "wrong_type", {"expected": found[1].split(" ")[0], "got": found[2]})
    if found := re.fullmatch(r"Invalid enum value '([^']*)'", message):
        return Problem(path, "bad_value", {"detail": found[1]})
    return Problem(path, "bad_value", {"detail": message})


class _Pairs(dict[str, Any]):
    """A JSON object that remembers the keys it was given twice."""

    twice: list[str]


def _pairs(items: list[tuple[str, Any]]) -> _Pairs:
    obj = _Pairs()
    obj.twice = []
    for key, value in items:
        if key in obj:
            obj.twice.append(key)
        obj[key] = value
    return obj


def _duplicates(value: Any, path: str = "") -> Iterator[Problem]:
    stack = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, _Pairs):
            for key in node.twice:
                yield Problem(f"{where}.{key}".lstrip("."), "duplicate_key", {"key": key})
            stack += [(v, f"{where}.{k}".lstrip(".")) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(v, f"{where}[{i}]") for i, v in enumerate(node)]


def decode_raw(data: bytes, *, kind: str) -> Any:
    """A JSON or TOML document as plain data, refusing what JSON lets pass silently (a key
    given twice: the last would win) and accepting a UTF-8 byte-order mark."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse("", "not_utf8", detail=str(exc)) from exc
    try:
        if kind == "json":
            try:
                raw = json.loads(text, object_pairs_hook=_pairs)
            except json.JSONDecodeError as exc:
                raise _refuse("", "not_json", detail=str(exc)) from exc
            twice = sorted(_duplicates(raw), key=lambda p: p.path)
            if twice:
                raise InvalidCommand(twice)
            return raw
        if kind == "toml":
            try:
                return tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise _refuse("", "not_toml", detail=str(exc)) from exc
    except RecursionError as exc:
        raise _refuse("", "too_deep") from exc
    raise ValueError(f"unknown document kind {kind!r}")


def parse_edition(data: bytes, *, kind: str) -> EditionSnapshot:
    """An edition from document bytes; ``kind`` is ``"json"`` or ``"toml"``."""
    return read_raw(decode_raw(data, kind=kind))


def read_raw(raw: Any) -> EditionSnapshot:
    """An edition from a document decoded to plain data (a feed or a workbook read into
    one is checked here like any other document)."""
    if not isinstance(raw, dict):
        raise _refuse("", "wrong_type", expected="object", got=type(raw).__name__)
    found = raw.get("format")
    if found != EDITION_FORMAT and isinstance(found, str):
        raise _refuse("format", "wrong_format", value=found, expected=EDITION_FORMAT)
    people = raw.get("people")
    for i, person in enumerate(people if isinstance(people, list) else ()):
        # The engine's mark of an erased person is no field of the format.
        if isinstance(person, dict) and "erased" in person:
            raise InvalidCommand([Problem(f"people[{i}]", "unknown_field", {"field": "erased"})])
    try:
        doc = msgspec.convert(raw, EditionDocument)
    except msgspec.ValidationError as exc:
        raise InvalidCommand([_problem_of(exc)]) from exc
    except RecursionError as exc:
        raise _refuse("", "too_deep") from exc
    fields = {f: getattr(doc, f) for f in EditionSnapshot.__struct_fields__}
    return EditionSnapshot(**fields)


def kind_of(path: Path, data: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix in (".toml", ".json"):
        return suffix[1:]
    return "json" if data.removeprefix(_BOM).lstrip()[:1] == b"{" else "toml"


def read_bytes(path: str | Path) -> bytes:
    p = Path(path)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise _refuse("", "unreadable_file", path=str(p), detail=exc.strerror or str(exc)) from exc


def load_edition(path: str | Path) -> LoadedDocument:
    """Read an edition from a file: an edition document (JSON or TOML by its extension),
    frab's ``schedule.xml``, a c3voc or pretalx ``schedule.json``."""
    p = Path(path)
    data = read_bytes(p)
    digest = hashlib.sha256(data).hexdigest()
    from creneau.adapters.workbooks import SUFFIXES

    if p.suffix.lower() in SUFFIXES:
        return LoadedDocument(snapshot=_workbook(p), sha256=digest, source=p.name)
    if p.suffix.lower() == ".xml" or data.removeprefix(_BOM).lstrip()[:1] == b"<":
        from creneau.adapters.feed_import import read_frab_xml

        feed = read_frab_xml(data.removeprefix(_BOM))
        return LoadedDocument(snapshot=read_raw(feed.document), sha256=digest, source=p.name,
                              placements=feed.placements)  # fmt: skip
    kind = kind_of(p, data)
    raw = decode_raw(data, kind=kind)
    if kind == "json":
        from creneau.adapters.feed_import import is_feed_json, read_c3voc_json

        if is_feed_json(raw):
            feed = read_c3voc_json(raw)
            return LoadedDocument(snapshot=read_raw(feed.document), sha256=digest,
                                  source=p.name, placements=feed.placements)  # fmt: skip
    return LoadedDocument(snapshot=read_raw(raw), sha256=digest, source=p.name)


def _workbook(path: Path) -> EditionSnapshot:
    """The edition a workbook holds, every problem named by its cell."""
    from creneau.adapters.workbooks import located, read_workbook
    from creneau.scheduler import validate_snapshot

    raw, cell_of, faults = read_workbook(path)
    # The cells' faults, then what the document without those values breaks, each
    # fault once: every one is named at once, not one per try.
    try:
        snapshot = read_raw(raw)
        more = located(validate_snapshot(snapshot), cell_of)
    except InvalidCommand as refused:
        snapshot, more = None, located(refused.problems, cell_of)

    def row(cell: str) -> str:  # "Sessions!F12" -> "Sessions!12"
        return re.sub(r"![A-Z]+", "!", cell)

    named = {row(p.path) for p in faults}
    problems = [*faults, *(p for p in more if row(p.path) not in named)]
    if problems or snapshot is None:
        raise InvalidCommand(problems)
    return snapshot


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


def to_document(snapshot: EditionSnapshot) -> dict[str, Any]:
    """The edition document of a snapshot, static defaults filled in.

    Values whose default follows another value (a room's availability and changeover, a
    session's capacity) stay absent when they were not set, so that reading the document
    back gives the same edition.
    """
    body = _drop_none(msgspec.to_builtins(snapshot))
    assert isinstance(body, dict)
    for person in body.get("people", ()):
        person.pop("erased", None)  # the engine's own mark, not a field of the format
    return {"format": EDITION_FORMAT, **body}


def document_bytes(snapshot: EditionSnapshot) -> bytes:
    return msgspec.json.format(msgspec.json.encode(to_document(snapshot)), indent=2) + b"\n"
