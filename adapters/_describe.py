"""Changes in words: what an import does (or would do), what each line of the audit log
changed, old value → new value."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from creneau.adapters._i18n import N_, Words, for_terminal
from creneau.adapters._messages import audience_name, feature_name, format_name, gender_name
from creneau.scheduler import EntityChange

__all__ = ["EVENTS", "change_line", "entity_text", "field_value", "summary_lines"]

ENTITIES = {
    "edition": N_("edition"),
    "room": N_("room"),
    "person": N_("person"),
    "session": N_("session"),
    "attendee": N_("attendee"),
    "schedule": N_("schedule"),
    "document": N_("document"),
    "policies": N_("rules"),
}


def entity_text(entity: str, w: Words) -> str:
    """``room:hall`` as the log shows it: « salle hall »."""
    kind, _, ident = entity.partition(":")
    words = w._(ENTITIES[kind]) if kind in ENTITIES else kind
    return for_terminal(f"{words} {ident}".strip())


FIELDS = {
    "name": N_("name"),
    "capacity": N_("seats"),
    "reserve": N_("reserve chairs"),
    "features": N_("equipment"),
    "availability": N_("availability"),
    "concurrent": N_("sessions at once"),
    "changeover": N_("changeover"),
    "venue": N_("venue"),
    "organisation": N_("organisation"),
    "gender": N_("gender"),
    "available": N_("available"),
    "unavailable": N_("unavailable"),
    "preferred": N_("preferred times"),
    "max_per_day": N_("sessions a day at most"),
    "can_moderate": N_("may moderate"),
    "title": N_("title"),
    "description": N_("description"),
    "format": N_("format"),
    "duration": N_("duration"),
    "audiences": N_("audiences"),
    "themes": N_("themes"),
    "speakers": N_("speakers"),
    "moderators": N_("moderators"),
    "needs_moderator": N_("needs a moderator"),
    "attendance": N_("expected attendance"),
    "rotation": N_("rotation"),
    "occurrences": N_("runs"),
    "requires": N_("needs"),
    "rooms": N_("rooms"),
    "windows": N_("windows"),
    "fixed": N_("pinned"),
    "exclusive": N_("nothing beside it"),
    "optional": N_("proposal"),
    "priority": N_("priority"),
    "after": N_("after"),
    "not_parallel": N_("kept apart from"),
    "profile": N_("audience"),
    "sessions": N_("sessions"),
    "days": N_("days"),
    "timezone": N_("time zone"),
    "granularity": N_("time step"),
    "licence": N_("licence"),
    "url": N_("web page"),
    "travel": N_("travel"),
    "venues": N_("venues"),
    "speaker_gap": N_("time between two sessions of a speaker"),
    "attendee_gap": N_("time for the audience between sessions"),
    "parity": N_("parity"),
    "tracks": N_("audience tracks"),
    "weights": N_("weights"),
    "audience": N_("audience"),
    "women_min_share": N_("share of women at least"),
    "no_all_male_panels": N_("no all-male panel"),
    "hard": N_("required"),
    "min_parallel": N_("at least in parallel"),
    "max_parallel": N_("at most in parallel"),
    "day": N_("day"),
    "start": N_("start"),
    "room": N_("room"),
}

KINDS = {
    "room": (N_("room"), N_("rooms")),
    "person": (N_("person"), N_("people")),
    "session": (N_("session"), N_("sessions")),
    "registration": (N_("registration"), N_("registrations")),
}

EVENTS = {
    "edition.defined": N_("edition defined"),
    "room.added": N_("room added"),
    "room.updated": N_("room changed"),
    "room.removed": N_("room removed"),
    "person.added": N_("person added"),
    "person.updated": N_("person changed"),
    "person.removed": N_("person removed"),
    "person.availability_set": N_("availability changed"),
    "session.added": N_("session added"),
    "session.updated": N_("session changed"),
    "session.removed": N_("session removed"),
    "session.pinned": N_("session pinned"),
    "session.unpinned": N_("session unpinned"),
    "registration.recorded": N_("registration"),
    "registration.removed": N_("registration removed"),
    "policies.changed": N_("rules changed"),
    "document.imported": N_("document imported"),
    "schedule.proposed": N_("schedule proposed"),
    "schedule.accepted": N_("programme published"),
    "session.moved": N_("session moved"),
    "place.booked": N_("place booked"),
    "place.cancelled": N_("place given back"),
    "place.promoted": N_("place from the waiting list"),
    "place.bumped": N_("back to the waiting list"),
    "places.reserve_opened": N_("reserve chairs opened"),
    "places.reserve_closed": N_("reserve chairs closed"),
    "subject.erased": N_("personal data erased"),
}


def field_value(name: str, value: Any, w: Words) -> str:
    """A field's value as a committee reads it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return w._("yes") if value else w._("no")
    if name == "format" and isinstance(value, str):
        return format_name(value, w)
    if name == "gender" and isinstance(value, str):
        return gender_name(value, w)
    if name in ("features", "requires") and isinstance(value, list | tuple):
        return ", ".join(feature_name(str(f), w) for f in value) or "—"
    if name in ("audiences", "profile", "audience"):
        items = value if isinstance(value, list | tuple) else [value]
        return ", ".join(audience_name(str(a), w) for a in items) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(field_value(name, v, w) for v in value) or "—"
    if isinstance(value, dict):
        if {"day", "start", "end"} <= value.keys():
            return f"{w.short_date(value['day'])} {value['start']}–{value['end']}"
        return ", ".join(f"{_field(k, w)} {field_value(k, v, w)}" for k, v in value.items()
                         if v not in (None, [], {}))  # fmt: skip
    return str(value)


