"""The errors Créneau raises.

The core says what is wrong with a code and the data it bears on, never in French or in
English: the adapters word each code from their catalogue, in the language of the run.
``str()`` of an error gives the code and its data, for logs and for developers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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


def _data(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


class CreneauError(Exception):
    """Base of every error Créneau raises on purpose: a code, and the data it is about."""

    code = "error"

    def __init__(self, code: str | None = None, /, **params: Any) -> None:
        self.code = code or type(self).code
        self.params: dict[str, Any] = params
        super().__init__(f"{self.code}: {_data(params)}" if params else self.code)


@attrs.frozen
class Problem:
    """One thing wrong in a document or a command, at a path such as ``sessions[3].rooms[0]``:
    a code (``unknown_person``) and the data the adapters word it with."""

    path: str
    code: str
    params: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)
    # Compared by their items, so that equal problems compare equal whatever the mapping.
    _items: tuple[tuple[str, Any], ...] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_items", tuple(sorted(self.params.items(), key=str)))

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.code}" + (f" ({_data(self.params)})" if self.params else "")


def problem(path: str, code: str, **params: Any) -> Problem:
    return Problem(path, code, params)


class InvalidCommand(CreneauError):
    """A command or a document was refused; nothing was written."""

    code = "invalid"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("invalid")
        self.args = ("\n".join(str(p) for p in self.problems),)


class UnknownEdition(CreneauError):
    code = "unknown_edition"

    def __init__(self, edition_id: str) -> None:
        self.edition_id = edition_id
        super().__init__(edition=edition_id)


class StoreError(CreneauError):
    """The event store could not do what was asked; nothing was written."""

    code = "store_error"


class ConcurrencyError(StoreError):
    """The stream moved on since the caller read it: the expected version is stale."""

    code = "concurrency"

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        super().__init__(stream=stream_id, expected=expected, actual=actual)


class DuplicateEventError(StoreError):
    """An event id of the batch is already stored elsewhere than as this very batch."""

    code = "duplicate_event"

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__(event=event_id)


class StoreUnavailable(StoreError):
    """The store could not be reached, opened, or stayed locked past its timeout."""

    code = "store_unavailable"
