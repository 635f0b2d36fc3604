"""The contract every event store backend passes. A backend's test module subclasses
``EventStoreContract`` and supplies ``make_store``; nothing else."""

from __future__ import annotations

import abc
import itertools
import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creneau.scheduler import (
    ConcurrencyError,
    DuplicateEventError,
    EventStore,
    RecordedEvent,
    verify_chain,
)
from creneau.scheduler._envelope import GENESIS_HASH
from tests.strategies import batch, new_event
from tests.tampering import tamper


class EventStoreContract(abc.ABC):
    @abc.abstractmethod
    def make_store(self, tmp_path: Path, name: str = "store") -> Any:
        """A new, empty store: supplied by each backend's test module."""

    def second_handle(self, store: Any, tmp_path: Path) -> Any:
        """Another handle on the same store, as a second writer would have."""
        return store

    @pytest.fixture
    def store(self, tmp_path: Path) -> Any:
        s = self.make_store(tmp_path)
        yield s
        s.close()

    def test_satisfies_the_port(self, store: Any) -> None:
        assert isinstance(store, EventStore)

    def test_append_gives_versions_positions_and_a_hash_chain(self, store: Any) -> None:
        first = store.append("s", batch(3), 0)
        more = store.append("s", batch(2, 3), 3)
        events = list(store.read_stream("s"))
        assert [e.version for e in events] == [1, 2, 3, 4, 5]
        assert events == first + more
        assert [e.position for e in events] == sorted({e.position for e in events})
        assert events[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
        assert verify_chain(events) is None
        assert store.stream_version("s") == 5

    def test_round_trips_every_field(self, store: Any) -> None:
        sent = new_event(payload="é\u0000\xff".encode())
        (got,) = store.append("s", [sent], 0)
        (read,) = store.read_stream("s")
        assert read == got
        for field in ("event_id", "type", "schema_version", "payload", "metadata"):
            assert getattr(read, field) == getattr(sent, field)

    def test_stale_expected_version_raises_and_writes_nothing(self, store: Any) -> None:
        store.append("s", batch(2), 0)
        with pytest.raises(ConcurrencyError) as info:
            store.append("s", batch(3, 2), 1)
        assert (info.value.expected, info.value.actual) == (1, 2)
        assert store.stream_version("s") == 2
        assert len(list(store.read_all())) == 2

    def test_expected_version_ahead_of_the_stream_raises(self, store: Any) -> None:
        with pytest.raises(ConcurrencyError):
            store.append("new", batch(1), 1)
        assert store.stream_version("new") == 0

    def test_read_stream_from_a_version(self, store: Any) -> None:
        store.append("s", batch(5), 0)
        assert [e.version for e in store.read_stream("s", 3)] == [3, 4, 5]
        assert list(store.read_stream("missing")) == []

    def test_read_all_in_global_order_across_streams(self, store: Any) -> None:
        store.append("a", batch(2), 0)
        store.append("b", batch(2), 0)
        store.append("a", batch(1, 2), 2)
        everything = list(store.read_all())
        assert [(e.stream_id, e.version) for e in everything] == [
            ("a", 1),
            ("a", 2),
            ("b", 1),
            ("b", 2),
            ("a", 3),
        ]
        after = list(store.read_all(everything[1].position, limit=2))
        assert after == everything[2:4]
        assert store.streams() == ["a", "b"]

    # Small and large batches: a backend may store their event ids differently.
    @pytest.mark.parametrize("size", [3, 40])
    def test_retried_batch_is_not_stored_twice(self, store: Any, size: int) -> None:
        store.append("other", batch(2), 0)
        events = batch(size)
        first = store.append("s", events, 0)
        again = store.append("s", events, 0)
        assert again == first
        assert [e.position for e in again] == list(range(3, size + 3))
        assert store.stream_version("s") == size
        assert len(list(store.read_all())) == size + 2

    @pytest.mark.parametrize("size", [3, 40])
    def test_event_id_stored_elsewhere_is_refused(self, store: Any, size: int) -> None:
        events = batch(size)
        store.append("a", events, 0)
        with pytest.raises(DuplicateEventError):
            store.append("b", [*batch(size - 1), events[0]], 0)
        with pytest.raises(DuplicateEventError):
            store.append("a", [*batch(size // 2), events[1], *batch(size // 2)], size)
        assert store.stream_version("b") == 0
        assert store.stream_version("a") == size
        assert list(store.read_all()) == list(store.read_stream("a"))

    @pytest.mark.parametrize("size", [3, 40])
    def test_batch_with_an_id_twice_is_refused_whole(self, store: Any, size: int) -> None:
        e = new_event()
        with pytest.raises(DuplicateEventError):
            store.append("s", [*batch(size - 2), e, e], 0)
        assert store.stream_version("s") == 0
        assert list(store.read_all()) == []

    def test_empty_batch_writes_nothing(self, store: Any) -> None:
        assert store.append("s", [], 0) == []
        assert store.streams() == []

    def test_verify_finds_an_altered_payload(self, store: Any) -> None:
        store.append("a", batch(3), 0)
        store.append("b", batch(3), 0)
        assert store.verify() is None
        victim = list(store.read_stream("b"))[1]
        altered = victim.payload.replace(b"1", b"7")
        assert altered != victim.payload
        tamper(store, victim.position, altered)
        broken = store.verify()
        assert broken is not None
        assert (broken.stream_id, broken.version, broken.event_id) == ("b", 2, victim.event_id)

    def test_subscription_catches_up_then_follows(self, store: Any) -> None:
        store.append("s", batch(3), 0)
        stop = threading.Event()
        seen: list[RecordedEvent] = []

        def follow() -> None:
            for event in store.subscribe(1, stop=stop, poll_interval=0.01):
                seen.append(event)
                if len(seen) == 4:
                    stop.set()

        reader = threading.Thread(target=follow)
        reader.start()
        store.append("t", batch(2), 0)
        reader.join(timeout=10)
        assert not reader.is_alive()
        assert [(e.stream_id, e.version) for e in seen] == [("s", 2), ("s", 3), ("t", 1), ("t", 2)]

    def test_subscription_ends_after_idle_timeout(self, store: Any) -> None:
        store.append("s", batch(2), 0)
        got = list(store.subscribe(0, poll_interval=0.01, idle_timeout=0.05))
        assert len(got) == 2

    def test_two_writers_with_one_expected_version(self, store: Any, tmp_path: Path) -> None:
        other = self.second_handle(store, tmp_path)
        store.append("s", batch(1), 0)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def write(handle: Any, n: int) -> None:
            barrier.wait()
            try:
                handle.append("s", batch(2, n), 1)
                outcomes.append("won")
            except ConcurrencyError:
                outcomes.append("conflict")

        threads = [
            threading.Thread(target=write, args=(h, n)) for h, n in ((store, 10), (other, 20))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["conflict", "won"]
        events = list(store.read_stream("s"))
        assert [e.version for e in events] == [1, 2, 3]
        assert len({e.event_id for e in events}) == 3
        assert store.verify() is None
        if other is not store:
            other.close()

    def test_single_appends_from_two_handles_interleave(self, store: Any, tmp_path: Path) -> None:
        other = self.second_handle(store, tmp_path)
        store.append("s", [new_event(1)], 0)
        store.append("s", [new_event(2)], 1)
        other.append("s", [new_event(3)], 2)
        with pytest.raises(ConcurrencyError):
            store.append("s", [new_event(4)], 2)  # this handle's idea of the head is stale
        store.append("s", [new_event(5)], 3)
        other.append("s", [new_event(6)], 4)
        events = list(store.read_stream("s"))
        assert [e.version for e in events] == [1, 2, 3, 4, 5]
        assert [e.payload for e in events] == [b'{"n":%d}' % n for n in (1, 2, 3, 5, 6)]
        assert store.verify() is None
        if other is not store:
            other.close()

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        ops=st.lists(
            st.tuples(st.sampled_from("abc"), st.integers(0, 3), st.integers(-1, 1)), max_size=25
        )
    )
    def test_behaves_like_a_list_per_stream(self, tmp_path_factory: Any, ops: Any) -> None:
        store = self.make_store(tmp_path_factory.mktemp("prop"))
        model: dict[str, list[bytes]] = {}
        try:
            for stream, size, skew in ops:
                current = model.setdefault(stream, [])
                events = batch(size, len(current))
                try:
                    store.append(stream, events, len(current) + skew)
                except ConcurrencyError:
                    assert skew != 0
                    continue
                assert skew == 0
                current += [e.payload for e in events]
            for stream, payloads in model.items():
                assert [e.payload for e in store.read_stream(stream)] == payloads
            assert [e.position for e in store.read_all()] == list(
                range(1, sum(map(len, model.values())) + 1)
            )
            assert store.verify() is None
        finally:
            store.close()

    # -- views -------------------------------------------------------------------------

    def test_a_view_keeps_its_rows_and_position_together(self, store: Any) -> None:
        assert store.view_position("v") == 0 and list(store.read_view("v")) == []
        assert store.write_view("v", 0, 3, {"a/1": b"x", "a/2": b"y", "b/1": b"z"})
        assert store.view_position("v") == 3
        assert list(store.read_view("v", "a/")) == [("a/1", b"x"), ("a/2", b"y")]
        assert store.read_view_row("v", "b/1") == b"z" and store.read_view_row("v", "c") is None
        # Rows change and go in the same write as the position.
        assert store.write_view("v", 3, 7, {"a/1": None, "a/2": b"y2"})
        assert list(store.read_view("v")) == [("a/2", b"y2"), ("b/1", b"z")]
        assert store.view_position("v") == 7
        assert list(store.read_view("w")) == [] and store.view_position("w") == 0

    def test_a_follower_behind_cannot_overwrite_a_view(self, store: Any, tmp_path: Path) -> None:
        other = self.second_handle(store, tmp_path)
        assert store.write_view("v", 0, 5, {"k": b"first"})
        assert not other.write_view("v", 0, 4, {"k": b"stale"})  # it read position 0
        assert store.read_view_row("v", "k") == b"first" and store.view_position("v") == 5
        if other is not store:
            other.close()

    def test_a_dropped_view_starts_again(self, store: Any) -> None:
        assert store.write_view("v", 0, 9, {"k": b"x"})
        store.drop_view("v")
        assert store.view_position("v") == 0 and list(store.read_view("v")) == []
        assert store.write_view("v", 0, 2, {"k": b"y"})

    def test_keys_go_in_with_their_events_and_are_destroyed_on_request(self, store: Any) -> None:
        import os

        from creneau.scheduler._envelope import SubjectKey, new_event_id

        def key(edition: str, subject: str | None = None, at: str = "t1") -> SubjectKey:
            return SubjectKey(subject=subject or new_event_id().hex, edition=edition,
                              lookup=os.urandom(32), key=os.urandom(16), created_at=at)  # fmt: skip

        # Many at once (one statement where the store has one), odd ones, two editions.
        keys = [key("e") for _ in range(30)] + [key("e", at="t2"), key("e", "not-hex")]
        other = key("f")
        store.append("edition-e", batch(2), 0, keys)
        store.append("edition-f", batch(1), 0, [other, keys[0]])  # a key kept is kept as it is
        with pytest.raises(ConcurrencyError):  # refused: its keys are not stored either
            store.append("edition-e", batch(1), 0, [key("e", "lost")])
        held = {k.subject: (k.lookup, k.key, k.created_at) for k in store.edition_keys("e")}
        assert held == {k.subject: (k.lookup, k.key, k.created_at) for k in keys}
        assert {k.subject: k.key for k in store.edition_keys("f")} == {other.subject: other.key}
        assert store.subject_keys(["not-hex", "lost"]) == {"not-hex": keys[-1].key}
        assert store.subjects_for("e", keys[3].lookup) == [keys[3].subject]
        assert store.erase_subjects([keys[3].subject, "lost"]) == 1
        assert store.subjects_for("e", keys[3].lookup) == []
        assert keys[3].subject not in {k.subject for k in store.edition_keys("e")}
        store.compact()
        assert store.verify() is None


def payload_of(event: RecordedEvent) -> Any:
    return msgspec.json.decode(event.payload)
