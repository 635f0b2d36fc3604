"""Replaying the stored stream rebuilds exactly the state the commands built live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creneau.events_store import MemoryEventStore, SQLiteEventStore
from creneau.scheduler import (
    AddSession,
    BookPlace,
    CancelPlace,
    Command,
    EditionService,
    EditionState,
    InvalidCommand,
    RemoveRegistration,
    RemoveSession,
    Session,
    UpdateSession,
    decide,
    evolve,
    replay,
    validate_snapshot,
)
from creneau.scheduler._commands import _events_for
from tests.strategies import commands, setup


def _store(kind: str, tmp: Path) -> Any:
    return MemoryEventStore() if kind == "memory" else SQLiteEventStore(tmp / "s.db")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(commands, min_size=5, max_size=40))
def test_replay_rebuilds_the_live_state(
    kind: str, steps: list[Command], tmp_path_factory: pytest.TempPathFactory
) -> None:
    store = _store(kind, tmp_path_factory.mktemp(kind))
    service = EditionService(store, actor="tester")
    live = EditionState()
    history = [live]
    refused = 0
    for command in [*setup, *steps]:
        try:
            expected = decide(live, command)
        except InvalidCommand:
            refused += 1
            version = store.stream_version("edition-ed")
            with pytest.raises(InvalidCommand):
                service.execute(command, edition_id="ed")
            assert store.stream_version("edition-ed") == version  # nothing written
            continue
        recorded = service.execute(command, edition_id="ed")
        assert service.events_of(recorded) == expected
        for event in expected:
            live = evolve(live, event)
            history.append(live)
        assert service.load("ed") == live  # the state the service keeps after its append

    rebuilt = EditionService(store, actor="tester").load("ed")
    assert rebuilt == live
    assert rebuilt.version == store.stream_version("edition-ed")
    for version, state in enumerate(history):
        if version % 7 == 0 or version == len(history) - 1:
            assert EditionService(store, actor="tester").load("ed", at_version=version) == state
    store.close()


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(commands, min_size=5, max_size=40))
def test_incremental_validation_agrees_with_the_full_check(steps: list[Command]) -> None:
    """decide() checks only what a command touched; it must refuse exactly what a check
    of the whole resulting edition refuses."""
    live = EditionState()
    for command in [*setup, *steps]:
        try:
            candidate = _events_for(live, command)
        except InvalidCommand:
            candidate = None
        whole = validate_snapshot(replay(candidate, live).snapshot()) if candidate else []
        should_refuse = candidate is None or bool(whole)
        try:
            events = decide(live, command)
        except InvalidCommand as refused:
            assert should_refuse
            if candidate:
                assert set(refused.problems) <= set(whole)
            continue
        assert not should_refuse, whole
        live = replay(events, live)
        assert_places_hold(live)


def assert_places_hold(state: EditionState) -> None:
    """Whatever the commands did to sessions and registrations, places stay sound."""
    from creneau.scheduler._places import offered

    for (session_id, occurrence, rotation), (confirmed, waiting) in state.places.items():
        holders = [*confirmed, *waiting]
        if not holders:
            continue
        assert session_id in state.sessions, "a removed session's places were cancelled"
        assert len(set(holders)) == len(holders), "nobody twice"
        assert all(a in state.registrations for a in holders), "holders are registered"
        limit = offered(state, session_id, occurrence, rotation)
        assert limit is None or len(confirmed) <= limit, "never over the places offered"
        assert not waiting or (limit is not None and len(confirmed) == limit), "no idle wait"


place_commands = st.sampled_from(
    [
        *[
            st.builds(
                BookPlace,
                attendee=st.sampled_from(["a0", "a1", "a2", "a3", "a4"]),
                session_id=st.sampled_from(["s0", "s1"]),
            )
        ]
        * 4,
        st.builds(
            CancelPlace,
            attendee=st.sampled_from(["a0", "a1", "a2", "a3", "a4"]),
            session_id=st.sampled_from(["s0", "s1"]),
        ),
        st.builds(
            UpdateSession,
            session=st.builds(
                Session,
                id=st.sampled_from(["s0", "s1"]),
                duration=st.just(30),
                capacity=st.none() | st.integers(0, 3).map(lambda n: n or None),
            ),
        ),
        st.builds(RemoveSession, session_id=st.sampled_from(["s0", "s1"])),
        st.builds(
            AddSession,
            session=st.builds(
                Session, id=st.sampled_from(["s0", "s1"]), duration=st.just(30), capacity=st.just(2)
            ),
        ),
        st.builds(RemoveRegistration, attendee=st.sampled_from(["a0", "a1", "a2"])),
    ]
).flatmap(lambda kind: kind)  # by kind first: bookings are drawn four times as often


@settings(max_examples=120, deadline=None)
@given(steps=st.lists(place_commands, min_size=5, max_size=40))
def test_places_stay_sound_and_replay_the_same(steps: list[Command]) -> None:
    service = EditionService(MemoryEventStore(), actor="tester")
    start = [
        *setup,
        *(AddSession(session=Session(id=f"s{i}", duration=30, capacity=2)) for i in range(2)),
    ]
    live = EditionState()
    for command in [*start, *steps]:
        try:
            events = decide(live, command)
        except InvalidCommand:
            continue
        service.execute(command, edition_id="ed")
        live = replay(events, live)
        assert_places_hold(live)
    assert EditionService(service.store, actor="tester").load("ed") == live
