"""Views: what the reads need, kept beside the log and brought up to date from the
position they have folded to, instead of replaying every stream on every read.

One projection (``editions``) follows every edition's stream and keeps, per edition:

- ``audit/<edition>/<position>``: a line of the audit trail, with what the event changed;
- ``places/<edition>``: the places of every run and rotation;
- ``programme/<edition>``: the published programme and the hard rules it breaks now;
- ``quality/<edition>``: the programme's figures;
- ``state/<edition>``: a snapshot of the edition's state, every few hundred events.

Its rows and its position are written in one transaction, only if no other follower
moved it meanwhile: a follower that stops between reading and writing leaves the view as
it was, and the next one folds the same events again — none lost, none twice. A store
that cannot keep views (read-only) gets them computed for the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import msgspec

from creneau.scheduler._changes import Narrator
from creneau.scheduler._checker import Violation, check_schedule
from creneau.scheduler._envelope import RecordedEvent
from creneau.scheduler._events import (
    PlaceBooked,
    PlaceBumped,
    PlaceCancelled,
    PlacePromoted,
    RegistrationRecorded,
    RegistrationRemoved,
    ReserveClosed,
    ReserveOpened,
    SubjectErased,
    entity_of,
)
from creneau.scheduler._metrics import programme_metrics
from creneau.scheduler._personal import Personal, opener
from creneau.scheduler._places import PlaceLine, place_lines
from creneau.scheduler._schedule import Placement
from creneau.scheduler._snapshot import decode_state, encode_state
from creneau.scheduler._state import EditionState, replay
from creneau.scheduler.ports import EventStore

__all__ = ["SNAPSHOT_EVERY", "VIEW", "AuditLine", "ProgrammeView", "Views", "state_from_snapshot"]

VIEW = "editions"
STREAM_PREFIX = "edition-"
SNAPSHOT_EVERY = 200  # events between two snapshots of an edition
# Events that change places and nothing the programme view reads; and of those, the ones
# the figures do not read either (registrations make the attendee conflicts).
_NOT_PROGRAMME = (PlaceBooked, PlaceCancelled, PlacePromoted, PlaceBumped, ReserveOpened,
                  ReserveClosed, RegistrationRecorded, RegistrationRemoved)  # fmt: skip
_NOT_FIGURES = (PlaceBooked, PlaceCancelled, PlacePromoted, PlaceBumped, ReserveOpened,
                ReserveClosed)  # fmt: skip


class AuditLine(msgspec.Struct, array_like=True, frozen=True):
    """One line of the audit trail: the event, who recorded it and when, what it touched,
    and what it changed, field by field (name, before, after) as plain data."""

    position: int
    edition: str
    version: int
    recorded_at: str
    actor: str
    type: str
    entity: str
    fields: tuple[tuple[str, Any, Any], ...] = ()


class _Violation(msgspec.Struct, array_like=True, frozen=True):
    rule: str
    code: str
    params: dict[str, Any]


class _Programme(msgspec.Struct, array_like=True, frozen=True):
    accepted: str | None
    placements: tuple[Placement, ...]
    violations: tuple[_Violation, ...]


@attrs.frozen
class ProgrammeView:
    accepted: str | None
    placements: tuple[Placement, ...]
    violations: tuple[Violation, ...]


_encode = msgspec.msgpack.Encoder().encode
_audit = msgspec.msgpack.Decoder(AuditLine).decode
_programme = msgspec.msgpack.Decoder(_Programme).decode
# A place line as an array, in PlaceLine's field order.
_LineRow = tuple[str, int, str | None, int | None, int, int, bool]
_lines = msgspec.msgpack.Decoder(list[_LineRow]).decode
_quality = msgspec.msgpack.Decoder(dict[str, float | int]).decode


def _programme_row(state: EditionState) -> bytes:
    broken = check_schedule(state.snapshot(), state.programme) if state.programme else []
    return _encode(_Programme(state.accepted, state.programme, tuple(
        _Violation(v.rule, v.code, dict(v.params)) for v in broken)))  # fmt: skip


def _places_row(state: EditionState) -> bytes:
    return _encode([attrs.astuple(x) for x in place_lines(state)])


def _quality_row(state: EditionState) -> bytes:
    figures = programme_metrics(state.snapshot(), state.programme) if state.programme else {}
    return _encode(figures)


def state_from_snapshot(store: EventStore, edition: str) -> EditionState | None:
    """The latest snapshot of an edition the store keeps, if any this Créneau reads."""
    return decode_state(store.read_view_row(VIEW, f"state/{edition}"))


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuplify(v) for k, v in value.items()}
    return value


class Views:
    """The ``editions`` projection of one store: bring it up to date, then read it."""

    def __init__(self, store: EventStore, personal: Personal | None = None) -> None:
        self.store = store
        self.personal = personal or Personal(store)
        # Rows computed for this run when the store cannot keep them (read-only).
        self._overlay: dict[str, bytes | None] = {}
        self._overlay_position: int | None = None

    # -- following ----------------------------------------------------------------

    def position(self) -> int:
        if self._overlay_position is not None:
            return self._overlay_position
        return self.store.view_position(VIEW)

    def catch_up(self) -> int:
        """Fold what the log holds past the view's position; returns the position."""
        for _ in range(10):
            start = self.position()
            records = list(self.store.read_all(start))
            if not records:
                return start
            rows = self.fold(records)
            end = records[-1].position
            if self._overlay_position is None and self.store.write_view(VIEW, start, end, rows):
                return end
            if self._overlay_position is not None or self.store.view_position(VIEW) == start:
                # The store keeps no views (read-only): they are this run's.
                self._overlay.update(rows)
                self._overlay_position = end
                return end
            # Another follower moved the view first: fold from where it is now.
        raise RuntimeError("the view kept moving while it was being brought up to date")

    def rebuild(self) -> int:
        """Drop the view and fold the whole log again."""
        self.store.drop_view(VIEW)
        self._overlay.clear()
        self._overlay_position = None
        return self.catch_up()

    def fold(self, records: Sequence[RecordedEvent]) -> dict[str, bytes | None]:
        """The rows that ``records`` (the log after the view's position) change."""
        by_edition: dict[str, list[RecordedEvent]] = {}
        for r in records:
            if r.stream_id.startswith(STREAM_PREFIX):
                by_edition.setdefault(r.stream_id.removeprefix(STREAM_PREFIX), []).append(r)
        rows: dict[str, bytes | None] = {}
        for edition, theirs in by_edition.items():
            rows.update(self._fold_edition(edition, theirs))
        return rows

    def _fold_edition(self, edition: str, records: Sequence[RecordedEvent]) -> dict[str, bytes]:
        stream = STREAM_PREFIX + edition
        open_ = opener(self.personal, stream)
        erased = [r for r in records if r.type == "subject.erased"]
        if erased:
            # Someone was erased in these events: what this process knows of them goes
            # first, and the state is folded from the log, not from a snapshot that may
            # still hold them.
            self.personal.forget(
                e.subject for r in erased
                if isinstance(e := open_(r.version, r.type, r.schema_version, r.payload,
                                         r.event_id), SubjectErased))  # fmt: skip
        saved = None if erased else self.snapshot(edition)
        base = saved or EditionState()
        first = records[0].version
        if base.version > first - 1:  # a snapshot ahead of these events: fold from the start
            base = EditionState()
        self.personal.learn(edition, base.people, base.registrations)
        if base.version < first - 1:
            gap = (open_(*row) for row in self.store.read_payloads(stream, base.version + 1)
                   if row[0] < first)  # fmt: skip
            base = replay(gap, base)
        tell = Narrator(base)
        rows: dict[str, bytes] = {}
        programme_unchanged = figures_unchanged = True
        for r in records:
            event = open_(r.version, r.type, r.schema_version, r.payload, r.event_id)
            change = tell(event)
            programme_unchanged = programme_unchanged and isinstance(event, _NOT_PROGRAMME)
            figures_unchanged = figures_unchanged and isinstance(event, _NOT_FIGURES)
            fields = () if change is None else tuple(
                (name, before, after) for name, before, after in change.fields)  # fmt: skip
            entity = entity_of(event)
            rows[f"audit/{edition}/{r.position:012d}"] = _encode(AuditLine(
                r.position, edition, r.version, r.metadata.recorded_at, r.metadata.actor,
                r.type, entity, fields))  # fmt: skip
        state = tell.fold.freeze()
        if state.info is None:
            return rows
        rows[f"places/{edition}"] = _places_row(state)
        if not programme_unchanged or self.read_row(f"programme/{edition}") is None:
            rows[f"programme/{edition}"] = _programme_row(state)
        if not figures_unchanged or self.read_row(f"quality/{edition}") is None:
            rows[f"quality/{edition}"] = _quality_row(state)
        if saved is None or state.version - saved.version >= SNAPSHOT_EVERY:
            rows[f"state/{edition}"] = encode_state(state)
        return rows

    # -- reading ------------------------------------------------------------------

    def read_row(self, key: str) -> bytes | None:
        if key in self._overlay:
            return self._overlay[key]
        return self.store.read_view_row(VIEW, key)

    def _rows(self, prefix: str) -> Iterable[tuple[str, bytes]]:
        rows = dict(self.store.read_view(VIEW, prefix))
        for key, data in self._overlay.items():
            if key.startswith(prefix):
                if data is None:
                    rows.pop(key, None)
                else:
                    rows[key] = data
        return sorted(rows.items())

    def snapshot(self, edition: str) -> EditionState | None:
        return decode_state(self.read_row(f"state/{edition}"))

    def places(self, edition: str) -> list[PlaceLine]:
        data = self.read_row(f"places/{edition}")
        return [] if data is None else [PlaceLine(*x) for x in _lines(data)]

    def programme(self, edition: str) -> ProgrammeView | None:
        data = self.read_row(f"programme/{edition}")
        if data is None:
            return None
        p = _programme(data)
        return ProgrammeView(p.accepted, p.placements, tuple(
            Violation(v.rule, v.code, _tuplify(v.params)) for v in p.violations))  # fmt: skip

    def quality(self, edition: str) -> Mapping[str, float | int]:
        data = self.read_row(f"quality/{edition}")
        return {} if data is None else _quality(data)

    def audit(self, edition: str | None = None) -> list[AuditLine]:
        prefix = "audit/" if edition is None else f"audit/{edition}/"
        lines = [_audit(data) for _, data in self._rows(prefix)]
        if edition is None:
            lines.sort(key=lambda x: x.position)
        return [msgspec.structs.replace(x, fields=_tuplify(x.fields)) for x in lines]

    def rows(self) -> dict[str, bytes]:
        """Every row but the snapshots (a cache, whose versions depend on when it was
        taken): what a rebuilt view must equal."""
        return {k: v for k, v in self._rows("") if not k.startswith("state/")}
