"""The first-fit construction the solver starts from: it keeps the pairs the objective
keeps apart apart where it can, and takes a proposal only when that is worth its cost."""

from __future__ import annotations

from creneau.scheduler import Day, Policies, Registration, Room, derive_problem
from creneau.solver._construct import first_fit
from tests.solver_editions import D1, edition, session

TWO_HOURS = [Day(day=D1, open="09:00", close="11:00")]
TWO_ROOMS = [Room(id="r1", capacity=100), Room(id="r2", capacity=100)]


def chosen_together(pairs: list[tuple[str, str]], people: int) -> tuple[Registration, ...]:
    return tuple(
        Registration(attendee=f"att{a}-{b}-{i}", profile="professionals", sessions=(a, b))
        for a, b in pairs
        for i in range(people)
    )


def test_sessions_chosen_together_are_placed_apart() -> None:
    ed = edition(
        days=TWO_HOURS, rooms=TWO_ROOMS,
        sessions=[session("a", 60), session("b", 60), session("c", 60)],
        registrations=chosen_together([("a", "b")], 5),
    )  # fmt: skip
    placed, _ = first_fit(derive_problem(ed))
    starts = {sid: start for (sid, _), (start, _) in placed.items()}
    assert len(starts) == 3
    # Earliest first would put a and b side by side at 09:00, in the two rooms.
    assert starts["a"] != starts["b"]
    assert starts["c"] in (starts["a"], starts["b"])


def test_a_proposal_is_taken_only_when_it_costs_less_than_leaving_it_out() -> None:
    def placed_ids(people: int) -> set[str]:
        ed = edition(
            days=[Day(day=D1, open="09:00", close="10:00")], rooms=TWO_ROOMS,
            sessions=[session("talk", 60), session("idea", 60, optional=True, priority=2)],
            registrations=chosen_together([("talk", "idea")], people),
            policies=Policies(weights={"attendee_conflicts": 10, "proposal_priority": 50}),
        )  # fmt: skip
        placed, _ = first_fit(derive_problem(ed))
        return {sid for sid, _ in placed}

    # One hour, so the proposal runs beside the talk: 9 people × 10 < 2 × 50, 11 × 10 > 100.
    assert placed_ids(9) == {"talk", "idea"}
    assert placed_ids(11) == {"talk"}
