"""An in-memory event store: for tests, and for embedding when nothing must outlive the process."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence

from creneau.events_store._common import StoreReadMixin, is_retry, refuse_repeated_ids, seal
from creneau.scheduler._envelope import GENESIS_HASH, NewEvent, RecordedEvent, SubjectKey
from creneau.scheduler._errors import ConcurrencyError, DuplicateEventError

__all__ = ["MemoryEventStore"]


class MemoryEventStore(StoreReadMixin):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._ids: dict[uuid.UUID, RecordedEvent] = {}
        self._views: dict[str, tuple[int, dict[str, bytes]]] = {}
        self._keys: dict[str, SubjectKey] = {}

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int,
        keys: Sequence[SubjectKey] = (),
    ) -> list[RecordedEvent]:
        refuse_repeated_ids(events)
        with self._lock:
            stream = self._streams.get(stream_id, [])
            stored = [self._ids[e.event_id] for e in events if e.event_id in self._ids]
            if stored:
                if is_retry(stream_id, events, stored):
                    return stored
                raise DuplicateEventError(str(stored[0].event_id))
            if len(stream) != expected_version:
                raise ConcurrencyError(stream_id, expected_version, len(stream))
            if not events:
                return []
            prev = stream[-1].hash if stream else GENESIS_HASH
            sealed, _ = seal(stream_id, events, expected_version, prev, len(self._all) + 1)
            for k in keys:
                self._keys.setdefault(k.subject, k)
            self._streams.setdefault(stream_id, []).extend(sealed)
            self._all.extend(sealed)
            self._ids.update((e.event_id, e) for e in sealed)
            return sealed

    def subject_keys(self, subjects: Sequence[str]) -> dict[str, bytes]:
        with self._lock:
            return {s: self._keys[s].key for s in subjects if s in self._keys}

    def edition_keys(self, edition: str) -> list[SubjectKey]:
        with self._lock:
            return [k for k in self._keys.values() if k.edition == edition]

    def subjects_for(self, edition: str, lookup: bytes) -> list[str]:
        with self._lock:
            return [k.subject for k in self._keys.values()
                    if k.edition == edition and k.lookup == lookup]  # fmt: skip

    def erase_subjects(self, subjects: Sequence[str]) -> int:
        with self._lock:
            return sum(self._keys.pop(s, None) is not None for s in subjects)

    def compact(self) -> None:
        pass  # nothing of what is deleted stays in memory the store holds

    def stream_version(self, stream_id: str) -> int:
        with self._lock:
            return len(self._streams.get(stream_id, ()))

    def read_stream(self, stream_id: str, from_version: int = 1) -> Iterator[RecordedEvent]:
        with self._lock:
            chunk = self._streams.get(stream_id, [])[max(from_version, 1) - 1 :]
        return iter(chunk)

    def read_payloads(
        self, stream_id: str, from_version: int = 1
    ) -> Iterator[tuple[int, str, int, bytes, bytes]]:
        for e in self.read_stream(stream_id, from_version):
            yield e.version, e.type, e.schema_version, e.payload, e.event_id.bytes

    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]:
        with self._lock:
            end = None if limit is None else after_position + limit
            chunk = self._all[after_position:end]
        return iter(chunk)

    def streams(self) -> list[str]:
        with self._lock:
            return list(self._streams)

    def view_position(self, view: str) -> int:
        with self._lock:
            return self._views.get(view, (0, {}))[0]

    def read_view(self, view: str, prefix: str = "") -> Iterator[tuple[str, bytes]]:
        with self._lock:
            rows = self._views.get(view, (0, {}))[1]
            found = sorted((k, v) for k, v in rows.items() if k.startswith(prefix))
        return iter(found)

    def read_view_row(self, view: str, key: str) -> bytes | None:
        with self._lock:
            return self._views.get(view, (0, {}))[1].get(key)

    def write_view(
        self, view: str, expected: int, position: int, rows: Mapping[str, bytes | None]
    ) -> bool:
        with self._lock:
            current, kept = self._views.get(view, (0, {}))
            if current != expected:
                return False
            new = dict(kept)
            for key, data in rows.items():
                if data is None:
                    new.pop(key, None)
                else:
                    new[key] = data
            self._views[view] = (position, new)
            return True

    def drop_view(self, view: str) -> None:
        with self._lock:
            self._views.pop(view, None)

    def close(self) -> None:
        pass
