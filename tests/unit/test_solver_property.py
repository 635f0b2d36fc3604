"""Random small editions (parity, moderators, audience tracks, halls shared by several
sessions, the audience's gap included), written as documents that leave the format's
defaults unset at random: every schedule the solver returns passes the independent
validator, which reads the raw document and applies the defaults itself; every edition it
declares infeasible is explained, in words, and lifting the rules the explanation names
makes it solvable."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from creneau.adapters._i18n import words
from creneau.adapters._messages import CONFLICTS, conflict_text
from creneau.adapters.edition_document import document_bytes, parse_edition
from creneau.scheduler import (
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
from creneau.solver import CpSatSolver, relaxed_is_feasible
from tests.solver_editions import D1, D2, window
from tests.validation import findings


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
             concurrent=draw(st.sampled_from([1, 1, 2, 3])),
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
        attendee_gap=draw(st.sampled_from([0, 0, 10])),
        weights=draw(st.sampled_from([{}, {}, {"attendee_gap": 20}])),
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
        sessions=tuple(sessions), policies=policies,
    )  # fmt: skip


# Keys the format gives a default, with that default (a callable for the ones that depend
# on the entity): a document may leave each of them out.
DEFAULTS: dict[str, dict[str, Any]] = {
    "": {"granularity": 5, "audiences": ["professionals", "general_public"], "themes": [],
         "venues": [], "travel": []},
    "rooms": {"reserve": 0, "features": [], "concurrent": 1},
    "people": {"gender": "undisclosed", "unavailable": [], "preferred": [],
               "can_moderate": False},
    "sessions": {"format": "workshop", "audiences": ["professionals", "general_public"],
                 "themes": [], "speakers": [], "moderators": [], "needs_moderator": False,
                 "attendance": 0, "occurrences": 1, "requires": [], "optional": False,
                 "priority": 5, "after": [], "not_parallel": [], "preferred": [],
                 "exclusive": lambda s: s.get("format", "workshop") == "plenary"},
    "policies": {"changeover": 0, "speaker_gap": 0, "attendee_gap": 0, "tracks": [],
                 "weights": {}},
}  # fmt: skip


def without_defaults(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The document with, at random, keys that hold their default left out."""

    def strip(obj: dict[str, Any], defaults: dict[str, Any]) -> None:
        for key, default in defaults.items():
            value = default(obj) if callable(default) else default
            if key in obj and obj[key] == value and rng.random() < 0.7:
                del obj[key]

    strip(doc, DEFAULTS[""])
    for kind in ("rooms", "people", "sessions"):
        for entity in doc.get(kind, ()):
            strip(entity, DEFAULTS[kind])
    if "policies" in doc:
        strip(doc["policies"], DEFAULTS["policies"])
        parity = doc["policies"].get("parity", {})
        strip(parity, {"women_min_share": 0.0, "no_all_male_panels": True, "hard": True})
    return doc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ed=editions(), seed=st.integers(0, 2**16))
def test_every_schedule_passes_the_checker_and_every_refusal_is_explained(
    ed: EditionSnapshot, seed: int
) -> None:
    assume(validate_snapshot(ed) == [])
    raw = without_defaults(json.loads(document_bytes(ed)), random.Random(seed))
    decoded = parse_edition(json.dumps(raw).encode(), kind="json")
    assert decoded == ed  # the defaults left out are the defaults put back
    problem = derive_problem(decoded)
    params = SolveParameters(time_limit=10, workers=1, seed=3)
    result = CpSatSolver().solve(problem, params)
    if result.status in ("optimal", "feasible"):
        document = schedule_document(problem, result, params)
        assert findings(raw, document) == []
        assert check_schedule(decoded, document.assignments) == []
        placed = {(p.session, p.occurrence) for p in document.assignments}
        for s in ed.sessions:
            if not s.optional:
                assert all((s.id, k) in placed for k in range(1, s.occurrences + 1))
    elif result.status == "infeasible":
        assert result.conflicts
        w = words("en")
        assert all(c.code in CONFLICTS and conflict_text(c, w) for c in result.conflicts)
        lifted = [(c.rule, c.subject) for c in result.conflicts]
        assert relaxed_is_feasible(problem, lifted)
