"""Parity, moderators, proposals, audience tracks, quality objectives and re-planning:
hand-built editions where one rule decides the answer."""

from __future__ import annotations

import random

import msgspec
import pytest

from creneau.adapters._i18n import words
from creneau.adapters._messages import left_out_text
from creneau.scheduler import (
    WEIGHT_DEFAULTS,
    Day,
    EditionSnapshot,
    Parity,
    Person,
    Placement,
    Policies,
    Registration,
    Room,
    SolveParameters,
    SolveResult,
    Track,
    derive_problem,
    programme_metrics,
    schedule_document,
    validate_snapshot,
    with_previous,
)
from creneau.solver import CpSatSolver
from tests.solver_editions import D1, edition, session, window
from tests.validation import assert_valid

PARAMS = SolveParameters(time_limit=10, workers=1, seed=1)


def solve(
    ed: EditionSnapshot, previous: tuple[Placement, ...] = ()
) -> tuple[SolveResult, dict[str, Placement]]:
    """The result and its placements by ``session#occurrence``; each schedule checked."""
    assert validate_snapshot(ed) == []
    problem = derive_problem(ed)
    if previous:
        problem = with_previous(problem, previous)
    result = CpSatSolver().solve(problem, PARAMS)
    assert result.status in ("optimal", "feasible"), result
    doc = schedule_document(problem, result, PARAMS, edition=ed)
    assert_valid(ed, doc)
    return result, {f"{p.session}#{p.occurrence}": p for p in doc.assignments}


ONE_HOUR = Day(day=D1, open="09:00", close="10:00")
TWO_ROOMS = [Room(id="r1", capacity=100), Room(id="r2", capacity=100)]


def panel_people() -> list[Person]:
    return [
        Person(id="marc", gender="man"),
        Person(id="paul", gender="man"),
        # Listed first and a man: the solver has no reason to pick him but parity.
        Person(id="yves", gender="man", can_moderate=True),
        Person(id="lea", gender="woman", can_moderate=True),
    ]


def test_parity_picks_the_moderator_that_avoids_an_all_male_panel() -> None:
    ed = edition(
        days=[ONE_HOUR],
        people=panel_people(),
        sessions=[session("panel", 60, speakers=("marc", "paul"), needs_moderator=True)],
    )
    _, where = solve(ed)
    assert where["panel#1"].moderators == ("lea",)


def test_women_share_decides_the_moderator() -> None:
    people = [
        Person(id="marc", gender="man"),
        Person(id="yves", gender="man", can_moderate=True),
        Person(id="lea", gender="woman", can_moderate=True),
    ]
    sessions = [session("talk", 60, speakers=("marc",), needs_moderator=True)]
    policies = Policies(parity=Parity(women_min_share=0.5, no_all_male_panels=False))
    _, where = solve(edition(days=[ONE_HOUR], people=people, sessions=sessions, policies=policies))
    assert where["talk#1"].moderators == ("lea",)
    # Without the share, either would do; with it and only men free, nothing would.
    only_men = [p for p in people if p.id != "lea"]
    ed = edition(days=[ONE_HOUR], people=only_men, sessions=sessions, policies=policies)
    result = CpSatSolver().solve(derive_problem(ed), PARAMS)
    assert result.status == "infeasible"
    assert "parity_share" in {c.rule for c in result.conflicts}


def trade_edition(parity: Parity, weights: dict[str, int]) -> EditionSnapshot:
    """Léa can moderate the men's panel or speak at a proposal at the same hour: not both."""
    return edition(
        days=[ONE_HOUR],
        rooms=TWO_ROOMS,
        people=panel_people(),
        sessions=[
            session("panel", 60, speakers=("marc", "paul"), needs_moderator=True),
            session("proposal", 60, speakers=("lea",), optional=True, priority=5),
        ],
        policies=Policies(parity=parity, weights=weights),
    )


def test_hard_parity_leaves_out_the_proposal_that_would_break_it() -> None:
    result, where = solve(trade_edition(Parity(), {}))
    assert where["panel#1"].moderators == ("lea",)
    assert "proposal#1" not in where
    [(sid, reason, rules)] = result.unscheduled
    assert sid == "proposal"
    assert reason == "left out" and "no_all_male_panels" in rules
    assert "panel of men only (parity)" in left_out_text(reason, rules, words("en"))


@pytest.mark.parametrize(
    ("panel_weight", "proposal_kept"),
    [(200, True), (300, False)],  # the proposal is worth 5 × 50 = 250
)
def test_soft_parity_trades_against_priority_by_its_weight(
    panel_weight: int, proposal_kept: bool
) -> None:
    ed = trade_edition(Parity(hard=False), {"all_male_panels": panel_weight})
    result, where = solve(ed)
    assert ("proposal#1" in where) is proposal_kept
    assert where["panel#1"].moderators == (("yves",) if proposal_kept else ("lea",))
    metrics = programme_metrics(ed, tuple(where.values()))
    assert metrics["all_male_panels"] == (1 if proposal_kept else 0)
    if not proposal_kept:
        assert result.unscheduled == (("proposal", "worth less", ()),)


