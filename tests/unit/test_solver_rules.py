"""One tiny edition per hard rule: the rule alone forces the answer, or alone makes the
edition impossible (and the explanation names it)."""

from __future__ import annotations

import pytest

from creneau.adapters._i18n import words
from creneau.adapters._messages import CONFLICTS, conflict_text
from creneau.scheduler import (
    After,
    Break,
    Day,
    EditionSnapshot,
    Fixed,
    Person,
    Policies,
    Room,
    SolveParameters,
    SolveResult,
    Travel,
    Venue,
    derive_problem,
    schedule_document,
    validate_snapshot,
)
from creneau.solver import CpSatSolver, relaxed_is_feasible
from creneau.solver._diagnostics import diagnose
from tests.solver_editions import D1, D2, edition, session, window
from tests.validation import assert_valid

PARAMS = SolveParameters(time_limit=10, workers=1, seed=1)


def solve(ed: EditionSnapshot) -> tuple[SolveResult, dict[str, tuple[str, str, str]]]:
    """The result, and each occurrence's (day, start, room); every schedule is checked."""
    assert validate_snapshot(ed) == []
    problem = derive_problem(ed)
    result = CpSatSolver().solve(problem, PARAMS)
    doc = schedule_document(problem, result, PARAMS)
    if result.status in ("optimal", "feasible"):
        assert_valid(ed, doc)
    where = {
        f"{p.session}#{p.occurrence}": (p.day.isoformat(), p.start, p.room) for p in doc.assignments
    }
    return result, where


def infeasible_because(ed: EditionSnapshot, *rules: str) -> None:
    """Infeasible, explained by (at least) one of ``rules``, and solvable without them."""
    result, _ = solve(ed)
    assert result.status == "infeasible"
    assert result.conflicts, "an infeasible edition is explained"
    assert set(rules) & {c.rule for c in result.conflicts}, result.conflicts
    w = words("en")
    assert all(c.code in CONFLICTS and conflict_text(c, w) for c in result.conflicts)
    assert relaxed_is_feasible(derive_problem(ed), [(c.rule, c.subject) for c in result.conflicts])


def starts(where: dict[str, tuple[str, str, str]]) -> dict[str, str]:
    return {k: v[1] for k, v in where.items()}


def test_open_hours_and_breaks() -> None:
    day = Day(day=D1, open="09:00", close="12:00", breaks=(Break(start="09:30", end="11:00"),))
    _, where = solve(edition(days=[day], sessions=[session("s", 60)]))
    assert starts(where) == {"s#1": "11:00"}
    infeasible_because(edition(days=[day], sessions=[session("s", 90)]), "open_hours")


def test_windows() -> None:
    _, where = solve(edition(sessions=[session("s", 60, windows=(window("10:30", "11:30"),))]))
    assert starts(where) == {"s#1": "10:30"}
    ed = edition(
        sessions=[
            session("a", 60, windows=(window("10:00", "11:00"),)),
            session("b", 60, windows=(window("10:00", "11:00"),)),
        ]
    )
    infeasible_because(ed, "windows")


def test_fixed() -> None:
    rooms = [Room(id="r1", capacity=50), Room(id="r2", capacity=50)]
    s = session("s", 30, fixed=Fixed(start="10:15", room="r2"))
    _, where = solve(edition(rooms=rooms, sessions=[s]))
    assert where == {"s#1": (D1.isoformat(), "10:15", "r2")}
    clash = [
        session("a", 60, fixed=Fixed(start="10:00", room="r1")),
        session("b", 60, fixed=Fixed(start="10:30", room="r1")),
    ]
    infeasible_because(edition(rooms=rooms, sessions=clash), "room_overlap")


def test_room_fit_features_seats_and_allowed_rooms() -> None:
    rooms = [
        Room(id="small", capacity=20, reserve=10, features=("tables",)),
        Room(id="big", capacity=200, features=("stage",)),
        Room(id="mid", capacity=40, features=("tables",)),
    ]
    sessions = [
        session("tables", 60, requires=("tables",), attendance=35),
        session("reserve", 60, requires=("tables",), attendance=28, rooms=("small",)),
        session("stage", 60, requires=("stage",)),
    ]
    _, where = solve(edition(rooms=rooms, sessions=sessions))
    assert {k: v[2] for k, v in where.items()} == {
        "tables#1": "mid",
        "reserve#1": "small",
        "stage#1": "big",
    }
    infeasible_because(
        edition(rooms=rooms, sessions=[session("x", 60, requires=("tables",), attendance=45)]),
        "room_fit",
    )


def test_room_availability() -> None:
    rooms = [Room(id="r1", capacity=50, availability=(window("11:00", "12:00"),))]
    _, where = solve(edition(rooms=rooms, sessions=[session("s", 60)]))
    assert starts(where) == {"s#1": "11:00"}
    # The room's hour is the only room time there is: the diagnostics say so at once.
    infeasible_because(
        edition(rooms=rooms, sessions=[session("a", 60), session("b", 60)]),
        "room_availability",
        "room_overlap",
    )


