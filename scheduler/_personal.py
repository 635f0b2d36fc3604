"""Personal fields sealed per data subject (crypto-shredding).

Every field of an event that names or describes a person — a speaker's id, name,
organisation and gender; an attendee's identifier and profile — is stored encrypted
with a key of its **data subject** (the store's ``Cipher``: AES-GCM, a fresh nonce per
event). The fields of one event are sealed together, the event id, the subject and the
fields' names being the associated data, so a ciphertext moved to another event (or
passed off as other fields) does not open. The rest of the event stays in clear with
placeholders where those fields were, so a reader without the key still folds the
edition: an erased attendee keeps its places under ``erased-<subject>``, an erased
person its sessions under the same kind of placeholder, ``undisclosed`` as gender.
Other events that name a person by id (sessions, availability, removal) name them by
that placeholder in the store; a reader who opened the person's own events maps it
back to the id (``Personal.ids``).

The payload of a sealed event is the event's JSON with one more member, last: for each
subject whose fields it carries, the subject, the fields and their values sealed::

    {"type": "registration.recorded", "registration": {"attendee": "erased-…", …},
     "$personal": [["<subject>", ["registration.attendee", "registration.profile"],
                    "<nonce, ciphertext, tag>"]]}

Event decoders ignore ``$personal``; payloads written before sealing existed have no
such member and read as they are. The hash chain covers the ciphertext: destroying a
key (``forget``) rewrites nothing, and ``verify`` still passes.

Keys live beside the log in the store (``SubjectKey``), created on a subject's first
appearance and stored in the same transaction as the events sealed with them. An
entity (``person`` or ``attendee`` of an edition) has a live subject (two, if two
processes met it first at once); once erased, the same id appearing again gets a new
one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import msgspec
import structlog

from creneau.scheduler._envelope import RecordedEvent, SubjectKey, format_time, new_event_id
from creneau.scheduler._errors import StoreError
from creneau.scheduler._events import (
    ERASED_PREFIX,
    Event,
    PersonAdded,
    PersonAvailabilitySet,
    PersonRemoved,
    PersonUpdated,
    PlaceBooked,
    PlaceBumped,
    PlaceCancelled,
    PlacePromoted,
    RegistrationRecorded,
    RegistrationRemoved,
    SessionAdded,
    SessionUpdated,
    decode_event,
    encode_event,
)
from creneau.scheduler.ports import EventStore, SubjectCipher

__all__ = [
    "ERASED_PREFIX",
    "SEALED",
    "KeyRing",
    "Kind",
    "Personal",
    "is_erased_attendee",
    "lookup_of",
    "open_record",
    "opener",
    "personal_entity",
]

log = structlog.get_logger()

Kind = Literal["person", "attendee"]
SEALED = "$personal"
_MARK = b'"$personal":'
_UNKNOWN = object()
_REGISTRATION = ["registration.attendee", "registration.profile"]
_REFERRING = frozenset({SessionAdded, SessionUpdated, PersonRemoved, PersonAvailabilitySet})
_ATTENDEE_EVENTS = frozenset(
    {RegistrationRemoved, PlaceBooked, PlaceCancelled, PlacePromoted, PlaceBumped}
)


def is_erased_attendee(attendee: str) -> bool:
    return attendee.startswith(ERASED_PREFIX)


def lookup_of(edition: str, kind: str, entity: str) -> bytes:
    """The digest the key table finds an entity's subject by (not the id itself)."""
    return hashlib.sha256(f"{edition}\0{kind}\0{entity}".encode()).digest()


def personal_entity(event: Event) -> tuple[Kind, str] | None:
    """Whose personal fields ``event`` carries itself: (kind, entity id), or None. (The
    events that only name someone — a place, a session's speaker — name them by their
    placeholder: ``_references``.)"""
    match event:
        case PersonAdded(person=p) | PersonUpdated(person=p):
            return "person", p.id
        case RegistrationRecorded(registration=g):
            return "attendee", g.attendee
    return None