def test_a_panel_of_men_without_a_moderator_is_refused_or_left_out() -> None:
    people = panel_people()
    men = session("men", 60, speakers=("marc", "paul"))
    result = CpSatSolver().solve(derive_problem(edition(people=people, sessions=[men])), PARAMS)
    assert result.status == "infeasible"
    assert {c.rule for c in result.conflicts} == {"no_all_male_panels"}
    ed = edition(people=people, sessions=[session("men", 60, speakers=("marc", "paul"),
                                                  optional=True)])  # fmt: skip
    result, where = solve(ed)
    assert where == {}
    assert result.unscheduled == (("men", "left out", ("no_all_male_panels",)),)


def test_undisclosed_people_make_parity_not_established_not_refused() -> None:
    people = [Person(id="marc", gender="man"), Person(id="alex")]
    ed = edition(people=people, sessions=[session("duo", 60, speakers=("marc", "alex"))])
    _, where = solve(ed)
    metrics = programme_metrics(ed, tuple(where.values()))
    assert metrics["all_male_panels"] == 0
    assert metrics["parity_not_established"] == 1


def test_the_general_public_window_is_filled_only_with_the_track_rule() -> None:
    day = Day(day=D1, open="09:00", close="17:00")
    sessions = [
        session("atelier", 120, audiences=("general_public",),
                preferred=(window("09:00", "12:00"),)),
        session("retex", 60, audiences=("professionals",), preferred=(window("09:00", "12:00"),)),
    ]  # fmt: skip
    _, where = solve(edition(days=[day], rooms=TWO_ROOMS, sessions=sessions))
    assert where["atelier#1"].start < "12:00"
    track = Track(audience="general_public", windows=(window("14:00", "16:00"),), min_parallel=1)
    ed = edition(days=[day], rooms=TWO_ROOMS, sessions=sessions,
                 policies=Policies(tracks=(track,)))  # fmt: skip
    _, where = solve(ed)
    assert (where["atelier#1"].start, where["atelier#1"].end) == ("14:00", "16:00")


def test_at_most_max_parallel_sessions_for_an_audience() -> None:
    sessions = [
        session(f"pro{i}", 60, audiences=("professionals",), preferred=(window("09:00", "10:00"),))
        for i in range(3)
    ]
    track = Track(audience="professionals", windows=(window("09:00", "12:00"),), max_parallel=1)
    rooms = [*TWO_ROOMS, Room(id="r3", capacity=100)]
    _, where = solve(edition(rooms=rooms, sessions=sessions))
    assert {p.start for p in where.values()} == {"09:00"}
    _, where = solve(edition(rooms=rooms, sessions=sessions, policies=Policies(tracks=(track,))))
    assert sorted(p.start for p in where.values()) == ["09:00", "10:00", "11:00"]


def test_attendee_choices_keep_their_sessions_apart() -> None:
    sessions = [session(x, 60, preferred=(window("09:00", "10:00"),)) for x in ("a", "b", "c")]
    registrations = tuple(
        Registration(attendee=f"att{i}", profile="professionals", sessions=("a", "b"))
        for i in range(5)
    )
    rooms = [*TWO_ROOMS, Room(id="r3", capacity=100)]
    ed = edition(rooms=rooms, sessions=sessions, registrations=registrations,
                 policies=Policies(weights={"preferred_windows": 20}))  # fmt: skip
    _, where = solve(ed)
    # 5 people × 10 > 20: a and b are apart, one of them outside its preferred hour.
    assert where["a#1"].start != where["b#1"].start
    assert programme_metrics(ed, tuple(where.values()))["attendee_conflicts"] == 0
    cheap = msgspec.structs.replace(ed, policies=Policies(weights={"attendee_conflicts": 1}))
    _, where = solve(cheap)
    assert where["a#1"].start == where["b#1"].start == "09:00"
    assert programme_metrics(cheap, tuple(where.values()))["attendee_conflicts"] == 5


def test_sessions_of_one_theme_are_kept_apart() -> None:
    sessions = [
        session("a", 60, themes=("inclusion",)),
        session("b", 60, themes=("inclusion",)),
        session("c", 60, themes=("education",)),
    ]
    ed = edition(rooms=TWO_ROOMS, sessions=sessions, themes=("inclusion", "education"),
                 days=[Day(day=D1, open="09:00", close="11:00")])  # fmt: skip
    _, where = solve(ed)
    assert where["a#1"].start != where["b#1"].start


