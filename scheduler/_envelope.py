"""The storage-neutral envelope of an event, its hash chain, and chain verification."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import threading
import time
import uuid
from collections.abc import Iterable

import msgspec

__all__ = [
    "GENESIS_HASH",
    "CanonicalRecord",
    "ChainBreak",
    "Metadata",
    "NewEvent",
    "RecordedEvent",
    "canonical_bytes",
    "chain_hash",
    "format_time",
    "new_event_id",
    "verify_chain",
]

GENESIS_HASH = "0" * 64


_id_lock = threading.Lock()
_last_id = 0


def new_event_id() -> uuid.UUID:
    """A time-ordered UUID (version 7 layout, RFC 9562), strictly increasing in a process.

    Ids that grow with time land at the end of the store's unique index instead of at
    random places in it, which keeps appends fast as the store grows. The random bits
    come from ``random``, which reseeds itself in a forked child: ids need to be unique,
    not secret.
    """
    global _last_id
    with _id_lock:
        # 48 bits of Unix milliseconds, then 74 random bits; one more than the last id
        # when the clock has not moved on (or went back).
        key = (time.time_ns() // 1_000_000) << 74 | random.getrandbits(74)
        key = max(key, _last_id + 1)
        _last_id = key
    millis, rand_a, rand_b = key >> 74, (key >> 62) & 0xFFF, key & ((1 << 62) - 1)
    value = millis << 80 | 0x7 << 76 | rand_a << 64 | 0x2 << 62 | rand_b
    return uuid.UUID(int=value)


def format_time(moment: dt.datetime) -> str:
    """The one textual form of a UTC instant that goes into hashes and storage."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# gc=False: envelopes hold only scalars, bytes and other envelopes, so they cannot form
# reference cycles; left out of the garbage collector, a batch of thousands of them
# costs no collection passes.
class Metadata(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    actor: str
    recorded_at: str  # format_time() of a UTC instant: the hashed text, kept as written
    correlation_id: str
    causation_id: str | None = None

    @property
    def time(self) -> dt.datetime:
        return dt.datetime.strptime(self.recorded_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=dt.UTC
        )


class NewEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An event about to be appended: the store gives it a version, a position and hashes."""

    event_id: uuid.UUID
    type: str
    schema_version: int
    payload: bytes
    metadata: Metadata


class RecordedEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    event_id: uuid.UUID
    stream_id: str
    version: int
    position: int
    type: str
    schema_version: int
    payload: bytes
    metadata: Metadata
    prev_hash: str
    hash: str


class CanonicalRecord(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """The canonical form of an event, the bytes its hash is taken over: a MessagePack
    array of these fields, in this order. A store may keep these very bytes.

    The global position is left out on purpose: it is the store's bookkeeping, not
    part of what happened, and a server store may only learn it at commit.
    """

    prev_hash: str
    event_id: uuid.UUID  # encoded as its 16 bytes (``uuid_format="bytes"``)
    stream_id: str
    version: int
    type: str
    schema_version: int
    actor: str
    recorded_at: str
    correlation_id: str
    causation_id: str | None
    payload: bytes


CANONICAL_ENCODER = msgspec.msgpack.Encoder(uuid_format="bytes")
_canonical = CANONICAL_ENCODER


def canonical_bytes(
    prev_hash: str,
    event_id: uuid.UUID,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    payload: bytes,
    metadata: Metadata,
) -> bytes:
    return _canonical.encode(
        CanonicalRecord(
            prev_hash, event_id, stream_id, version, type, schema_version,
            metadata.actor, metadata.recorded_at, metadata.correlation_id,
            metadata.causation_id, payload,
        )
    )  # fmt: skip


def chain_hash(
    prev_hash: str,
    event_id: uuid.UUID,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    payload: bytes,
    metadata: Metadata,
) -> str:
    """SHA-256 over the canonical bytes of an event, chained to its predecessor's hash."""
    record = canonical_bytes(
        prev_hash, event_id, stream_id, version, type, schema_version, payload, metadata
    )
    return hashlib.sha256(record).hexdigest()


class ChainBreak(msgspec.Struct, frozen=True, kw_only=True):
    """The first event of a stream whose chain does not hold, and why."""

    stream_id: str
    version: int
    position: int
    event_id: uuid.UUID
    reason: str

    def __str__(self) -> str:
        return (
            f'stream "{self.stream_id}" version {self.version} (position {self.position}, '
            f"event {self.event_id}): {self.reason}"
        )


def verify_chain(events: Iterable[RecordedEvent]) -> ChainBreak | None:
    """Check one stream's events, in version order; return the first break, if any."""
    expected_prev = GENESIS_HASH
    expected_version = 1
    for e in events:

        def broken(reason: str, e: RecordedEvent = e) -> ChainBreak:
            return ChainBreak(
                stream_id=e.stream_id,
                version=e.version,
                position=e.position,
                event_id=e.event_id,
                reason=reason,
            )

        if e.version != expected_version:
            return broken(f"version {expected_version} was expected: the stream has a gap")
        if e.prev_hash != expected_prev:
            return broken("its previous-hash does not match the hash of the event before it")
        actual = chain_hash(
            e.prev_hash,
            e.event_id,
            e.stream_id,
            e.version,
            e.type,
            e.schema_version,
            e.payload,
            e.metadata,
        )
        if actual != e.hash:
            return broken(
                "its content does not match its hash: it was altered after being recorded"
            )
        expected_prev = e.hash
        expected_version += 1
    return None
