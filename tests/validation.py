"""Every schedule the tests obtain goes through the independent validator
(``adapters/validator.py``), as ``creneau check`` would read it: the raw edition document
and the schedule document, as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import msgspec

from creneau.adapters import validator
from creneau.adapters.edition_document import document_bytes
from creneau.scheduler import EditionSnapshot, Placement, ScheduleDocument, check_schedule


def raw_schedule(schedule: ScheduleDocument | Sequence[Placement], edition_id: str) -> Any:
    if not isinstance(schedule, ScheduleDocument):
        schedule = ScheduleDocument(edition=edition_id, status="feasible",
                                    assignments=tuple(schedule))  # fmt: skip
    return json.loads(msgspec.json.encode(schedule))


def findings(
    edition: EditionSnapshot | dict[str, Any], schedule: ScheduleDocument | Sequence[Placement]
) -> list[validator.Finding]:
    raw = edition if isinstance(edition, dict) else json.loads(document_bytes(edition))
    return validator.check_documents(raw, raw_schedule(schedule, raw["id"]))


def assert_valid(
    edition: EditionSnapshot | dict[str, Any], schedule: ScheduleDocument | Sequence[Placement]
) -> None:
    """The independent validator finds nothing; nor does the domain's own check."""
    found = findings(edition, schedule)
    assert found == [], found
    if isinstance(edition, EditionSnapshot):
        placements = schedule.assignments if isinstance(schedule, ScheduleDocument) else schedule
        assert check_schedule(edition, placements) == []