def test_late_finishes_and_idle_speakers_are_avoided() -> None:
    day = Day(day=D1, open="09:00", close="13:00")
    people = [Person(id="ana", gender="woman")]
    sessions = [session("one", 60, speakers=("ana",)), session("two", 60, speakers=("ana",))]
    _, where = solve(edition(days=[day], people=people, sessions=sessions))
    times = sorted((p.start, p.end) for p in where.values())
    assert times[0][1] == times[1][0], "back to back: no idle time"
    assert times[1][1] <= "12:00", "nothing ends in the last hour"


# -- re-planning ----------------------------------------------------------------------


def replan_edition(unavailable: tuple[str, str] | None = None) -> EditionSnapshot:
    people = [Person(id=x, gender="woman") for x in ("ana", "bea", "cleo", "dora")]
    if unavailable is not None:
        people[1] = Person(id="bea", gender="woman", unavailable=(window(*unavailable),))
    sessions = [
        session("a", 60, speakers=("ana",)),
        session("b", 60, speakers=("bea",)),
        session("c", 60, speakers=("cleo",)),
        session("d", 60, speakers=("dora",)),
    ]
    return edition(days=[Day(day=D1, open="09:00", close="12:00")], rooms=TWO_ROOMS,
                   people=people, sessions=sessions)  # fmt: skip


def test_replanning_moves_only_what_must_move() -> None:
    _, first = solve(replan_edition())
    b = first["b#1"]
    # Bea can no longer come at the time of her session.
    changed = replan_edition(unavailable=(b.start, b.end))
    _, again = solve(changed, previous=tuple(first.values()))
    moved = {k for k in first if (first[k].start, first[k].room) != (again[k].start, again[k].room)}
    assert moved == {"b#1"}


def test_replanning_after_a_room_closes_keeps_the_rest() -> None:
    _, first = solve(replan_edition())
    closed = {p.room for p in first.values() if p.start == "09:00"}
    room = sorted(closed)[0]
    ed = replan_edition()
    rooms = [
        r if r.id != room else Room(id=r.id, capacity=100, availability=(window("10:00", "12:00"),))
        for r in ed.rooms
    ]
    closing = msgspec.structs.replace(ed, rooms=tuple(rooms))
    _, again = solve(closing, previous=tuple(first.values()))
    moved = {k for k in first if (first[k].start, first[k].room) != (again[k].start, again[k].room)}
    assert len(moved) == 1 and first[next(iter(moved))].room == room


def generated(seed: int) -> EditionSnapshot:
    """A one-day edition of 14 sessions in 3 rooms, each with one or two speakers."""
    rng = random.Random(seed)
    people = [Person(id=f"p{i}", gender=("woman", "man")[i % 2]) for i in range(12)]
    women = [p.id for p in people if p.gender == "woman"]
    sessions = [
        session(f"s{i}", rng.choice([30, 45, 60]),
                # A duo has a woman in it: the parity rule holds by default.
                speakers=(rng.choice(women),) + ((f"p{rng.randrange(1, 12, 2)}",)
                                                 if rng.random() < 0.5 else ()),
                themes=(rng.choice(["inclusion", "education"]),),
                preferred=(window("09:00", "12:00"),) if rng.random() < 0.3 else ())
        for i in range(14)
    ]  # fmt: skip
    rooms = [Room(id=f"r{i}", capacity=100) for i in range(3)]
    return edition(days=[Day(day=D1, open="09:00", close="15:00")], rooms=rooms, people=people,
                   sessions=sessions, themes=("inclusion", "education"))  # fmt: skip


def moves(a: dict[str, Placement], b: dict[str, Placement]) -> int:
    return sum((a[k].start, a[k].room) != (b[k].start, b[k].room) for k in a)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replanning_moves_close_to_the_fewest_possible(seed: int) -> None:
    ed = generated(seed)
    _, first = solve(ed)
    # The first speaker of the session at the busiest hour cancels that hour.
    hit = max(first.values(), key=lambda p: sum(q.start == p.start for q in first.values()))
    who = next(s for s in ed.sessions if s.id == hit.session).speakers[0]
    people = tuple(
        p if p.id != who else msgspec.structs.replace(p, unavailable=(window(hit.start, hit.end),))
        for p in ed.people
    )
    changed = msgspec.structs.replace(ed, people=people)
    _, again = solve(changed, previous=tuple(first.values()))
    only_moves = {name: 0 for name in WEIGHT_DEFAULTS} | {"moved_time": 30, "moved_room": 10}
    least_ed = msgspec.structs.replace(changed, policies=Policies(weights=only_moves))
    least_result, least = solve(least_ed, previous=tuple(first.values()))
    assert least_result.status == "optimal"
    assert 1 <= moves(first, again) <= 1.1 * moves(first, least)
