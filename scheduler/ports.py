"""The ports the core drives: what an event store must offer.

Backends live in ``events_store/``; the core only knows this protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from creneau.scheduler._envelope import ChainBreak, NewEvent, RecordedEvent, SubjectKey
from creneau.scheduler._problem import SchedulingProblem, SolveParameters, SolveResult

__all__ = ["Cipher", "EventStore", "Solver", "SubjectCipher"]


class SubjectCipher(Protocol):
    """One data subject's key, ready to seal and open its personal fields."""

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """``plaintext`` encrypted and authenticated with ``aad`` (nonce included)."""
        ...

    def open(self, sealed: bytes, aad: bytes) -> bytes | None:
        """The plaintext, or None when ``sealed`` does not open with this key and
        ``aad`` (another key, another event or field, or altered)."""
        ...


class Cipher(Protocol):
    """The authenticated encryption a store seals personal fields with."""

    def new_key(self) -> bytes: ...

    def for_key(self, key: bytes) -> SubjectCipher: ...


@runtime_checkable
class EventStore(Protocol):
    """An append-only log of events grouped in streams, each stream a hash chain."""

    @property
    def cipher(self) -> Cipher:
        """What seals the personal fields whose keys this store keeps."""
        ...

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int,
        keys: Sequence[SubjectKey] = (),
    ) -> list[RecordedEvent]:
        """Append ``events`` atomically after version ``expected_version`` of the stream,
        and in the same transaction the data subjects' ``keys`` their personal fields
        are sealed with (a key already stored is kept as it is).

        Raises ``ConcurrencyError`` (and writes nothing) when the stream is no longer at
        ``expected_version``. Appending again a batch already stored, same event ids in
        the same places, returns the stored events and stores nothing twice.
        """
        ...

    def stream_version(self, stream_id: str) -> int:
        """The stream's last version; 0 for a stream that has no event."""
        ...

    # Keys: one per data subject, outside the hash chain (see SubjectKey).

    def subject_keys(self, subjects: Sequence[str]) -> dict[str, bytes]:
        """The live keys of the subjects named (those that have one)."""
        ...

    def edition_keys(self, edition: str) -> list[SubjectKey]:
        """Every live key of an edition's subjects, with what finds each."""
        ...

    def subjects_for(self, edition: str, lookup: bytes) -> list[str]:
        """The live subjects of one entity (by its lookup digest), oldest first."""
        ...

    def erase_subjects(self, subjects: Sequence[str]) -> int:
        """Destroy the subjects' keys; how many there were."""
        ...

    def compact(self) -> None:
        """Leave nothing of deleted rows (keys, the views' old rows) in the store's files
        that the store can help: overwritten, freed, its write-ahead log truncated."""
        ...

    def read_stream(self, stream_id: str, from_version: int = 1) -> Iterator[RecordedEvent]:
        """The stream's events from ``from_version`` on, in version order."""
        ...

    def read_payloads(
        self, stream_id: str, from_version: int = 1
    ) -> Iterator[tuple[int, str, int, bytes, bytes]]:
        """``(version, type, schema_version, payload, event id's 16 bytes)`` of the
        stream's events from ``from_version`` on: all that folding a stream into a state
        needs (the id opens the personal fields sealed to it), read fast."""
        ...

    def read_all(
        self, after_position: int = 0, limit: int | None = None
    ) -> Iterator[RecordedEvent]:
        """Every stream's events with a global position above ``after_position``."""
        ...

    def streams(self) -> list[str]:
        """The ids of the streams that have at least one event, in order of creation."""
        ...

    def subscribe(
        self,
        after_position: int = 0,
        *,
        stop: threading.Event | None = None,
        poll_interval: float = 0.05,
        idle_timeout: float | None = None,
    ) -> Iterator[RecordedEvent]:
        """A catch-up subscription: every stored event after ``after_position``, then new
        ones as they are appended, until ``stop`` is set or nothing came for ``idle_timeout``."""
        ...

    def verify(self) -> ChainBreak | None:
        """Check every stream's hash chain; the first break by global position, or None."""
        ...

    # Views: the rows a projection keeps beside the log, keyed by text, and the global
    # position it has folded up to, always written together.

    def view_position(self, view: str) -> int:
        """The position ``view`` has folded up to; 0 for a view never written."""
        ...

    def read_view(self, view: str, prefix: str = "") -> Iterator[tuple[str, bytes]]:
        """The view's rows whose key starts with ``prefix``, in key order."""
        ...

    def read_view_row(self, view: str, key: str) -> bytes | None: ...

    def write_view(
        self, view: str, expected: int, position: int, rows: Mapping[str, bytes | None]
    ) -> bool:
        """In one transaction: set (or, for None, remove) ``rows`` and move the view to
        ``position`` — only if it is still at ``expected`` (False, and nothing written,
        when another follower moved it first, or when the store cannot keep views)."""
        ...

    def drop_view(self, view: str) -> None:
        """Forget the view's rows and position: it is rebuilt from the log."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Solver(Protocol):
    """Places the sessions of a problem; ``solver.CpSatSolver`` is the implementation."""

    def solve(
        self,
        problem: SchedulingProblem,
        params: SolveParameters = ...,
        progress: Callable[[Any], None] | None = None,
        stop: threading.Event | None = None,
    ) -> SolveResult:
        """Solve ``problem``; ``progress`` hears of each better schedule; setting ``stop``
        (from another thread) ends the search with the best schedule so far, if any."""
        ...