def _fields(event: Event) -> dict[str, Any]:
    """The personal fields of ``event`` by path, with their values."""
    match event:
        case PersonAdded(person=p) | PersonUpdated(person=p):
            return {"person.id": p.id, "person.name": p.name,
                    "person.organisation": p.organisation, "person.gender": p.gender}  # fmt: skip
        case _:
            g = event.registration  # type: ignore[union-attr]
            return {"registration.attendee": g.attendee, "registration.profile": g.profile}


def _references(event: Event, *, erased: bool = False) -> list[tuple[Kind, str, list[str]]]:
    """Who ``event`` names by id other than in its own fields: (kind, id, the paths
    naming them) — an attendee's place or removal, a session's speakers and moderators,
    a person's removal or availability. ``erased``: the placeholders instead."""
    found: dict[str, list[str]] = {}
    kind: Kind = "person"
    match event:
        case SessionAdded(session=x) | SessionUpdated(session=x):
            for role in ("speakers", "moderators"):
                for i, pid in enumerate(getattr(x, role)):
                    found.setdefault(pid, []).append(f"session.{role}.{i}")
        case PersonRemoved(person_id=pid) | PersonAvailabilitySet(person_id=pid):
            found[pid] = ["person_id"]
        case (RegistrationRemoved(attendee=a) | PlaceBooked(attendee=a) | PlaceCancelled(attendee=a)
              | PlacePromoted(attendee=a) | PlaceBumped(attendee=a)):  # fmt: skip
            kind, found[a] = "attendee", ["attendee"]
    return [(kind, x, paths) for x, paths in found.items() if is_erased_attendee(x) == erased]


def _put(event: Event, values: dict[str, Any]) -> Event:
    """``event`` with ``values`` (by path: ``field``, ``field.sub``, ``field.list.i``)."""
    replace = msgspec.structs.replace
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    lists: dict[tuple[str, str], dict[int, Any]] = {}
    for path, value in values.items():
        head, _, rest = path.partition(".")
        if not rest:
            top[head] = value
            continue
        field, _, index = rest.partition(".")
        if index:
            lists.setdefault((head, field), {})[int(index)] = value
        else:
            nested.setdefault(head, {})[field] = value
    for (head, field), items in lists.items():
        seq = list(getattr(getattr(event, head), field))
        for i, value in items.items():
            seq[i] = value
        nested.setdefault(head, {})[field] = tuple(seq)
    for head, fields in nested.items():
        top[head] = replace(getattr(event, head), **fields)
    return replace(event, **top) if top else event


def _blanked(event: Event, subject: str) -> Event:
    """``event`` as a reader without the subject's key sees it."""
    replace = msgspec.structs.replace
    match event:
        case PersonAdded(person=p) | PersonUpdated(person=p):
            return replace(event, person=replace(p, id=ERASED_PREFIX + subject, name="",
                                                 organisation="", gender="undisclosed",
                                                 erased=True))  # fmt: skip
        case _:  # a registration: the only other event that carries an identity
            g = event.registration  # type: ignore[union-attr]
            return replace(event, registration=replace(
                g, attendee=ERASED_PREFIX + subject, profile=""))  # fmt: skip


EventId = uuid.UUID | bytes  # an event id, or its 16 bytes (as stores read them back)


def _aad(event_id: EventId, subject: str, fields: Sequence[str]) -> bytes:
    raw = event_id.bytes if isinstance(event_id, uuid.UUID) else event_id
    return raw + f"|{subject}|{','.join(fields)}".encode()


class _Sealed(msgspec.Struct, array_like=True, gc=False):
    """The ``$personal`` member, an array: the subject, the fields in order, and their
    values (a JSON array in that order) encrypted together."""

    subject: str
    fields: list[str]
    sealed: bytes


class _Holder(msgspec.Struct):
    personal: list[_Sealed] | None = msgspec.field(name=SEALED, default=None)


_holder = msgspec.json.Decoder(_Holder).decode
_tail = msgspec.json.Decoder(list[_Sealed]).decode
_encode_json = msgspec.json.Encoder(order="deterministic").encode
_decode_json = msgspec.json.decode


