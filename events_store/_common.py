"""What every backend shares: sealing a batch into a hash chain, catch-up, verification."""

from __future__ import annotations

import abc
import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from creneau.events_store._cipher import AES_GCM
from creneau.scheduler._envelope import (
    CANONICAL_ENCODER,
    ChainBreak,
    ChainCheck,
    NewEvent,
    RecordedEvent,
)
from creneau.scheduler._errors import DuplicateEventError, StoreError


def refuse_repeated_ids(events: Sequence[NewEvent]) -> None:
    """A batch that names one event id twice would store it twice: refuse it whole."""
    seen = set()
    for e in events:
        if e.event_id in seen:
            raise DuplicateEventError(str(e.event_id))
        seen.add(e.event_id)


_canonical = CANONICAL_ENCODER.encode


def seal(
    stream_id: str,
    events: Sequence[NewEvent],
    expected_version: int,
    prev_hash: str,
    first_position: int,
) -> tuple[list[RecordedEvent], list[tuple[bytes, bytes]]]:
    """Give each new event its version, position and chained hash.

    Returns the recorded events, and beside each its id's 16 bytes and its raw digest,
    for a store that keeps those rather than their text forms.
    """
    sealed: list[RecordedEvent] = []
    raw: list[tuple[bytes, bytes]] = []
    # Local names and one pass: this loop is the hot path of every append. The canonical
    # record is built as a plain tuple: msgspec encodes it to the very array a
    # CanonicalRecord gives (the chain verification recomputes it that way), for less.
    sha256, encode, recorded = hashlib.sha256, _canonical, RecordedEvent
    keep, keep_raw = sealed.append, raw.append
    version, position = expected_version, first_position - 1
    for e in events:
        version += 1
        position += 1
        m, event_id, type_, schema, payload = (
            e.metadata,
            e.event_id,
            e.type,
            e.schema_version,
            e.payload,
        )
        digest = sha256(encode((
            prev_hash, event_id, stream_id, version, type_, schema, m.actor, m.recorded_at,
            m.correlation_id, m.causation_id, payload,
        ))).digest()  # fmt: skip
        hex_digest = digest.hex()
        keep(recorded(
            event_id=event_id, stream_id=stream_id, version=version, position=position,
            type=type_, schema_version=schema, payload=payload, metadata=m, prev_hash=prev_hash,
            hash=hex_digest,
        ))  # fmt: skip
        keep_raw((event_id.int.to_bytes(16), digest))  # the 16 bytes, without UUID.bytes
        prev_hash = hex_digest
    return sealed, raw


def is_retry(
    stream_id: str,
    events: Sequence[NewEvent],
    stored: Sequence[RecordedEvent],
) -> bool:
    """Whether ``stored`` (what the store holds under the batch's event ids) is this very
    batch, already appended to this stream in this order: a retry after a lost answer."""
    if len(stored) != len(events):
        return False
    by_id = {e.event_id: e for e in stored}
    ordered = [by_id.get(e.event_id) for e in events]
    if any(e is None or e.stream_id != stream_id for e in ordered):
        return False
    versions = [e.version for e in ordered if e is not None]
    return versions == list(range(versions[0], versions[0] + len(versions)))


class StoreReadMixin(abc.ABC):
    """What every backend derives from its own ``read_all``, ``read_stream`` and
    ``streams``: catch-up subscriptions and chain verification; and the cipher of the
    personal fields whose keys it keeps."""

    cipher = AES_GCM

    @abc.abstractmethod
    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]: ...

    @abc.abstractmethod
    def read_stream(self, stream_id: str, from_version: int = 1) -> Iterator[RecordedEvent]: ...

    @abc.abstractmethod
    def streams(self) -> list[str]: ...

    def subscribe(
        self,
        after_position: int = 0,
        *,
        stop: threading.Event | None = None,
        poll_interval: float = 0.05,
        idle_timeout: float | None = None,
    ) -> Iterator[RecordedEvent]:
        return catch_up(self.read_all, after_position, stop, poll_interval, idle_timeout)

    def verify(self) -> ChainBreak | None:
        """Every event in global order, read back and checked: the first break, or the
        first position the store cannot give back."""
        check = ChainCheck()
        position = 0
        while True:
            try:
                chunk = list(self.read_all(position, VERIFY_CHUNK))
            except StoreError as exc:
                return self._unreadable(position, exc)
            if not chunk:
                return None
            for e in chunk:
                broken = check.check(e)
                if broken is not None:
                    return broken
            position = chunk[-1].position

    def _unreadable(self, position: int, exc: StoreError) -> ChainBreak:
        """The first position after ``position`` that cannot be read, one at a time."""
        while True:
            try:
                found = list(self.read_all(position, 1))
            except StoreError as again:
                detail = str(again.params.get("detail", again.code))
                return ChainBreak(stream_id=str(again.params.get("stream", "?")), version=0,
                                  position=position + 1, event_id=None, reason="unreadable",
                                  detail=detail)  # fmt: skip
            if not found:  # readable one at a time after all: name where it failed
                detail = str(exc.params.get("detail", exc.code))
                return ChainBreak(stream_id="?", version=0, position=position + 1,
                                  event_id=None, reason="unreadable", detail=detail)  # fmt: skip
            position = found[-1].position


VERIFY_CHUNK = 1000


def catch_up(
    read_all: Callable[[int, int | None], Iterator[RecordedEvent]],
    after_position: int,
    stop: threading.Event | None,
    poll_interval: float,
    idle_timeout: float | None,
    wait: Callable[[float], None] | None = None,
) -> Iterator[RecordedEvent]:
    """Read everything after ``after_position``, then wait for more and read again.

    ``wait(seconds)`` returns when there may be more (a notification) or when the time is
    up; by default it simply sleeps, which makes this a poll."""
    position = after_position
    idle_since = time.monotonic()
    while stop is None or not stop.is_set():
        got = False
        for event in read_all(position, 1000):
            got = True
            position = event.position
            yield event
        if got:
            idle_since = time.monotonic()
            continue
        if idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout:
            return
        pause = poll_interval if idle_timeout is None else min(poll_interval, idle_timeout)
        if wait is not None:
            wait(pause)
        elif stop is not None:
            stop.wait(pause)
        else:
            time.sleep(pause)
