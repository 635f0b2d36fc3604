"""The errors Créneau raises. Every one names what is wrong in words a user can act on."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = [
    "ConcurrencyError",
    "CreneauError",
    "DuplicateEventError",
    "InvalidCommand",
    "Problem",
    "StoreError",
    "StoreUnavailable",
    "UnknownEdition",
]


class CreneauError(Exception):
    """Base of every error Créneau raises on purpose."""


@attrs.frozen
class Problem:
    """One thing wrong in a document or a command, at a path such as ``sessions[3].rooms[0]``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidCommand(CreneauError):
    """A command or a document was refused; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UnknownEdition(CreneauError):
    def __init__(self, edition_id: str) -> None:
        self.edition_id = edition_id
        super().__init__(f'no edition "{edition_id}" in this store')


class StoreError(CreneauError):
    """The event store could not do what was asked; nothing was written."""


class ConcurrencyError(StoreError):
    """The stream moved on since the caller read it: the expected version is stale."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        super().__init__(
            f'stream "{stream_id}" is at version {actual}, not {expected} as expected: '
            "someone else wrote to it first; reload and try again"
        )


class DuplicateEventError(StoreError):
    """An event id of the batch is already stored elsewhere than as this very batch."""

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__(f"event {event_id} is already stored, in another place")


class StoreUnavailable(StoreError):
    """The store could not be reached or stayed locked past its timeout."""
