"""The application service decides on the state it last saw, and never trusts it blindly."""

from __future__ import annotations

from creneau.events_store import MemoryEventStore
from creneau.scheduler import AddRoom, AddSession, EditionService, Room, Session, UpdateRoom
from tests.strategies import setup


def two_services() -> tuple[EditionService, EditionService]:
    store = MemoryEventStore()
    first, second = EditionService(store, actor="tester"), EditionService(store, actor="tester")
    for command in setup:
        first.execute(command, edition_id="ed")
    second.load("ed")
    return first, second


def test_a_stale_state_is_caught_by_the_expected_version_and_retried() -> None:
    first, second = two_services()
    first.execute(AddRoom(room=Room(id="r9", capacity=10)), edition_id="ed")
    # `second` still holds the state before r9: its append fails, it reloads, it retries.
    recorded = second.execute(AddRoom(room=Room(id="r10", capacity=10)), edition_id="ed")
    assert recorded[0].version == first.store.stream_version("edition-ed")
    assert set(second.load("ed").rooms) >= {"r9", "r10"}


def test_a_refusal_on_a_stale_state_is_checked_against_the_stream() -> None:
    first, second = two_services()
    first.execute(AddRoom(room=Room(id="r9", capacity=10)), edition_id="ed")
    # Valid only with r9, which `second` has not seen yet.
    second.execute(
        AddSession(session=Session(id="s9", duration=30, rooms=("r9",))), edition_id="ed"
    )
    assert "s9" in first.load("ed").sessions


def test_a_no_op_on_a_stale_state_is_checked_against_the_stream() -> None:
    first, second = two_services()
    first.execute(UpdateRoom(room=Room(id="r0", capacity=55)), edition_id="ed")
    # For `second` (stale), capacity 100 is what r0 already has; it is not, any more.
    recorded = second.execute(UpdateRoom(room=Room(id="r0", capacity=100)), edition_id="ed")
    assert len(recorded) == 1
    assert first.load("ed").rooms["r0"].capacity == 100
