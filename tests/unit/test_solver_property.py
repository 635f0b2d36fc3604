"""Random small editions (parity, moderators and audience tracks included): every
schedule the solver returns passes the independent checker; every edition it declares
infeasible is explained, and lifting the rules the explanation names makes it
solvable."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scheduler import (
    After,
    Break,
    Day,
    EditionSnapshot,
    Fixed,
    Parity,
    Person,
    Policies,
    Room,
    Session,
    SolveParameters,
    Track,
    Travel,
    Venue,
    check_schedule,
    derive_problem,
    schedule_document,
    validate_snapshot,
)
from solver import CpSatSolver, relaxed_is_feasible
from tests.solver_editions import D1, D2, window


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def rarely(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """``strategy`` one time in four, None otherwise: editions stay mostly solvable."""
    return st.integers(0, 3).flatmap(lambda k: strategy if k == 0 else st.none())


@st.composite
def editions(draw: st.DrawFn) -> EditionSnapshot:
    n_days = draw(st.integers(1, 2))
    dates = [D1, D2][:n_days]
    days = []
    for d in dates:
        close = draw(st.sampled_from([660, 690, 720, 780]))
        breaks = (Break(start="11:00", end="11:30"),) if draw(st.booleans()) and close > 700 else ()
        days.append(Day(day=d, open="09:00", close=clock(close), breaks=breaks))

    def a_window() -> st.SearchStrategy:
        return st.builds(
            lambda d, s, length: window(clock(s), clock(min(s + length, 780)), d),
            st.sampled_from(dates),
            st.sampled_from(range(540, 720, 15)),
            st.sampled_from([60, 90, 120, 180]),
        )

    two_venues = draw(st.booleans())
    venues = (Venue(id="v1"), Venue(id="v2")) if two_venues else ()
    rooms = [
        Room(id=f"r{i}", capacity=draw(st.integers(10, 100)),
             reserve=draw(st.sampled_from([0, 10])),
             features=tuple(draw(st.lists(st.sampled_from(["stage", "tables"]), unique=True))),
             concurrent=draw(st.sampled_from([1, 1, 2])),
             changeover=draw(st.sampled_from([None, 0, 10])),
             availability=draw(rarely(a_window().map(lambda w: (w,)))),
             venue=(f"v{1 + i % 2}" if two_venues else None))
        for i in range(draw(st.integers(1, 3)))
    ]  # fmt: skip
    people = [
        Person(id=f"p{i}", available=draw(rarely(a_window().map(lambda w: (w,)))),
               max_per_day=draw(st.none() | st.integers(1, 2)),
               gender=draw(st.sampled_from(["woman", "man", "man", "nonbinary", "undisclosed"])),
               can_moderate=draw(st.booleans()))
        for i in range(draw(st.integers(1, 5)))
    ]  # fmt: skip
    sessions = []
    for i in range(draw(st.integers(1, 5))):
        earlier = [f"s{j}" for j in range(i)]
        sessions.append(Session(
            id=f"s{i}", duration=draw(st.sampled_from([30, 45, 60, 90])),
            format=draw(st.sampled_from(["workshop", "workshop", "plenary"])),
            audiences=draw(st.sampled_from([None, ("professionals",), ("general_public",)])),
            speakers=tuple(draw(st.lists(st.sampled_from([p.id for p in people]), unique=True,
                                         max_size=2))),
            requires=tuple(draw(st.lists(st.sampled_from(["stage", "tables"]), unique=True,
                                         max_size=1))),
            needs_moderator=draw(st.sampled_from([False, False, True])),
            attendance=draw(st.integers(0, 80)),
            occurrences=draw(st.sampled_from([1, 1, 2])),
            windows=draw(rarely(a_window().map(lambda w: (w,)))),
            fixed=draw(rarely(st.builds(
                Fixed, day=st.sampled_from(dates),
                start=st.sampled_from(range(540, 690, 15)).map(clock)))),
            optional=draw(st.sampled_from([False, False, True])),
            after=tuple(draw(st.lists(st.builds(After, session=st.sampled_from(earlier),
                                                min_gap=st.sampled_from([0, 15]),
                                                same_day=st.booleans()),
                                      max_size=1, unique_by=lambda a: a.session)))
            if earlier else (),
            not_parallel=tuple(draw(st.lists(st.sampled_from(earlier), unique=True,
                                             max_size=1))) if earlier else (),
        ))  # fmt: skip
    policies = Policies(
        speaker_gap=draw(st.sampled_from([0, 15])), changeover=draw(st.sampled_from([0, 10])),
        parity=Parity(women_min_share=draw(st.sampled_from([0.0, 0.0, 0.3, 0.5])),
                      no_all_male_panels=draw(st.booleans()), hard=draw(st.booleans())),
        tracks=tuple(draw(rarely(st.builds(
            lambda audience, w, low, high: (Track(audience=audience, windows=(w,),
                                                  min_parallel=low, max_parallel=high),),
            st.sampled_from(["professionals", "general_public"]), a_window(),
            st.sampled_from([0, 1]), st.sampled_from([None, 1, 2])))) or ()),
    )  # fmt: skip
    travel = (
        (Travel(from_="v1", to="v2", minutes=draw(st.sampled_from([5, 20]))),) if two_venues else ()
    )
    return EditionSnapshot(
        id="random", days=tuple(days), venues=venues, travel=travel, rooms=tuple(rooms),
        people=tuple(people),
        sessions=tuple(s.resolved(("professionals", "general_public")) for s in sessions),
        policies=policies,
    )  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ed=editions())
def test_every_schedule_passes_the_checker_and_every_refusal_is_explained(
    ed: EditionSnapshot,
) -> None:
    assume(validate_snapshot(ed) == [])
    problem = derive_problem(ed)
    params = SolveParameters(time_limit=10, workers=1, seed=3)
    result = CpSatSolver().solve(problem, params)
    if result.status in ("optimal", "feasible"):
        document = schedule_document(problem, result, params)
        assert check_schedule(ed, document.assignments) == []
        placed = {(p.session, p.occurrence) for p in document.assignments}
        for s in ed.sessions:
            if not s.optional:
                assert all((s.id, k) in placed for k in range(1, s.occurrences + 1))
    elif result.status == "infeasible":
        assert result.conflicts
        assert all(c.message for c in result.conflicts)
        lifted = [(c.rule, c.subject) for c in result.conflicts]
        assert relaxed_is_feasible(problem, lifted)