def _field(name: str, w: Words) -> str:
    last = name.rpartition(".")[2]
    return w._(FIELDS[last]) if last in FIELDS else last.replace("_", " ")


def change_line(change: EntityChange, w: Words, *, limit: int = 120,
                hide: frozenset[str] = frozenset()) -> str:  # fmt: skip
    """What one change changed: « seats: 200 → 250; equipment: … »; the fields in
    ``hide`` only named, their values left out."""
    parts = []
    for name, before, after in change.fields:
        old, new = field_value(name, before, w), field_value(name, after, w)
        if name.rpartition(".")[2] in hide or len(old) + len(new) > limit:
            parts.append(w._("{field} changed", field=_field(name, w)))
        else:
            parts.append(f"{_field(name, w)}{w._(': ')}{old} → {new}")
    return for_terminal("; ".join(parts))


def _listed(ids: Sequence[str], w: Words, most: int = 8) -> str:
    shown = ", ".join(for_terminal(i) for i in ids[:most])
    if len(ids) > most:
        return w._("{first} and {n} more", first=shown, n=len(ids) - most)
    return shown


def summary_lines(changes: Iterable[EntityChange], w: Words) -> list[str]:
    """An import's changes, grouped: what it adds, changes and removes of each kind, then
    what it does to places."""
    changes = list(changes)
    lines: list[str] = []
    new = any(c.kind == "edition" and c.action == "added" for c in changes)
    for c in changes:
        if c.kind == "edition" and c.action == "added":
            lines.append(w._("edition defined: {id}", id=for_terminal(c.id)))
        elif c.kind == "edition":
            lines.append(w._("edition: {what}", what=change_line(c, w)))
        if c.kind == "policies" and not new:  # a new edition's rules are its document's
            lines.append(w._("rules: {what}", what=change_line(c, w)))
    for kind, (one, many) in KINDS.items():
        mine = [c for c in changes if c.kind == kind]
        added = [c.id for c in mine if c.action == "added"]
        removed = [c.id for c in mine if c.action == "removed"]
        if added:
            lines.append(w._("added {count} {kind}: {ids}", count=len(added),
                             kind=w._(one if len(added) == 1 else many),
                             ids=_listed(added, w)))  # fmt: skip
        for c in mine:
            if c.action == "changed":
                lines.append(w._("changed {kind} {id}: {what}", kind=w._(one),
                                 id=for_terminal(c.id), what=change_line(c, w)))  # fmt: skip
        if removed:
            lines.append(w._("removed {count} {kind}: {ids}", count=len(removed),
                             kind=w._(one if len(removed) == 1 else many),
                             ids=_listed(removed, w)))  # fmt: skip
    places = {
        "cancelled": N_("places given back: {who}"),
        "bumped": N_("back to the waiting list (fewer places): {who}"),
        "promoted": N_("confirmed from the waiting list (more places): {who}"),
    }
    for action, message in places.items():
        who = [f"{c.id} ({dict(c.detail).get('session')})" for c in changes
               if c.kind == "place" and c.action == action]  # fmt: skip
        if who:
            lines.append(w._(message, who=_listed(who, w)))
    return lines
