"""Domain values of an edition: the shapes that travel inside events and documents.

They are msgspec structs (frozen, keyword-only, unknown fields forbidden) so that one
definition serves the edition document, the event payloads and the in-memory state.
Times are kept as the document writes them (``"HH:MM"``), because that is what a
committee reads in the audit trail; :func:`minutes` turns them into integers for
arithmetic. Fields whose default depends on the edition (a session's audiences, its
``exclusive`` flag) are resolved when a snapshot is made, decoded from a document or
built in code, and when a session enters the state: nothing downstream (the state, the
solver's problem, an export) ever sees an unresolved one. Defaults that follow another
value as it changes (a room's availability follows the open hours, its changeover the
policies, a session's capacity its room) stay ``None`` and are read through one function
each.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

__all__ = [
    "DEFAULT_AUDIENCES",
    "FORMATS",
    "GENDERS",
    "After",
    "Break",
    "Day",
    "EditionInfo",
    "EditionSnapshot",
    "Fixed",
    "Gender",
    "Parity",
    "Person",
    "Policies",
    "Registration",
    "Room",
    "Rotation",
    "Session",
    "Track",
    "Travel",
    "Venue",
    "Window",
    "actor_fault",
    "is_identifier",
    "is_name",
    "is_text",
    "minutes",
]

Gender = Literal["woman", "man", "nonbinary", "undisclosed"]
GENDERS: tuple[str, ...] = ("woman", "man", "nonbinary", "undisclosed")
DEFAULT_AUDIENCES: tuple[str, ...] = ("professionals", "general_public")
# The formats the edition format names (docs/formats.md); any other word is accepted too.
FORMATS: tuple[str, ...] = (
    "plenary",
    "keynote",
    "panel",
    "crossed_views",
    "masterclass",
    "workshop",
    "retex",
    "pitch",
    "discovery",
    "visit",
    "testimony",
    "demo",
    "welcome",
    "social",
)


def minutes(clock: str) -> int:
    """Minutes since midnight of an ``"HH:MM"`` time already validated."""
    return int(clock[:2]) * 60 + int(clock[3:5])


# Spaces that French typography puts in names and titles (before « : », inside « »).
_TYPOGRAPHIC_SPACES = frozenset("\u00a0\u202f")


def is_identifier(text: str) -> bool:
    """Whether ``text`` may be an id: not empty, printable characters, no space of any
    kind (no control, bidirectional-override or zero-width character either)."""
    return bool(text) and text.isprintable() and not any(c.isspace() for c in text)


def is_name(text: str) -> bool:
    """Whether ``text`` may be a name, a title or a label: printable characters and
    spaces, nothing that moves the cursor, hides text or reorders it."""
    return text.isprintable() or all(c.isprintable() or c in _TYPOGRAPHIC_SPACES for c in text)


def actor_fault(actor: str | None) -> str | None:
    """What is wrong with ``actor`` as the name events are recorded under, as a problem
    code (None when nothing): it goes into the log for good, so it is an account name —
    printable, and never an e-mail address."""
    if actor is None or not actor.strip() or not is_name(actor):
        return "bad_actor"
    return "actor_is_an_address" if "@" in actor else None


def is_text(text: str) -> bool:
    """Whether ``text`` may be a description: as a name, with line breaks and tabs."""
    return is_name(text) or all(
        c.isprintable() or c in _TYPOGRAPHIC_SPACES or c in "\n\t" for c in text
    )


class _Value(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Window(_Value, frozen=True, kw_only=True):
    day: dt.date
    start: str
    end: str


class Break(_Value, frozen=True, kw_only=True):
    start: str
    end: str
    label: str = ""


class Day(_Value, frozen=True, kw_only=True):
    day: dt.date
    open: str
    close: str
    breaks: tuple[Break, ...] = ()


class Venue(_Value, frozen=True, kw_only=True):
    id: str
    name: str = ""


class Travel(_Value, frozen=True, kw_only=True):
    from_: str = msgspec.field(name="from")
    to: str
    minutes: int


class Room(_Value, frozen=True, kw_only=True):
    id: str
    name: str = ""
    venue: str | None = None
    capacity: int
    reserve: int = 0
    features: tuple[str, ...] = ()
    availability: tuple[Window, ...] | None = None
    concurrent: int = 1
    changeover: int | None = None


class Person(_Value, frozen=True, kw_only=True):
    id: str
    name: str = ""
    organisation: str = ""
    gender: Gender = "undisclosed"
    available: tuple[Window, ...] | None = None
    unavailable: tuple[Window, ...] = ()
    preferred: tuple[Window, ...] = ()
    max_per_day: int | None = None
    can_moderate: bool = False
    # Erased (its key destroyed, or never found): name, organisation and gender are gone,
    # read as "", "" and "undisclosed". Never part of an edition document.
    erased: bool = False


class Rotation(_Value, frozen=True, kw_only=True):
    every: int
    places: int


class Fixed(_Value, frozen=True, kw_only=True):
    day: dt.date | None = None
    start: str | None = None
    room: str | None = None


class After(_Value, frozen=True, kw_only=True):
    session: str
    min_gap: int = 0
    same_day: bool = False


class Session(_Value, frozen=True, kw_only=True):
    id: str
    title: str = ""
    description: str = ""
    format: str = "workshop"
    duration: int
    audiences: tuple[str, ...] | None = None
    themes: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()
    moderators: tuple[str, ...] = ()
    needs_moderator: bool = False
    attendance: int = 0
    capacity: int | None = None
    rotation: Rotation | None = None
    occurrences: int = 1
    requires: tuple[str, ...] = ()
    rooms: tuple[str, ...] | None = None
    windows: tuple[Window, ...] | None = None
    fixed: Fixed | None = None
    exclusive: bool | None = None
    optional: bool = False
    priority: int = 5
    after: tuple[After, ...] = ()
    not_parallel: tuple[str, ...] = ()
    preferred: tuple[Window, ...] = ()

    def resolved(self, audiences: tuple[str, ...]) -> Session:
        """This session with its context-dependent defaults made explicit."""
        if self.audiences is not None and self.exclusive is not None:
            return self
        return msgspec.structs.replace(
            self,
            audiences=audiences if self.audiences is None else self.audiences,
            exclusive=(self.format == "plenary") if self.exclusive is None else self.exclusive,
        )


class Registration(_Value, frozen=True, kw_only=True):
    attendee: str
    profile: str
    sessions: tuple[str, ...] = ()


class Parity(_Value, frozen=True, kw_only=True):
    women_min_share: float = 0.0
    no_all_male_panels: bool = True
    hard: bool = True


class Track(_Value, frozen=True, kw_only=True):
    audience: str
    windows: tuple[Window, ...]
    min_parallel: int = 0
    max_parallel: int | None = None


class Policies(_Value, frozen=True, kw_only=True):
    changeover: int = 0
    speaker_gap: int = 0
    attendee_gap: int = 0
    parity: Parity = Parity()
    tracks: tuple[Track, ...] = ()
    weights: dict[str, int] = {}


class EditionInfo(_Value, frozen=True, kw_only=True):
    """Everything about an edition that is not a list of entities."""

    id: str
    name: str = ""
    timezone: str = "Europe/Paris"
    granularity: int = 5
    days: tuple[Day, ...]
    audiences: tuple[str, ...] = DEFAULT_AUDIENCES
    themes: tuple[str, ...] = ()
    venues: tuple[Venue, ...] = ()
    travel: tuple[Travel, ...] = ()
    licence: str | None = None  # of the published programme, an SPDX id
    url: str | None = None  # the edition's web page


class EditionSnapshot(EditionInfo, frozen=True, kw_only=True):
    """A whole edition in one value: what an edition document carries, less its header."""

    rooms: tuple[Room, ...] = ()
    people: tuple[Person, ...] = ()
    sessions: tuple[Session, ...] = ()
    registrations: tuple[Registration, ...] = ()
    policies: Policies = Policies()

    def __post_init__(self) -> None:
        # Every way to a snapshot (a decoded document, a state, code) resolves the
        # sessions' defaults that depend on the edition, here and nowhere else.
        if any(s.audiences is None or s.exclusive is None for s in self.sessions):
            msgspec.structs.force_setattr(
                self, "sessions", tuple(s.resolved(self.audiences) for s in self.sessions)
            )

    @property
    def info(self) -> EditionInfo:
        return EditionInfo(**{f: getattr(self, f) for f in EditionInfo.__struct_fields__})