class KeyRing:
    """The subjects' keys this process has used, in front of the store's key table.

    Writing finds (or makes) the live subject of an entity; reading finds a subject's
    key, or learns that it is gone. A key made for an append that did not go through
    is offered again with the next one (``pending``) until the store has it."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._aead: dict[str, SubjectCipher | None] = {}  # None: erased (or never kept)
        self._subject: dict[bytes, str] = {}  # lookup -> live subject
        self._lookup: dict[str, bytes] = {}  # subject -> its lookup, where read or made here
        self._pending: dict[str, SubjectKey] = {}
        self._preloaded: set[str] = set()
        self._clock = (-2.0, "")

    def preload(self, edition: str) -> None:
        if edition not in self._preloaded:
            self._preload(edition)

    def note(self, edition: str, kind: str, entity: str, subject: str) -> None:
        """``subject`` is a live subject of the entity (read from its events)."""
        with self._lock:
            if self._aead.get(subject) is not None:
                lookup = self._lookup.get(subject) or lookup_of(edition, kind, entity)
                self._subject[lookup] = subject

    def subject_of(self, edition: str, kind: str, entity: str) -> str | None:
        """The live subject this process knows for an entity, if any."""
        subject = self._subject.get(lookup_of(edition, kind, entity))
        return subject if subject is not None and self._aead.get(subject) else None

    def _preload(self, edition: str) -> None:
        """Every live key of the edition, and which entity each is for, in one query (a
        replay opens thousands, a desk creates thousands)."""
        rows = self.store.edition_keys(edition)
        with self._lock:
            self._preloaded.add(edition)
            for k in rows:
                if k.subject not in self._aead:
                    self._aead[k.subject] = self.store.cipher.for_key(k.key)
                self._lookup[k.subject] = k.lookup
                if self._aead[k.subject] is not None:
                    self._subject.setdefault(k.lookup, k.subject)

    def for_writing(self, edition: str, kind: str, entity: str) -> tuple[str, SubjectCipher]:
        lookup = lookup_of(edition, kind, entity)
        if edition not in self._preloaded:
            self._preload(edition)
        with self._lock:
            subject = self._subject.get(lookup)
            aead = self._aead.get(subject) if subject is not None else None
            if subject is not None and aead is not None:
                return subject, aead
        # Not among the keys the edition had when this process read them: a new subject.
        # (Another process may have made one for the same entity since; then the entity
        # has two, each opening its own events, and forgetting it destroys both.)
        with self._lock:
            # Time-ordered, like event ids: a new key lands at the end of the key table's
            # index instead of at a random place in it.
            subject = new_event_id().hex
            key = self.store.cipher.new_key()
            self._pending[subject] = SubjectKey(
                subject=subject, edition=edition, lookup=lookup, key=key, created_at=self._now()
            )
            aead = self._aead[subject] = self.store.cipher.for_key(key)
            self._subject[lookup] = subject
            self._lookup[subject] = lookup
        return subject, aead

    def _now(self) -> str:
        """When a key is made, to the second (read once a second at most)."""
        tick = time.monotonic()
        if tick - self._clock[0] >= 1.0:
            self._clock = (tick, format_time(dt.datetime.now(dt.UTC)))
        return self._clock[1]

    def pending(self, subjects: Iterable[str]) -> list[SubjectKey]:
        """The keys of ``subjects`` the store may not hold yet."""
        with self._lock:
            return [self._pending[s] for s in dict.fromkeys(subjects) if s in self._pending]

    def kept(self, keys: Sequence[SubjectKey]) -> None:
        """The store holds ``keys`` now."""
        with self._lock:
            for k in keys:
                self._pending.pop(k.subject, None)

    def for_reading(self, edition: str, subject: str) -> SubjectCipher | None:
        known = self._aead.get(subject, _UNKNOWN)  # without the lock: a dict's get is atomic
        if known is not _UNKNOWN:
            return known  # type: ignore[return-value]
        if edition not in self._preloaded:
            self._preload(edition)
        else:  # made by another process since the edition's keys were read
            keys = self.store.subject_keys([subject])
            with self._lock:
                for s, k in keys.items():
                    self._aead.setdefault(s, self.store.cipher.for_key(k))
        with self._lock:
            return self._aead.setdefault(subject, None)

    def forget(self, subjects: Iterable[str]) -> None:
        """Drop what this process knows of ``subjects`` (erased, here or elsewhere)."""
        with self._lock:
            for s in subjects:
                self._aead[s] = None
                self._pending.pop(s, None)
            self._subject = {k: v for k, v in self._subject.items() if self._aead.get(v)}


class Personal:
    """Seals events' personal fields on the way into the store and opens them on the
    way out. ``unreadable`` lists the fields whose key exists but does not open them
    (a ciphertext copied from elsewhere): they read as erased, and are reported."""

    def __init__(self, store: EventStore) -> None:
        self.keys = KeyRing(store)
        self.unreadable: list[tuple[uuid.UUID, str]] = []
        self.ids: dict[str, str] = {}  # a person's placeholder -> their id, once read
        self._learned: set[str] = set()

    def seal(self, edition: str, event: Event, event_id: EventId) -> tuple[bytes, list[str]]:
        """The payload to store for ``event``, and the subjects it was sealed to: its own
        person's or attendee's, and those of the people it names by id."""
        entries: list[tuple[str, SubjectCipher, list[str], list[Any]]] = []
        clear = event
        whose = personal_entity(event)
        if whose is not None and not is_erased_attendee(whose[1]):
            subject, aead = self.keys.for_writing(edition, *whose)
            values = _fields(event)
            entries.append((subject, aead, list(values), list(values.values())))
            clear = _blanked(event, subject)
        # The people it names by id are named by their subject's placeholder: the id is
        # sealed in their own events, and a reader who can open those reads it back.
        aliases: dict[str, Any] = {}
        named: list[str] = []
        for kind, pid, paths in _references(event):
            subject, _ = self.keys.for_writing(edition, kind, pid)
            named.append(subject)
            aliases.update(dict.fromkeys(paths, ERASED_PREFIX + subject))
        if aliases:
            clear = _put(clear, aliases)
        if not entries:
            return encode_event(clear), named
        sealed = [_Sealed(subject=subject, fields=fields, sealed=aead.seal(
                      _encode_json(values), _aad(event_id, subject, fields)))
                  for subject, aead, fields, values in entries]  # fmt: skip
        payload = encode_event(clear)
        return (payload[:-1] + b"," + _MARK + _encode_json(sealed) + b"}",
                [e[0] for e in entries] + named)  # fmt: skip

    def open(self, edition: str, type: str, schema_version: int, payload: bytes,
             event_id: EventId) -> Event:  # fmt: skip
        """The event a stored payload holds, its personal fields opened where their key
        is still there."""
        at = payload.rfind(_MARK)
        if at < 0:
            event = decode_event(type, schema_version, payload)
            if event.__class__ in _ATTENDEE_EVENTS:  # the desk's: one placeholder, mapped back
                who = self.ids.get(event.attendee)
                return event if who is None else msgspec.structs.replace(event, attendee=who)
            return self._named(edition, event) if event.__class__ in _REFERRING else event
        entries = self._sealed_at(payload, at)
        event = decode_event(type, schema_version, payload)
        opened: dict[str, Any] = {}
        for sealed in entries:
            aead = self.keys.for_reading(edition, sealed.subject)
            if aead is None:
                continue
            plain = aead.open(sealed.sealed, _aad(event_id, sealed.subject, sealed.fields))
            if plain is None or len(values := _decode_json(plain)) != len(sealed.fields):
                key = event_id if isinstance(event_id, uuid.UUID) else uuid.UUID(bytes=event_id)
                self.unreadable += [(key, f) for f in sealed.fields]
                log.warning("personal_field_unreadable", event_id=str(key), fields=sealed.fields)
                continue
            if isinstance(event, RegistrationRecorded) and sealed.fields == _REGISTRATION:
                # The commonest, put back directly; its placeholder learnt, for the places.
                alias = event.registration.attendee
                self.ids[alias] = values[0]
                self.keys.note(edition, "attendee", values[0], sealed.subject)
                g = msgspec.structs.replace(event.registration, attendee=values[0],
                                            profile=values[1])  # fmt: skip
                return msgspec.structs.replace(event, registration=g)
            opened.update(zip(sealed.fields, values, strict=True))
        if not opened:
            return self._named(edition, event) if event.__class__ in _REFERRING else event
        if isinstance(event, PersonAdded | PersonUpdated) and "person.id" in opened:
            opened["person.erased"] = False
            self.ids[event.person.id] = opened["person.id"]
            # A session this process writes names the person by the same placeholder,
            # whoever wrote the person (another process, after this one read its keys).
            self.keys.note(edition, "person", opened["person.id"],
                           event.person.id.removeprefix(ERASED_PREFIX))  # fmt: skip
        event = _put(event, opened)
        return self._named(edition, event) if event.__class__ in _REFERRING else event

    def forget(self, subjects: Iterable[str]) -> None:
        """Drop what this reader knows of ``subjects``: keys, and people's ids."""
        subjects = list(subjects)
        self.keys.forget(subjects)
        for s in subjects:
            self.ids.pop(ERASED_PREFIX + s, None)

    def _named(self, edition: str, event: Event) -> Event:
        """``event`` with the people it names by placeholder named by id again, where the
        placeholder's person could be read (their id is known to this reader). Only
        placeholders are keys of ``ids``, so an id named in clear stays as it is."""
        ids, replace = self.ids, msgspec.structs.replace
        match event:
            case SessionAdded(session=x) | SessionUpdated(session=x):
                # The commonest (a replay reads every session): the tuples mapped directly.
                speakers = tuple([ids.get(p, p) for p in x.speakers])
                moderators = tuple([ids.get(p, p) for p in x.moderators]) if x.moderators else ()
                if speakers == x.speakers and moderators == x.moderators:
                    return event
                return replace(event, session=replace(x, speakers=speakers,
                                                      moderators=moderators))  # fmt: skip
            case PersonRemoved(person_id=pid) | PersonAvailabilitySet(person_id=pid):
                who = ids.get(pid)
                return event if who is None else replace(event, person_id=who)
        return event

    def learn(self, edition: str, people: Iterable[str], attendees: Iterable[str] = ()) -> None:
        """The placeholders of people and attendees already known by id (a state folded
        earlier, a snapshot), so that events naming them by placeholder read with ids."""
        if edition in self._learned:
            return
        self._learned.add(edition)
        self.keys.preload(edition)
        for kind, ids in (("person", people), ("attendee", attendees)):
            for x in ids:
                if is_erased_attendee(x):
                    continue
                subject = self.keys.subject_of(edition, kind, x)
                if subject is not None:
                    self.ids.setdefault(ERASED_PREFIX + subject, x)

    @staticmethod
    def _sealed_at(payload: bytes, at: int) -> list[_Sealed]:
        """The sealed fields of a payload whose ``$personal`` member starts at ``at``:
        written last, it is read alone; anything else reads the whole payload."""
        try:
            return _tail(payload[at + len(_MARK) : -1])
        except (msgspec.DecodeError, msgspec.ValidationError):
            return _holder(payload).personal or []


def opener(personal: Personal, stream_id: str) -> Callable[..., Event]:
    """``open(version, type, schema_version, payload, event_id)``: the event a stored
    payload of ``stream_id`` holds, personal fields opened; unreadable ones refused with
    where they are."""
    edition = stream_id.removeprefix("edition-")

    def open_(version: int, type: str, schema_version: int, payload: bytes,
              event_id: EventId) -> Event:  # fmt: skip
        try:
            return personal.open(edition, type, schema_version, payload, event_id)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            raise StoreError("unreadable_event", stream=stream_id, version=version,
                             detail=str(exc)) from exc  # fmt: skip

    return open_


def open_record(personal: Personal, r: RecordedEvent) -> Event:
    return opener(personal, r.stream_id)(r.version, r.type, r.schema_version, r.payload,
                                          r.event_id)  # fmt: skip
