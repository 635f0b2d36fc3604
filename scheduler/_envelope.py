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
    "ChainCheck",
    "Metadata",
    "NewEvent",
    "RecordedEvent",
    "SubjectKey",
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


class SubjectKey(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The key that opens one data subject's personal fields, kept beside the log and
    never in it: destroying it erases the subject while the chain stays whole.
    ``lookup`` finds the live subject of an entity (a digest of the edition, the kind
    and the entity's id, so that the table does not hold the id itself)."""

    subject: str
    edition: str
    lookup: bytes
    key: bytes
    created_at: str


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
    """The first event of a store whose chain does not hold, and why: ``gap`` (a version
    is missing), ``previous_hash`` (it does not chain to the event before it),
    ``altered`` (its content does not match its hash), ``unreadable`` (the store cannot
    give it back: ``detail`` says what the storage reported)."""

    stream_id: str
    version: int
    position: int
    event_id: uuid.UUID | None
    reason: str
    detail: str = ""

    def __str__(self) -> str:
        return (
            f'stream "{self.stream_id}" version {self.version} (position {self.position}, '
            f"event {self.event_id}): {self.reason}" + (f" ({self.detail})" if self.detail else "")
        )


class ChainCheck:
    """Checks the events of a store as they come, in global order: each stream's versions
    follow one another from 1 and each event chains to the one before it."""

    def __init__(self) -> None:
        self._heads: dict[str, tuple[int, str]] = {}

    def check(self, e: RecordedEvent) -> ChainBreak | None:
        version, prev = self._heads.get(e.stream_id, (0, GENESIS_HASH))

        def broken(reason: str) -> ChainBreak:
            return ChainBreak(stream_id=e.stream_id, version=e.version, position=e.position,
                              event_id=e.event_id, reason=reason)  # fmt: skip

        if e.version != version + 1:
            return broken("gap")
        if e.prev_hash != prev:
            return broken("previous_hash")
        actual = chain_hash(e.prev_hash, e.event_id, e.stream_id, e.version, e.type,
                            e.schema_version, e.payload, e.metadata)  # fmt: skip
        if actual != e.hash:
            return broken("altered")
        self._heads[e.stream_id] = (e.version, e.hash)
        return None


def verify_chain(events: Iterable[RecordedEvent]) -> ChainBreak | None:
    """Check one stream's events (or a whole store's, in global order); the first break."""
    check = ChainCheck()
    for e in events:
        broken = check.check(e)
        if broken is not None:
            return broken
    return None
