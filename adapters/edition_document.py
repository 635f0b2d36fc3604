"""The edition document (``creneau/edition@1``), in JSON or TOML: read, check, write.

Reading turns any defect into ``InvalidCommand`` problems whose paths name the
offending value the way the spec does (``sessions[12].speakers[1]``); writing gives
the document back with every static default filled in.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

import msgspec

from scheduler import EditionSnapshot, InvalidCommand, Problem

__all__ = [
    "EDITION_FORMAT",
    "LoadedDocument",
    "document_bytes",
    "load_edition",
    "parse_edition",
    "to_document",
]

EDITION_FORMAT = "creneau/edition@1"


class EditionDocument(EditionSnapshot, frozen=True, kw_only=True, forbid_unknown_fields=True):
    format: str


class LoadedDocument(msgspec.Struct, frozen=True, kw_only=True):
    snapshot: EditionSnapshot
    sha256: str
    source: str


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _problem_of(error: msgspec.ValidationError) -> Problem:
    m = _AT.match(str(error))
    assert m is not None
    message, path = m["msg"], (m["path"] or "").removeprefix(".")
    message = re.sub(r"Object contains unknown field `([^`]*)`", r'unknown field "\1"', message)
    message = re.sub(
        r"Object missing required field `([^`]*)`", r'missing required field "\1"', message
    )
    message = message.replace("Invalid RFC3339 encoded date", "not a date written YYYY-MM-DD")
    message = re.sub(r"Expected `([^`]*)`, got `([^`]*)`", r"expected \1, got \2", message)
    return Problem(path, message)


def parse_edition(data: bytes, *, kind: str) -> EditionSnapshot:
    """An edition from document bytes; ``kind`` is ``"json"`` or ``"toml"``."""
    try:
        if kind == "json":
            doc = msgspec.json.decode(data, type=EditionDocument)
        elif kind == "toml":
            try:
                raw: Any = tomllib.loads(data.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise InvalidCommand([Problem("", f"not UTF-8 text: {exc}")]) from exc
            except tomllib.TOMLDecodeError as exc:
                raise InvalidCommand([Problem("", f"not valid TOML: {exc}")]) from exc
            doc = msgspec.convert(raw, EditionDocument)
        else:
            raise ValueError(f"unknown document kind {kind!r}")
    except msgspec.ValidationError as exc:
        raise InvalidCommand([_problem_of(exc)]) from exc
    except msgspec.DecodeError as exc:
        raise InvalidCommand([Problem("", f"not valid JSON: {exc}")]) from exc
    if doc.format != EDITION_FORMAT:
        raise InvalidCommand(
            [
                Problem(
                    "format",
                    f'"{doc.format}" is not a format this Créneau reads '
                    f'(expected "{EDITION_FORMAT}")',
                )
            ]
        )
    fields = {f: getattr(doc, f) for f in EditionSnapshot.__struct_fields__}
    return EditionSnapshot(**fields)


def load_edition(path: str | Path) -> LoadedDocument:
    """Read an edition document file, JSON or TOML by its extension."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InvalidCommand([Problem("", f"cannot read {p}: {exc.strerror}")]) from exc
    suffix = p.suffix.lower()
    if suffix == ".toml":
        kind = "toml"
    elif suffix == ".json":
        kind = "json"
    else:
        kind = "json" if data.lstrip()[:1] == b"{" else "toml"
    snapshot = parse_edition(data, kind=kind)
    return LoadedDocument(snapshot=snapshot, sha256=hashlib.sha256(data).hexdigest(), source=p.name)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


def to_document(snapshot: EditionSnapshot) -> dict[str, Any]:
    """The edition document of a snapshot, static defaults filled in.

    Values whose default depends on something else (a room's availability and
    changeover, a session's capacity) stay absent when they were not set, so that
    reading the document back gives the same edition.
    """
    body = _drop_none(msgspec.to_builtins(snapshot))
    assert isinstance(body, dict)
    return {"format": EDITION_FORMAT, **body}


def document_bytes(snapshot: EditionSnapshot) -> bytes:
    return msgspec.json.format(msgspec.json.encode(to_document(snapshot)), indent=2) + b"\n"