def test_room_one_at_a_time_with_changeover() -> None:
    day = Day(day=D1, open="09:00", close="11:00")
    _, where = solve(edition(days=[day], sessions=[session("a", 60), session("b", 60)]))
    assert sorted(starts(where).values()) == ["09:00", "10:00"]
    rooms = [Room(id="r1", capacity=50, changeover=15)]
    infeasible_because(
        edition(days=[day], rooms=rooms, sessions=[session("a", 60), session("b", 60)]),
        "room_overlap",
    )


def test_room_concurrent_sessions() -> None:
    day = Day(day=D1, open="09:00", close="10:00")
    hall = [Room(id="hall", capacity=50, concurrent=2)]
    _, where = solve(edition(days=[day], rooms=hall, sessions=[session("a"), session("b")]))
    assert starts(where) == {"a#1": "09:00", "b#1": "09:00"}
    infeasible_because(
        edition(days=[day], rooms=hall, sessions=[session("a"), session("b"), session("c")]),
        "room_overlap",
    )


def test_a_room_too_small_for_what_only_it_can_host_is_named_before_any_search() -> None:
    # Two rooms, only one with tables; the workshops that need them fill 4 h of a 3 h day.
    rooms = [Room(id="hall", capacity=100), Room(id="lab", capacity=30, features=("tables",))]
    workshops = [session(f"w{i}", 60, requires=("tables",)) for i in range(4)]
    ed = edition(rooms=rooms, sessions=[*workshops, session("talk", 60)])
    problem = derive_problem(ed)
    found = diagnose(problem)
    assert [(c.rule, c.subject, c.code) for c in found] == [
        ("room_overlap", "lab", "room_only_minutes")
    ]
    assert found[0].params["demand"] == 240 and found[0].params["supply"] == 180
    assert "lab" in conflict_text(found[0], words("en"))
    infeasible_because(ed, "room_overlap")
    # Three of them fit: nothing is named, and a programme is found.
    result, _ = solve(edition(rooms=rooms, sessions=[*workshops[:3], session("talk", 60)]))
    assert result.status == "optimal"


def test_person_availability() -> None:
    ann = Person(
        id="ann", available=(window("09:00", "12:00"),), unavailable=(window("09:00", "10:30"),)
    )
    _, where = solve(edition(people=[ann], sessions=[session("s", 60, speakers=("ann",))]))
    assert starts(where)["s#1"] in {"10:30", "10:35", "10:40", "10:45", "10:50", "10:55", "11:00"}
    tight = Person(id="ann", available=(window("09:00", "09:30"),))
    infeasible_because(
        edition(people=[tight], sessions=[session("s", 60, speakers=("ann",))]),
        "person_availability",
    )


def test_person_overlap_and_speaker_gap() -> None:
    day = Day(day=D1, open="09:00", close="11:00")
    rooms = [Room(id="r1", capacity=50), Room(id="r2", capacity=50)]
    both = [session("a", 60, speakers=("ann",)), session("b", 60, speakers=("ann",))]
    _, where = solve(edition(days=[day], rooms=rooms, people=[Person(id="ann")], sessions=both))
    assert sorted(starts(where).values()) == ["09:00", "10:00"]
    infeasible_because(
        edition(
            days=[day],
            rooms=rooms,
            people=[Person(id="ann")],
            sessions=both,
            policies=Policies(speaker_gap=30),
        ),
        "person_overlap",
    )


def test_travel_between_venues() -> None:
    day = Day(day=D1, open="09:00", close="11:20")
    venues = (Venue(id="stade"), Venue(id="louvre"))
    rooms = [Room(id="r1", capacity=50, venue="stade"), Room(id="r2", capacity=50, venue="louvre")]
    both = [
        session("a", 60, speakers=("ann",), rooms=("r1",)),
        session("b", 60, speakers=("ann",), rooms=("r2",)),
    ]
    ed = edition(
        days=[day],
        rooms=rooms,
        people=[Person(id="ann")],
        sessions=both,
        venues=venues,
        travel=(Travel(from_="stade", to="louvre", minutes=20),),
    )
    _, where = solve(ed)
    times = sorted(starts(where).values())
    assert times == ["09:00", "10:20"]
    shorter = Day(day=D1, open="09:00", close="11:15")
    infeasible_because(
        edition(
            days=[shorter],
            rooms=rooms,
            people=[Person(id="ann")],
            sessions=both,
            venues=venues,
            travel=(Travel(from_="stade", to="louvre", minutes=20),),
        ),
        "person_overlap",
    )


