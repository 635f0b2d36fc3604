"""The JSON Schemas of the two documents, generated from the very types that read and
write them (``msgspec.json.schema``): ``python -m creneau.adapters.schemas`` writes them to
``docs/schema/``; a test checks they are up to date and that the examples follow them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from creneau.adapters.edition_document import EDITION_FORMAT, EditionDocument
from creneau.scheduler import SCHEDULE_FORMAT, ScheduleDocument

__all__ = ["SCHEMAS", "schema", "written"]

DOCS = Path(__file__).resolve().parents[1] / "docs" / "schema"

SCHEMAS: dict[str, tuple[type, str, str]] = {
    "edition.schema.json": (
        EditionDocument, EDITION_FORMAT,
        "An edition of a Numérique en Commun[s] event as a programme committee hands it to "
        "Créneau: days, rooms, people, sessions, registrations and rules. See "
        "docs/formats.md.",
    ),
    "schedule.schema.json": (
        ScheduleDocument, SCHEDULE_FORMAT,
        "A schedule Créneau found, or the published programme: each session run in its "
        "room, day and time, with what the solve says of itself. See docs/formats.md.",
    ),
}  # fmt: skip


def schema(name: str) -> dict[str, Any]:
    kind, fmt, description = SCHEMAS[name]
    body = msgspec.json.schema(kind)
    top = body["$defs"][body["$ref"].rsplit("/", 1)[1]]
    top["properties"]["format"] = {"const": fmt, "default": fmt}
    person = body["$defs"].get("Person")
    if person is not None:  # the engine's mark of an erased person is no field of the format
        person["properties"].pop("erased", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": fmt,
        "description": description,
        **body,
    }


def written(name: str) -> bytes:
    return (json.dumps(schema(name), indent=2, ensure_ascii=False) + "\n").encode()


def main() -> int:
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in SCHEMAS:
        (DOCS / name).write_bytes(written(name))
        print(DOCS / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
