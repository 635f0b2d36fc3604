"""What-if scenarios: each change lands where it says, the edition's other values stay,
and a scenario naming what the edition lacks is refused with the path of the mistake."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creneau.adapters._queueing import sweep_of
from creneau.adapters.edition_document import load_edition
from creneau.scheduler import (
    Absence,
    Closure,
    InvalidCommand,
    Scenario,
    SolveParameters,
    apply_scenario,
    derive_problem,
    scenarios_of,
    schedule_document,
    validate_snapshot,
)
from creneau.solver import CpSatSolver
from tests.integration.cli_helpers import METZ
from tests.validation import assert_valid

EDITION = load_edition(str(METZ)).snapshot
DAY = EDITION.days[0].day


def test_closing_a_room_for_the_edition_leaves_it_no_hours() -> None:
    room = EDITION.rooms[0].id
    after = apply_scenario(EDITION, Scenario(name="x", closed=(Closure(room=room),)))
    closed = {r.id: r for r in after.rooms}[room]
    assert closed.availability == ()
    assert [r for r in after.rooms if r.id != room] == [r for r in EDITION.rooms if r.id != room]
    assert after.sessions == EDITION.sessions and after.people == EDITION.people


def test_closing_a_room_for_one_day_keeps_the_other_days() -> None:
    two_days = msgspec.structs.replace(
        EDITION, days=(*EDITION.days, msgspec.structs.replace(
            EDITION.days[0], day=DAY + dt.timedelta(days=1))),
    )  # fmt: skip
    room = two_days.rooms[1].id
    after = apply_scenario(two_days, Scenario(name="x", closed=(Closure(room=room, day=DAY),)))
    windows = {r.id: r for r in after.rooms}[room].availability
    assert windows is not None and [w.day for w in windows] == [DAY + dt.timedelta(days=1)]


def test_someone_absent_leaves_their_sessions_which_go_on() -> None:
    person = next(s for s in EDITION.sessions if s.speakers).speakers[0]
    after = apply_scenario(EDITION, Scenario(name="x", absent=(Absence(person=person),)))
    assert person not in {p.id for p in after.people}
    assert all(person not in s.speakers + s.moderators for s in after.sessions)
    assert len(after.sessions) == len(EDITION.sessions)


def test_someone_absent_one_day_is_unavailable_that_day() -> None:
    person = EDITION.people[0].id
    after = apply_scenario(EDITION, Scenario(name="x", absent=(Absence(person=person, day=DAY),)))
    moved = {p.id: p for p in after.people}[person]
    assert [w.day for w in moved.unavailable][-1] == DAY
    assert (moved.unavailable[-1].start, moved.unavailable[-1].end) == (
        EDITION.days[0].open,
        EDITION.days[0].close,
    )


def test_policies_are_merged_into_the_editions_own() -> None:
    after = apply_scenario(EDITION, Scenario(name="x", policies={
        "parity": {"women_min_share": 0.5}}))  # fmt: skip
    assert after.policies.parity.women_min_share == 0.5
    assert after.policies.parity.hard == EDITION.policies.parity.hard
    assert after.policies.tracks == EDITION.policies.tracks


def test_a_scenario_naming_what_the_edition_lacks_is_refused_with_its_paths() -> None:
    wrong = Scenario(name="x", closed=(Closure(room="nowhere"),),
                     absent=(Absence(person=EDITION.people[0].id, day=dt.date(1999, 1, 1)),),
                     policies={"parity": {"women_min_share": "half"}})  # fmt: skip
    with pytest.raises(InvalidCommand) as refused:
        apply_scenario(EDITION, wrong, "scenario[2]")
    assert {(p.path, p.code) for p in refused.value.problems} == {
        ("scenario[2].policies", "scenario_bad_policies"),
        ("scenario[2].closed[0].room", "unknown_room"),
        ("scenario[2].absent[0].day", "scenario_unknown_day"),
    }


def test_a_sweep_file_is_read_and_its_mistakes_named() -> None:
    command, found = sweep_of({"time_limit": 7, "scenario": [
        {"name": "a"}, {"name": "b", "closed": [{"room": "r"}]}]})  # fmt: skip
    assert command.time_limit == 7 and [s.name for s in found] == ["a", "b"]
    with pytest.raises(InvalidCommand) as refused:
        scenarios_of([{"name": "a"}, {"name": "a"}, {"name": "c", "colour": "red"}])
    assert [(p.path, p.code) for p in refused.value.problems] == [
        ("scenario[1].name", "scenario_repeated"),
        ("scenario[2]", "scenario_bad"),
    ]
    with pytest.raises(InvalidCommand) as refused:
        sweep_of({"scenario": []})
    assert [p.code for p in refused.value.problems] == ["scenario_none"]
    with pytest.raises(InvalidCommand):
        sweep_of({"time_limit": -1, "scenario": [{"name": "a"}]})


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    rooms = [r.id for r in EDITION.rooms]
    people = [p.id for p in EDITION.people]
    closed = draw(st.lists(st.sampled_from(rooms), max_size=2, unique=True))
    absent = draw(st.lists(st.sampled_from(people), max_size=3, unique=True))
    one_day = draw(st.booleans())
    policies: dict[str, Any] = {}
    if draw(st.booleans()):
        policies = {"parity": {"women_min_share": draw(st.sampled_from([0.3, 0.4, 0.5])),
                               "hard": draw(st.booleans())}}  # fmt: skip
    return Scenario(
        name="random", policies=policies,
        closed=tuple(Closure(room=r, day=DAY if one_day else None) for r in closed),
        absent=tuple(Absence(person=p, day=DAY if one_day else None) for p in absent),
    )  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_schedule_solved_under_a_scenario_passes_the_validator_on_its_variant(
    scenario: Scenario,
) -> None:
    """The variant is a valid edition, the edition itself unchanged; whatever the solver
    returns for it passes the independent validator, which reads the variant as a
    document; an infeasible variant is explained."""
    before = msgspec.json.encode(EDITION)
    variant = apply_scenario(EDITION, scenario)
    assert msgspec.json.encode(EDITION) == before
    assert validate_snapshot(variant) == []
    problem = derive_problem(variant)
    params = SolveParameters(time_limit=10, workers=1, seed=0)
    document = schedule_document(problem, CpSatSolver().solve(problem, params), params,
                                 edition=variant)  # fmt: skip
    if document.status in ("optimal", "feasible"):
        assert_valid(variant, document)
    else:
        assert document.status == "infeasible" and document.explanation
