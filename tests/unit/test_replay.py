"""Replaying the stored stream rebuilds exactly the state the commands built live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events_store import MemoryEventStore, SQLiteEventStore
from scheduler import (
    Command,
    EditionService,
    EditionState,
    InvalidCommand,
    decide,
    decode_event,
    evolve,
    replay,
    validate_snapshot,
)
from scheduler._commands import _events_for
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
    service = EditionService(store)
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
        assert [decode_event(r.type, r.schema_version, r.payload) for r in recorded] == expected
        for event in expected:
            live = evolve(live, event)
            history.append(live)

    rebuilt = EditionService(store).load("ed")
    assert rebuilt == live
    assert rebuilt.version == store.stream_version("edition-ed")
    for version, state in enumerate(history):
        if version % 7 == 0 or version == len(history) - 1:
            assert EditionService(store).load("ed", at_version=version) == state
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
