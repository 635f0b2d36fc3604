"""What every backend shares: sealing a batch into a hash chain, catch-up, verification."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence

from scheduler._envelope import ChainBreak, NewEvent, RecordedEvent, chain_hash, verify_chain
from scheduler._errors import DuplicateEventError


def refuse_repeated_ids(events: Sequence[NewEvent]) -> None:
    """A batch that names one event id twice would store it twice: refuse it whole."""
    seen = set()
    for e in events:
        if e.event_id in seen:
            raise DuplicateEventError(str(e.event_id))
        seen.add(e.event_id)


def seal(
    stream_id: str,
    events: Sequence[NewEvent],
    expected_version: int,
    prev_hash: str,
    first_position: int,
) -> list[RecordedEvent]:
    """Give each new event its version, position and chained hash."""
    sealed: list[RecordedEvent] = []
    for offset, e in enumerate(events):
        version = expected_version + 1 + offset
        digest = chain_hash(
            prev_hash,
            e.event_id,
            stream_id,
            version,
            e.type,
            e.schema_version,
            e.payload,
            e.metadata,
        )
        sealed.append(
            RecordedEvent(
                event_id=e.event_id,
                stream_id=stream_id,
                version=version,
                position=first_position + offset,
                type=e.type,
                schema_version=e.schema_version,
                payload=e.payload,
                metadata=e.metadata,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        prev_hash = digest
    return sealed


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


class StoreReadMixin:
    """What every backend derives from its own ``read_all``, ``read_stream`` and
    ``streams``: catch-up subscriptions and chain verification."""

    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]:
        raise NotImplementedError

    def read_stream(self, stream_id: str, from_version: int = 1) -> Iterator[RecordedEvent]:
        raise NotImplementedError

    def streams(self) -> list[str]:
        raise NotImplementedError

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
        return first_break(self.streams(), self.read_stream)


def catch_up(
    read_all: Callable[[int, int | None], Iterator[RecordedEvent]],
    after_position: int,
    stop: threading.Event | None,
    poll_interval: float,
    idle_timeout: float | None,
) -> Iterator[RecordedEvent]:
    """Read everything after ``after_position``, then poll for more."""
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
        if stop is not None:
            stop.wait(poll_interval)
        else:
            time.sleep(poll_interval)


def first_break(
    streams: Sequence[str], read_stream: Callable[[str], Iterator[RecordedEvent]]
) -> ChainBreak | None:
    breaks = [b for s in streams if (b := verify_chain(read_stream(s))) is not None]
    return min(breaks, key=lambda b: b.position, default=None)
