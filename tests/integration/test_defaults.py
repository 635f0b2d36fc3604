"""Every default the format gives (each "when absent" cell of docs/formats.md) is resolved
once, where a document is read: a document that leaves it out and one that writes it
give the same solver problem, whether solved from the document or imported into a store
first; and the independent validator, which applies the defaults itself, gives both the
same verdict on a schedule that tells the default from another value."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from creneau.adapters import validator
from creneau.adapters.cli import main
from creneau.adapters.edition_document import parse_edition
from creneau.events_store import SQLiteEventStore
from creneau.scheduler import EditionService, derive_problem

DAY = "2023-10-12"
Doc = dict[str, Any]


def base() -> Doc:
    return {
        "format": "creneau/edition@1",
        "id": "defaults",
        "days": [{"day": DAY, "open": "09:00", "close": "17:00"}],
        "rooms": [{"id": "r1", "capacity": 30}, {"id": "r2", "capacity": 30}],
        "people": [{"id": "p1"}, {"id": "p2"}],
        "sessions": [{"id": "s1", "duration": 60}, {"id": "s2", "duration": 60}],
    }


def run(session: str, room: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {"session": session, "occurrence": 1, "room": room, "day": DAY, "start": start,
            "end": end, "moderators": [], **extra}  # fmt: skip


PARALLEL = [run("s1", "r1", "09:00", "10:00"), run("s2", "r2", "09:00", "10:00")]
SAME_ROOM_BACK_TO_BACK = [run("s1", "r1", "09:00", "10:00"), run("s2", "r1", "10:00", "11:00")]
OTHER_ROOM_BACK_TO_BACK = [run("s1", "r1", "09:00", "10:00"), run("s2", "r2", "10:00", "11:00")]


def at(path: str, value: Any) -> Callable[[Doc], None]:
    """Set ``value`` at a dotted path (numbers index lists)."""

    def change(doc: Doc) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        node[int(last) if last.isdigit() else last] = value

    return change


def both(*changes: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        for c in changes:
            c(doc)

    return change


def nothing(doc: Doc) -> None:
    pass


def second_day(doc: Doc) -> None:
    doc["days"].append({"day": "2023-10-13", "open": "09:00", "close": "17:00"})


# (name, what both documents hold, the default written out, a schedule, the rules it breaks)
Case = tuple[str, Callable[[Doc], None], Callable[[Doc], None], list[dict[str, Any]], set[str]]
CASES: list[Case] = [
    ("granularity", nothing, at("granularity", 5),
     [run("s1", "r1", "09:03", "10:03"), run("s2", "r2", "09:00", "10:00")], {"open_hours"}),
    ("days.breaks", nothing, at("days.0.breaks", []),
     [run("s1", "r1", "12:00", "13:00"), run("s2", "r2", "12:00", "13:00")], set()),
    ("audiences", both(at("sessions.0.format", "plenary"),
                       at("sessions.1.audiences", ["general_public"])),
     at("audiences", ["professionals", "general_public"]), PARALLEL, {"exclusive"}),
    ("themes", nothing, at("themes", []), PARALLEL, set()),
    ("venues", at("sessions.0.speakers", ["p1"]) , at("venues", []),
     [run("s1", "r1", "09:00", "10:00"), run("s2", "r2", "10:00", "11:00")], set()),
    ("travel", both(at("venues", [{"id": "a"}, {"id": "b"}]), at("rooms.0.venue", "a"),
                    at("rooms.1.venue", "b"), at("sessions.0.speakers", ["p1"]),
                    at("sessions.1.speakers", ["p1"])),
     at("travel", []), OTHER_ROOM_BACK_TO_BACK, set()),
    ("licence and url", nothing, both(at("licence", None), at("url", None)), PARALLEL, set()),
    ("rooms.venue", both(at("venues", [{"id": "a"}]), at("travel", [])), nothing, PARALLEL, set()),
    ("rooms.reserve", at("sessions.0.attendance", 35), at("rooms.0.reserve", 0), PARALLEL,
     {"room_fit"}),
    ("rooms.features", at("sessions.0.requires", ["stage"]), at("rooms.0.features", []),
     PARALLEL, {"room_fit"}),
    ("rooms.availability", nothing, nothing, PARALLEL, set()),
    ("rooms.concurrent", nothing, at("rooms.0.concurrent", 1),
     [run("s1", "r1", "09:00", "10:00"), run("s2", "r1", "09:30", "10:30")], {"room_overlap"}),
    ("rooms.changeover", at("policies.changeover", 10), nothing, SAME_ROOM_BACK_TO_BACK,
     {"room_overlap"}),
    ("people.gender", both(at("people", [{"id": "p1", "gender": "man"}, {"id": "p2"}]),
                           at("sessions.0.speakers", ["p1", "p2"])),
     at("people.1.gender", "undisclosed"), PARALLEL, set()),
    ("people.available", at("sessions.0.speakers", ["p1"]), at("people.0.available", None),
     PARALLEL, set()),
    ("people.unavailable", at("sessions.0.speakers", ["p1"]), at("people.0.unavailable", []),
     PARALLEL, set()),
    ("people.preferred", at("sessions.0.speakers", ["p1"]), at("people.0.preferred", []),
     PARALLEL, set()),
    ("people.max_per_day", both(at("sessions.0.speakers", ["p1"]),
                                at("sessions.1.speakers", ["p1"])),
     at("people.0.max_per_day", None), OTHER_ROOM_BACK_TO_BACK, set()),
    ("people.can_moderate", at("sessions.0.needs_moderator", True),
     at("people.0.can_moderate", False),
     [run("s1", "r1", "09:00", "10:00", moderators=["p1"]), run("s2", "r2", "09:00", "10:00")],
     {"moderator"}),
    ("sessions.format", nothing, at("sessions.0.format", "workshop"), PARALLEL, set()),
    ("sessions.audiences", both(at("sessions.0.format", "plenary"),
                                at("sessions.1.audiences", ["general_public"])),
     at("sessions.0.audiences", ["professionals", "general_public"]), PARALLEL, {"exclusive"}),
    ("sessions.themes", nothing, at("sessions.0.themes", []), PARALLEL, set()),
    ("sessions.speakers", nothing, at("sessions.0.speakers", []), PARALLEL, set()),
    ("sessions.moderators", nothing, at("sessions.0.moderators", []), PARALLEL, set()),
    ("sessions.needs_moderator", nothing, at("sessions.0.needs_moderator", False),
     [run("s1", "r1", "09:00", "10:00", moderators=["p1"]), run("s2", "r2", "09:00", "10:00")],
     {"moderator"}),
    ("sessions.attendance", at("rooms.0.capacity", 0), at("sessions.0.attendance", 0), PARALLEL,
     set()),
    ("sessions.capacity", nothing, at("sessions.0.capacity", None), PARALLEL, set()),
    ("sessions.rotation", nothing, at("sessions.0.rotation", None), PARALLEL, set()),
    ("sessions.occurrences", nothing, at("sessions.0.occurrences", 1), PARALLEL, set()),
    ("sessions.requires", nothing, at("sessions.0.requires", []), PARALLEL, set()),
    ("sessions.rooms", nothing, at("sessions.0.rooms", None), PARALLEL, set()),
    ("sessions.windows", nothing, at("sessions.0.windows", None), PARALLEL, set()),
    ("sessions.fixed", nothing, at("sessions.0.fixed", None), PARALLEL, set()),
    ("sessions.exclusive (plenary)", at("sessions.0.format", "plenary"),
     at("sessions.0.exclusive", True), PARALLEL, {"exclusive"}),
    ("sessions.exclusive (workshop)", nothing, at("sessions.0.exclusive", False), PARALLEL, set()),
    ("sessions.optional", nothing, at("sessions.1.optional", False),
     [run("s1", "r1", "09:00", "10:00")], {"placement"}),
    ("sessions.priority", at("sessions.1.optional", True), at("sessions.1.priority", 5),
     [run("s1", "r1", "09:00", "10:00")], set()),
    ("sessions.after.min_gap", at("sessions.1.after", [{"session": "s1"}]),
     at("sessions.1.after", [{"session": "s1", "min_gap": 0}]), OTHER_ROOM_BACK_TO_BACK, set()),
    ("sessions.after.same_day", both(second_day, at("sessions.1.after", [{"session": "s1"}])),
     at("sessions.1.after", [{"session": "s1", "same_day": False}]),
     [run("s1", "r1", "09:00", "10:00"),
      {**run("s2", "r2", "09:00", "10:00"), "day": "2023-10-13"}],
     set()),
    ("sessions.not_parallel", nothing, at("sessions.0.not_parallel", []), PARALLEL, set()),
    ("sessions.preferred", nothing, at("sessions.0.preferred", []), PARALLEL, set()),
    ("policies.changeover", nothing, at("policies.changeover", 0), SAME_ROOM_BACK_TO_BACK, set()),
    ("policies.speaker_gap", both(at("sessions.0.speakers", ["p1"]),
                                  at("sessions.1.speakers", ["p1"])),
     at("policies.speaker_gap", 0), OTHER_ROOM_BACK_TO_BACK, set()),
    ("policies.attendee_gap", nothing, at("policies.attendee_gap", 0), OTHER_ROOM_BACK_TO_BACK,
     set()),
    ("policies.parity.women_min_share",
     both(at("people", [{"id": "p1", "gender": "man"}, {"id": "p2", "gender": "man"}]),
          at("sessions.0.speakers", ["p1"])),
     at("policies.parity.women_min_share", 0), PARALLEL, set()),
    ("policies.parity.no_all_male_panels",
     both(at("people", [{"id": "p1", "gender": "man"}, {"id": "p2", "gender": "man"}]),
          at("sessions.0.speakers", ["p1", "p2"])),
     at("policies.parity.no_all_male_panels", True), PARALLEL, {"no_all_male_panels"}),
    ("policies.parity.hard",
     both(at("people", [{"id": "p1", "gender": "man"}, {"id": "p2", "gender": "man"}]),
          at("sessions.0.speakers", ["p1", "p2"])),
     at("policies.parity.hard", True), PARALLEL, {"no_all_male_panels"}),
    ("policies.tracks", nothing, at("policies.tracks", []), PARALLEL, set()),
    ("policies.tracks.min_parallel and max_parallel",
     at("policies.tracks", [{"audience": "professionals",
                             "windows": [{"day": DAY, "start": "09:00", "end": "10:00"}]}]),
     at("policies.tracks", [{"audience": "professionals", "min_parallel": 0, "max_parallel": None,
                             "windows": [{"day": DAY, "start": "09:00", "end": "10:00"}]}]),
     PARALLEL, set()),
    ("policies.weights", nothing, at("policies.weights", {}), PARALLEL, set()),
]  # fmt: skip


def documents(case: Case) -> tuple[Doc, Doc]:
    _, common, explicit, _, _ = case
    left_out = base()
    common(left_out)
    written = copy.deepcopy(left_out)
    explicit(written)
    return left_out, written


def problem_of(doc: Doc) -> Any:
    return derive_problem(parse_edition(json.dumps(doc).encode(), kind="json"))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_default_left_out_is_the_default_written(case: Case, tmp_path: Path) -> None:
    left_out, written = documents(case)
    assert problem_of(left_out) == problem_of(written)
    # The store path: imported, then read back from the store, gives the same problem.
    path = tmp_path / "edition.json"
    path.write_text(json.dumps(left_out))
    assert main(["import", str(path), "--store", str(tmp_path / "s.db")]) == 0
    store = SQLiteEventStore(tmp_path / "s.db")
    state = EditionService(store, actor="tester").load("defaults")
    store.close()
    assert derive_problem(state.snapshot()) == problem_of(left_out)
    # The independent validator applies the default itself, the same way both times.
    schedule = {"format": "creneau/schedule@1", "edition": "defaults", "status": "feasible",
                "assignments": case[3]}  # fmt: skip
    for doc in (left_out, written):
        rules = {f.rule for f in validator.check_documents(doc, schedule)}
        assert rules == case[4], (case[0], rules)


def test_every_default_cell_of_the_format_has_a_case() -> None:
    """The format's tables (docs/formats.md): each field given a default there is here."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text()
    named = " ".join(c[0] for c in CASES)
    sections = (("### Rooms", "rooms."), ("### People", "people."),
                ("### Sessions", "sessions."), ("### Policies", "policies."))  # fmt: skip
    for section, prefix in sections:
        table = text.split(section, 1)[1].split("\n\n", 2)[1]
        for line in table.splitlines()[2:]:
            field, *_, default = [c.strip() for c in line.strip("|").split("|")]
            if "required" in default:
                continue
            for name in field.replace("`", "").split(", "):
                key = name.split(".")[0]
                assert key in ("id", "name", "title", "description", "organisation") or (
                    f"{prefix}{key}" in named or (prefix == "policies." and key in named)
                ), f"no case for the default of {prefix}{name}"