def test_max_per_day() -> None:
    days = [Day(day=D1, open="09:00", close="12:00"), Day(day=D2, open="09:00", close="12:00")]
    ann = Person(id="ann", max_per_day=1)
    both = [session("a", 60, speakers=("ann",)), session("b", 60, speakers=("ann",))]
    _, where = solve(edition(days=days, people=[ann], sessions=both))
    assert {v[0] for v in where.values()} == {D1.isoformat(), D2.isoformat()}
    infeasible_because(edition(people=[ann], sessions=both), "max_per_day")


def test_exclusive_plenary() -> None:
    day = Day(day=D1, open="09:00", close="11:00")
    rooms = [Room(id="r1", capacity=50), Room(id="r2", capacity=50)]
    sessions = [session("plenary", 60, format="plenary"), session("workshop", 60)]
    _, where = solve(edition(days=[day], rooms=rooms, sessions=sessions))
    assert sorted(starts(where).values()) == ["09:00", "10:00"]
    short = Day(day=D1, open="09:00", close="10:00")
    infeasible_because(edition(days=[short], rooms=rooms, sessions=sessions), "exclusive")
    # Another audience may run beside it.
    other = [
        session("plenary", 60, format="plenary", audiences=("professionals",)),
        session("discovery", 60, audiences=("general_public",)),
    ]
    _, where = solve(edition(days=[short], rooms=rooms, sessions=other))
    assert starts(where) == {"plenary#1": "09:00", "discovery#1": "09:00"}


def test_after_with_gap_and_same_day() -> None:
    day = Day(day=D1, open="09:00", close="11:30")
    rooms = [Room(id="r1", capacity=50), Room(id="r2", capacity=50)]
    sessions = [session("b", 60, after=(After(session="a", min_gap=30),)), session("a", 60)]
    _, where = solve(edition(days=[day], rooms=rooms, sessions=sessions))
    assert starts(where) == {"a#1": "09:00", "b#1": "10:30"}
    short = Day(day=D1, open="09:00", close="11:00")
    infeasible_because(edition(days=[short], rooms=rooms, sessions=sessions), "after")
    days = [Day(day=D1, open="09:00", close="10:00"), Day(day=D2, open="09:00", close="12:00")]
    same = [
        session("b", 60, after=(After(session="a", same_day=True),)),
        session("a", 60, fixed=Fixed(day=D2)),
    ]
    _, where = solve(edition(days=days, rooms=rooms, sessions=same))
    assert {v[0] for v in where.values()} == {D2.isoformat()}


def test_not_parallel() -> None:
    day = Day(day=D1, open="09:00", close="11:00")
    rooms = [Room(id="r1", capacity=50), Room(id="r2", capacity=50)]
    sessions = [session("a", 60, not_parallel=("b",)), session("b", 60)]
    _, where = solve(edition(days=[day], rooms=rooms, sessions=sessions))
    assert sorted(starts(where).values()) == ["09:00", "10:00"]
    short = Day(day=D1, open="09:00", close="10:00")
    infeasible_because(edition(days=[short], rooms=rooms, sessions=sessions), "not_parallel")


def test_occurrences_each_on_its_own() -> None:
    day = Day(day=D1, open="09:00", close="10:30")
    _, where = solve(edition(days=[day], sessions=[session("tour", 30, occurrences=3)]))
    assert starts(where) == {"tour#1": "09:00", "tour#2": "09:30", "tour#3": "10:00"}


def test_the_audience_gap_holds_between_two_runs_of_one_session_in_other_rooms() -> None:
    # The first run can only be in r1 at 09:00, the second only in r2: it starts the gap
    # after the first ends, as the validator and the checker read the rule.
    day = Day(day=D1, open="09:00", close="10:10")
    rooms = [Room(id="r1", capacity=50, availability=(window("09:00", "09:30"),)),
             Room(id="r2", capacity=50, availability=(window("09:30", "10:10"),))]  # fmt: skip
    _, where = solve(edition(days=[day], rooms=rooms, policies=Policies(attendee_gap=10),
                             sessions=[session("tour", 30, occurrences=2)]))  # fmt: skip
    assert where == {
        "tour#1": ("2023-10-12", "09:00", "r1"),
        "tour#2": ("2023-10-12", "09:40", "r2"),
    }


def test_proposals_left_out_when_they_do_not_fit() -> None:
    day = Day(day=D1, open="09:00", close="10:00")
    sessions = [session("keep", 60), session("maybe", 60, optional=True, priority=9)]
    result, where = solve(edition(days=[day], sessions=sessions))
    assert set(where) == {"keep#1"}
    assert result.unscheduled == (("maybe", "left out", ("room_overlap",)),)


@pytest.mark.parametrize("example", ["nec-metz-2023", "nec-sud-ouest-2023"])
def test_examples_solve_to_optimal(example: str) -> None:
    from pathlib import Path

    from creneau.adapters.edition_document import load_edition

    root = Path(__file__).resolve().parents[2]
    snap = load_edition(root / "examples" / f"{example}.toml").snapshot
    result, where = solve(snap)
    assert result.status == "optimal"
    assert len(where) == sum(s.occurrences for s in snap.sessions)
