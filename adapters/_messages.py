"""The words for what the core and the solver say with codes: problems of documents and
commands, broken rules, errors, conflicts; and the names of rules, formats, audiences and
genders. Each table maps a code to an English message id of the catalogue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from creneau.adapters._i18n import N_, Words, for_terminal
from creneau.scheduler import (
    Conflict,
    CreneauError,
    EditionSnapshot,
    Explained,
    InvalidCommand,
    Problem,
)

__all__ = [
    "Names",
    "audience_name",
    "conflict_text",
    "error_lines",
    "feature_name",
    "format_name",
    "gender_name",
    "impossible_text",
    "problem_text",
    "rule_name",
    "slot_text",
    "violation_text",
]

# -- names --------------------------------------------------------------------------------

RULES = {
    "placement": N_("every session placed once per run"),
    "open_hours": N_("open hours"),
    "windows": N_("the session's windows"),
    "fixed": N_("pinned by the committee"),
    "room_fit": N_("room fit"),
    "room_availability": N_("room availability"),
    "room_overlap": N_("one session at a time per room"),
    "person_availability": N_("speakers' availability"),
    "person_overlap": N_("nobody in two places at once"),
    "max_per_day": N_("sessions per day per person"),
    "exclusive": N_("nothing beside a plenary"),
    "occurrences": N_("runs one after the other"),
    "after": N_("precedence"),
    "not_parallel": N_("sessions kept apart"),
    "attendee_gap": N_("time for the audience between sessions"),
    "moderator": N_("moderators"),
    "no_all_male_panels": N_("no all-male panel"),
    "parity_share": N_("share of women"),
    "tracks": N_("audience tracks"),
}

FORMATS = {
    "plenary": N_("plenary"),
    "keynote": N_("keynote"),
    "panel": N_("panel"),
    "crossed_views": N_("crossed views"),
    "masterclass": N_("masterclass"),
    "workshop": N_("workshop"),
    "retex": N_("feedback talk"),
    "pitch": N_("pitch"),
    "discovery": N_("discovery"),
    "visit": N_("visit"),
    "testimony": N_("testimony"),
    "demo": N_("demonstration"),
    "welcome": N_("welcome"),
    "social": N_("social"),
}

AUDIENCES = {
    "professionals": N_("professionals"),
    "general_public": N_("general public"),
}

FEATURES = {
    "stage": N_("stage"),
    "screen": N_("screen"),
    "microphone": N_("microphone"),
    "lectern": N_("lectern"),
    "streaming": N_("streaming"),
    "step_free": N_("step-free access"),
    "tables": N_("tables"),
    "outdoor": N_("outdoors"),
}

GENDERS = {
    "woman": N_("woman"),
    "man": N_("man"),
    "nonbinary": N_("non-binary"),
    "undisclosed": N_("undisclosed"),
}

KINDS = {
    "edition": N_("edition"),
    "room": N_("room"),
    "person": N_("person"),
    "session": N_("session"),
    "venue": N_("venue"),
    "audience": N_("audience"),
    "theme": N_("theme"),
    "feature": N_("feature"),
    "attendee": N_("attendee"),
    "format": N_("format"),
    "schedule": N_("schedule"),
}


def rule_name(rule: str, w: Words) -> str:
    return w._(RULES[rule]) if rule in RULES else rule


def format_name(fmt: str, w: Words) -> str:
    return w._(FORMATS[fmt]) if fmt in FORMATS else fmt.replace("_", " ")


def audience_name(audience: str, w: Words) -> str:
    return w._(AUDIENCES[audience]) if audience in AUDIENCES else audience.replace("_", " ")


def feature_name(feature: str, w: Words) -> str:
    return w._(FEATURES[feature]) if feature in FEATURES else feature.replace("_", " ")


def gender_name(gender: str, w: Words) -> str:
    return w._(GENDERS.get(gender, gender))


# -- problems of documents and commands ---------------------------------------------------

PROBLEMS = {
    # values
    "bad_clock": N_('"{value}" is not a time of day written HH:MM (00:00 to 24:00)'),
    "empty_window": N_("empty window: {start} is not before {end}"),
    "not_a_day": N_("{day} is not a day of the edition"),
    "window_overlap": N_("{start}–{end} overlaps {other_start}–{other_end} on the same day"),
    "empty_id": N_("the {kind} id is empty"),
    "bad_id": N_('the {kind} id "{id}" holds a space, a control or an invisible character'),
    "duplicate_id": N_('duplicate {kind} id "{id}"'),
    "bad_name": N_('"{value}" holds a control or an invisible character'),
    "bad_text": N_('"{value}" holds a control or an invisible character'),
    "below_minimum": N_("{value} is below the lowest allowed value, {minimum}"),
    "listed_twice": N_('"{id}" is listed twice'),
    "unknown_person": N_('unknown person "{id}"'),
    "unknown_room": N_('unknown room "{id}"'),
    "unknown_session": N_('unknown session "{id}"'),
    "unknown_audience": N_('unknown audience "{id}"'),
    "unknown_theme": N_('unknown theme "{id}"'),
    "unknown_venue": N_('unknown venue "{id}"'),
    "unknown_attendee": N_('unknown attendee "{id}"'),
    "unknown_schedule": N_('unknown schedule "{id}"'),
    "room_exists": N_('room "{id}" exists already'),
    "person_exists": N_('person "{id}" exists already'),
    "session_exists": N_('session "{id}" exists already'),
    # the edition
    "unknown_timezone": N_('unknown time zone "{value}"'),
    "no_days": N_("an edition needs at least one day"),
    "day_twice": N_("{day} is listed twice"),
    "day_closes_before_it_opens": N_("the day opens at {open}, not before it closes at {close}"),
    "break_outside_hours": N_("the break {start}–{end} is outside the open hours {open}–{close}"),
    "no_audiences": N_("an edition needs at least one audience"),
    "travel_to_itself": N_('travel from "{venue}" to itself'),
    "travel_twice": N_('travel between "{origin}" and "{destination}" is given twice'),
    "bad_licence": N_('"{value}" is not a licence id (an SPDX id such as CC-BY-SA-4.0)'),
    "bad_url": N_('"{value}" is not a web address'),
    # sessions
    "empty_format": N_("the format is empty"),
    "no_session_audience": N_("a session serves at least one audience"),
    "moderator_is_speaker": N_('"{id}" is already a speaker of this session'),
    "rotation_too_long": N_(
        "a rotation of {every} min does not fit in a session of {duration} min"
    ),
    "no_rooms_allowed": N_("the list of allowed rooms is empty"),
    "no_windows_allowed": N_("the list of allowed windows is empty"),
    "off_grid": N_("{start} is not on the {step}-minute grid"),
    "pinned_room_not_allowed": N_('"{room}" is not among the session\'s rooms'),
    "priority_range": N_("{value} is not between 1 and 10"),
    "after_itself": N_("a session cannot come after itself"),
    "not_parallel_itself": N_("a session cannot be kept apart from itself"),
    "precedence_cycle": N_("precedence cycle: {cycle}"),
    "registered_twice": N_('attendee "{attendee}" is registered twice'),
    # policies
    "share_range": N_("{value} is not a share between 0 and 1"),
    "max_below_min": N_("{maximum} is below min_parallel ({minimum}) or below 1"),
    "unknown_weight": N_('unknown weight "{name}" (known: {known})'),
    # commands
    "other_edition": N_('this stream holds the edition "{edition}"'),
    "no_edition_yet": N_("the edition does not exist yet: import a document first"),
    "schedule_stale": N_(
        "the schedule was computed on version {solved} and what it was computed from has "
        "changed since (the edition is at version {now}): solve again"
    ),
    "schedule_changed_inputs": N_(
        "the schedule was computed on version {solved} (the edition is at version {now}); "
        "what it was computed from has changed since: {changes} — solve again"
    ),
    "no_schedule_yet": N_("no schedule has been proposed yet: solve first"),
    "schedule_has_no_programme": N_('"{schedule}" is {status}: it holds no programme'),
    "schedule_no_longer_fits": N_('"{schedule}" no longer fits the edition: {violation}'),
    "no_programme_yet": N_("no programme is published yet: solve, then accept a schedule"),
    "filter_not_for_format": N_('{option} narrows the exports of a programme, not "{format}"'),
    "export_store_or_documents": N_(
        "export reads either a store (--store) or an edition document and a schedule "
        "document, not both"
    ),
    "export_needs_schedule": N_(
        'the "{format}" export of an edition document needs a schedule document after it'
    ),
    "binary_needs_output": N_('"{format}" is written to a file: name it with --output'),
    "not_in_programme": N_("{session} has no run {occurrence} in the programme"),
    "move_breaks_rule": N_("the move breaks the rule « {rule} »: {violation}"),
    "import_cancels_place": N_(
        'the import would cancel the place of "{attendee}" in "{session}" (run {occurrence}): '
        "import with --prune to accept it"
    ),
    # places
    "no_such_occurrence": N_(
        '"{session}" runs {occurrences} time(s): there is no run {occurrence}'
    ),
    "rotations_not_yet_known": N_(
        '"{session}" offers places per rotation: their times are known once a programme '
        "is published"
    ),
    "choose_rotation": N_('choose a rotation of "{session}": {rotations}'),
    "no_rotations": N_('"{session}" has no rotations'),
    "already_holds_place": N_('{attendee} already holds a place in "{session}"'),
    "session_not_for_audience": N_(
        '"{session}" is for {audiences}: {attendee} is registered as {audience}'
    ),
    "holds_overlapping_place": N_('{attendee} already holds a place in "{other}" at that time'),
    "holds_no_place": N_('{attendee} holds no place in "{session}"'),
    "reserve_rotation": N_('"{session}" offers places per rotation: it has no reserve chairs'),
    # documents
    "unknown_field": N_('unknown field "{field}"'),
    "missing_field": N_('missing required field "{field}"'),
    "not_a_date": N_("not a date written YYYY-MM-DD"),
    "wrong_type": N_("expected {expected}, got {got}"),
    "not_one_of": N_('"{value}" is not one of {choices}'),
    "bad_value": N_("not a valid value: {detail}"),
    "duplicate_key": N_('the key "{key}" is given twice'),
    "not_json": N_("not valid JSON: {detail}"),
    "not_toml": N_("not valid TOML: {detail}"),
    "not_utf8": N_("not UTF-8 text: {detail}"),
    "too_deep": N_("the document is nested too deeply to be an edition"),
    "unreadable_file": N_("cannot read {path}: {detail}"),
    "scenario_bad": N_("not a scenario file: {detail}"),
    "scenario_bad_solve": N_("time_limit must be above 0 and workers from 1 to 64"),
    "scenario_none": N_("the file names no scenario ([[scenario]] tables)"),
    "scenario_unnamed": N_("a scenario needs a name"),
    "scenario_repeated": N_('the scenario "{name}" is named twice'),
    "scenario_bad_policies": N_("not policies of an edition: {detail}"),
    "scenario_unknown_day": N_("{day} is not a day of the edition"),
    "wrong_format": N_('"{value}" is not a format this Créneau reads (expected "{expected}")'),
    "not_a_workbook": N_("{path} is not a workbook this Créneau reads (xlsx, ods): {detail}"),
    "missing_sheet": N_('the workbook has no sheet "{fr}" (or "{en}")'),
    "sheet_twice": N_('"{sheet}" and "{other}" are the same sheet: keep one'),
    "unknown_column": N_('"{column}" is not a column of the sheet "{sheet}"'),
    "column_twice": N_('the column "{column}" is given twice'),
    "unknown_sheet_field": N_('"{field}" is not a field of the sheet "{sheet}"'),
    "cell_not_whole_number": N_('"{value}" is not a whole number'),
    "cell_not_number": N_('"{value}" is not a number (0.4, or 40 %)'),
    "cell_not_yes_no": N_('"{value}" is neither yes nor no (oui, non, yes, no, x)'),
    "cell_not_time": N_('"{value}" is not a time of day (09:30, 9h30, or a spreadsheet time)'),
    "cell_not_date": N_('"{value}" is not a date (2023-10-12, 12/10/2023, or a spreadsheet date)'),
    "cell_not_window": N_('"{value}" is not a window written "2023-10-12 09:00-12:00"'),
    "cell_not_break": N_('"{value}" is not a break written "12:00-14:00 Lunch"'),
    "cell_not_after": N_(
        '"{value}" is not written "session", "session +10" or "session +10 same day"'
    ),
    "not_xml": N_("not well-formed XML: {detail}"),
    "not_a_feed": N_('an XML document whose root is "{found}", not a frab schedule ("schedule")'),
    "feed_doctype": N_(
        "the XML declares a document type or entities: a schedule feed needs none (refused, "
        "as entity expansion can exhaust memory)"
    ),
    "feed_missing": N_("the feed has no {what}"),
    "feed_bad_duration": N_('"{value}" is not a duration (HH:MM, or minutes)'),
    "feed_bad_time": N_('"{value}" is not a time of day (HH:MM)'),
    "feed_bad_date": N_('"{value}" is not a date (YYYY-MM-DD)'),
    "feed_crosses_midnight": N_("« {title} » ends after midnight: Créneau's days end at 24:00"),
    "not_a_schedule": N_("{path} is not a schedule document: {detail}"),
    "schedule_of_other_edition": N_('{path} is a schedule of "{other}", not of "{edition}"'),
    "bad_actor": N_('the actor "{actor}" is empty or holds a control or an invisible character'),
    "actor_is_an_address": N_(
        "the actor is recorded in the log for good: give an account name, not an e-mail address"
    ),
}

TYPES = {
    "int": N_("a whole number"),
    "float": N_("a number"),
    "str": N_("text"),
    "bool": N_("true or false"),
    "array": N_("a list"),
    "object": N_("a table"),
    "null": N_("nothing"),
}


class Names:
    """How ids are shown: sessions by their titles, rooms and people by their names."""

    def __init__(
        self,
        sessions: Mapping[str, tuple[str, int]] | None = None,
        rooms: Mapping[str, str] | None = None,
        people: Mapping[str, str] | None = None,
    ) -> None:
        self.sessions = sessions or {}
        self.rooms = rooms or {}
        self.people = people or {}

    @classmethod
    def of(cls, edition: EditionSnapshot) -> Names:
        return cls(
            {s.id: (s.title or s.id, s.occurrences) for s in edition.sessions},
            {r.id: r.name or r.id for r in edition.rooms},
            {p.id: p.name or p.id for p in edition.people},
        )

    @classmethod
    def of_document(cls, doc: Mapping[str, Any]) -> Names:
        """Names read from a raw edition document (what ``creneau check`` has)."""

        def entries(key: str) -> list[Mapping[str, Any]]:
            found = doc.get(key, ())
            return [x for x in found if isinstance(x, Mapping) and "id" in x] if isinstance(
                found, list) else []  # fmt: skip

        return cls(
            {str(s["id"]): (str(s.get("title") or s["id"]), int(s.get("occurrences", 1)))
             for s in entries("sessions")},
            {str(r["id"]): str(r.get("name") or r["id"]) for r in entries("rooms")},
            {str(p["id"]): str(p.get("name") or p["id"]) for p in entries("people")},
        )  # fmt: skip

    def title(self, session: str) -> str:
        return self.sessions.get(session, (session, 1))[0]


def _value(name: str, value: Any, w: Words, names: Names | None) -> str:
    if name in ("day",) and isinstance(value, str) and len(value) == 10:
        try:
            return w.date(value)
        except ValueError:
            return value
    if name == "kind":
        return w._(KINDS.get(value, value))
    if name in ("expected", "got") and value in TYPES:
        return w._(TYPES[value])
    if name == "rule":
        return rule_name(value, w)
    if name == "violation":
        return violation_text(value, w, names)
    if name == "audience":
        return audience_name(value, w)
    if name == "audiences":
        return w.listing([audience_name(a, w) for a in value])
    if name in ("cycle",):
        return " → ".join(f"« {x} »" for x in value)
    if name == "share":
        return w.percent(value)
    if name == "changes":
        return changes_text(value, w, names)
    if isinstance(value, tuple | list):
        return ", ".join(str(x) for x in value)
    return str(value)


SHOWN_CHANGES = 8  # what a refused schedule lists of the changes since its solve


def changes_text(keys: Sequence[str], w: Words, names: Names | None) -> str:
    """What changed, from the keys the core names them by ("room:r1", "policies")."""
    names = names or Names()
    words = []
    for key in keys[:SHOWN_CHANGES]:
        kind, _, subject = key.partition(":")
        if kind == "session":
            words.append(w._("the session « {title} »", title=names.title(subject)))
        elif kind == "room":
            words.append(w._("the room « {name} »", name=names.rooms.get(subject, subject)))
        elif kind == "person":
            words.append(w._("{name}'s details", name=names.people.get(subject, subject)))
        elif kind == "policies":
            words.append(w._("the rules"))
        elif kind == "programme":
            words.append(w._("the published programme"))
        elif kind == "edition":
            words.append(w._("the edition's days, audiences or venues"))
        else:
            words.append(key)
    if len(keys) > SHOWN_CHANGES:
        words.append(w.n_("{n} other change", "{n} other changes", len(keys) - SHOWN_CHANGES))
    return w.listing(words)


def problem_text(p: Problem, w: Words, names: Names | None = None) -> str:
    """A problem in words, behind the path of the offending value."""
    message = PROBLEMS.get(p.code)
    values = {k: for_terminal(_value(k, v, w, names)) for k, v in p.params.items()}
    text = w._(message, **values) if message else f"{p.code} {values}"
    return w._("{path}: {problem}", path=for_terminal(p.path), problem=text) if p.path else text


# -- broken rules -------------------------------------------------------------------------

VIOLATIONS = {
    "unknown_session": N_("{slot}: not a session of the edition"),
    "not_scheduled": N_("« {session} » is not in the schedule"),
    "wrong_occurrences": N_("« {session} » needs runs 1 to {expected}; the schedule has {found}"),
    "not_a_day": N_("{slot}: not a day of the edition"),
    "wrong_duration": N_("{slot}: lasts {minutes} min, not {duration}"),
    "off_grid": N_("{slot}: starts off the {step}-minute grid"),
    "outside_open_hours": N_("{slot}: outside the open hours {open}–{close}"),
    "in_break": N_("{slot}: runs into the break {start}–{end}"),
    "outside_windows": N_("{slot}: outside the session's windows"),
    "not_where_pinned": N_("{slot}: not where the committee pinned it"),
    "occurrences_overlap": N_("{slot} and {other} overlap"),
    "unknown_room": N_("{slot}: not a room of the edition"),
    "room_lacks": N_("{slot}: the room lacks {features}"),
    "room_not_allowed": N_("{slot}: not among the session's rooms"),
    "room_too_small": N_(
        "{slot}: needs {need} seats; the room has {capacity} + {reserve} in reserve"
    ),
    "room_closed": N_("{slot}: the room is not available then"),
    "room_taken": N_("{slot}: the room already holds {others}"),
    "hall_seats": N_(
        "{slot}: with {others}, {need} seats are needed at once; the hall has {capacity} + "
        "{reserve} in reserve"
    ),
    "unknown_person": N_("{person} is not a person of the edition"),
    "person_not_available": N_("{person} is not available for {slot}"),
    "person_unavailable": N_("{person} is unavailable during {slot}"),
    "person_too_close": N_("{person}: {slot} then {other} leave less than {minutes} min between"),
    "too_many_per_day": N_("{person}: {count} sessions on {day}, at most {maximum}"),
    "beside_exclusive": N_("{slot} runs beside {other}, which has nothing beside it"),
    "too_soon_after": N_("{slot} must start at least {gap} min after {other} ends"),
    "not_same_day": N_("{slot} must be on the same day as {other}"),
    "parallel": N_("{slot} overlaps {other}"),
    "no_time_to_move": N_(
        "{slot} starts less than {minutes} min after {other} ends, in another room: its "
        "audience has no time to move"
    ),
    "moderator_count": N_("{slot}: needs one moderator, has {count}"),
    "moderator_not_needed": N_("{slot}: needs no moderator, was given {people}"),
    "cannot_moderate": N_("{slot}: {person} may not moderate"),
    "moderator_on_session": N_("{slot}: {person} is already on the session"),
    "all_men": N_("{slot}: only men on stage"),
    "women_share_low": N_(
        "{women} women out of {total} women and men on the programme: below {share}"
    ),
    "track_too_few": N_("{audience}: {count} sessions at {time} on {day}, at least {minimum}"),
    "track_too_many": N_("{audience}: {count} sessions at {time} on {day}, at most {maximum}"),
}


def slot_text(slot: Sequence[Any], w: Words, names: Names | None) -> str:
    """« Title » (2/3), jeudi 12 octobre 14:00–15:30, Room name."""
    session, occurrence, day, start, end, room = slot
    names = names or Names()
    title, runs = names.sessions.get(session, (session, 1))
    room_name = names.rooms.get(room, room)
    run = f" ({occurrence}/{runs})" if runs > 1 else ""
    return w._("« {title} »{run}, {day} {start}–{end}, {room}", title=title, run=run,
               day=w.short_date(day), start=start, end=end, room=room_name)  # fmt: skip


class Broken(Protocol):
    """A broken rule, from the domain's check or from the validator."""

    @property
    def rule(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def params(self) -> Mapping[str, Any]: ...


def violation_text(v: Broken, w: Words, names: Names | None) -> str:
    values: dict[str, str] = {}
    names = names or Names()
    for k, value in v.params.items():
        if k in ("slot", "other"):
            values[k] = slot_text(value, w, names)
        elif k == "others":
            values[k] = w.listing([slot_text(x, w, names) for x in value])
        elif k == "person":
            values[k] = names.people.get(value, str(value))
        elif k == "session":
            values[k] = names.title(value)
        elif k == "features":
            values[k] = w.listing([feature_name(f, w) for f in value])
        elif k == "found":
            values[k] = ", ".join(map(str, value)) or "—"
        elif k == "people":
            values[k] = ", ".join(value)
        else:
            values[k] = _value(k, value, w, names)
    message = VIOLATIONS.get(v.code)
    return w._(message, **values) if message else f"{v.code} {values}"


# How an erased person is shown, wherever their name was.
ERASED = N_("erased person")


def shown(state: Any, w: Words) -> EditionSnapshot:
    """The edition of ``state`` as people read it: erased people under ERASED."""
    snapshot: EditionSnapshot = state.snapshot(erased=w._(ERASED))
    return snapshot


# -- errors ---------------------------------------------------------------------------------

ERRORS = {
    "unknown_edition": N_('no edition "{edition}" in this store'),
    "nothing_to_forget": N_('nothing is held about "{id}": nothing to erase'),
    "nothing_held": N_('nothing is held about "{id}"'),
    "unknown_role": N_('"{role}" is not a role (the roles: {roles})'),
    "admin_has_no_edition": N_("an admin token acts on every edition: give it no --edition"),
    "token_needs_edition": N_("a token acts on one edition: name it with --edition"),
    "token_name_taken": N_('a live token is already called "{name}"'),
    "no_such_token": N_('no live token "{token}"'),
    "token_needs_name": N_("name the token with --name"),
    "token_needs_role": N_("give the token a role with --role"),
    "concurrency": N_(
        'someone else wrote to "{stream}" first (it is at version {actual}, not {expected}): '
        "read it again and retry"
    ),
    "duplicate_event": N_("event {event} is already stored elsewhere"),
    "unreadable_event": N_(
        'the event at version {version} of "{stream}" cannot be read ({detail}): run '
        "`creneau verify` to check the store"
    ),
    "store_locked": N_("the store {path} stayed locked: {detail}"),
    "cannot_open_store": N_("cannot open the store {path}: {detail}"),
    "store_schema_newer": N_(
        "{path} holds a store of schema version {found}; this Créneau reads up to version "
        "{known}: upgrade Créneau to use it"
    ),
    "store_schema_older": N_(
        "the store is at schema version {found}; this Créneau needs {known}: run "
        "`creneau store migrate`"
    ),
    "not_a_creneau_store": N_(
        "{path} is not a Créneau store (it belongs to another application, or holds other "
        "tables): nothing was changed in it"
    ),
    "store_read_only": N_("the store {path} is read-only: {detail}"),
    "store_full": N_("the disk holding {path} is full; nothing was written"),
    "store_write_failed": N_(
        "the store {path} could not be written: {detail}; nothing was written"
    ),
    "store_damaged": N_("the store {path} is damaged: {detail}"),
    "no_store": N_("no store at {path} (import an edition to create one)"),
    "no_store_folder": N_("cannot create a store at {path}: the folder {folder} does not exist"),
    "no_postgres_store": N_(
        'no store in schema "{schema}" of that database (import an edition, or run '
        "`creneau store migrate`, to create one)"
    ),
    "bad_schema_name": N_(
        'the schema name "{schema}" may hold only lower-case letters, digits and _, and '
        "must start with a letter or _"
    ),
    "postgres_unreachable": N_("cannot reach PostgreSQL: {detail}"),
    "postgres_lost": N_(
        "the connection to PostgreSQL was lost ({detail}); the batch was not written, or "
        "was written whole: doing it again is safe"
    ),
    "postgres_no_answer": N_("PostgreSQL did not answer: {detail}"),
    "stream_locked": N_(
        'the edition "{stream}" stayed locked past the lock timeout; nothing was written'
    ),
    "too_many_positions": N_("the store has run out of positions"),
    # what the command line itself refuses
    "no_such_edition": N_('no edition "{edition}" in this store (it holds: {editions})'),
    "store_empty": N_("this store holds no edition yet"),
    "several_editions": N_(
        "this store holds several editions; name one with --edition: {editions}"
    ),
    "bad_at": N_('--at "{value}" is neither a version number nor an ISO time'),
    "solve_document_or_store": N_("solve takes an edition document, or --store, not both"),
    "solve_needs_output": N_("solve EDITION needs --output FILE"),
    "queue_needs_store": N_(
        "--queue and --detach solve an edition of a store (--store), without --previous"
    ),
    "queue_needs_postgres": N_(
        "the queue of solve jobs lives in a PostgreSQL store; {store} is not one (with "
        "SQLite, solves run in the process that asks for them)"
    ),
    "no_programme_to_diff": N_("no programme is published yet: name two schedules"),
    "no_such_schedule": N_('no schedule "{schedule}" in this edition (known: {known})'),
    "csv_empty": N_("{path} is empty"),
    "csv_header": N_(
        "{path}, line 1: the columns are {columns} (attendee and session required); found {found}"
    ),
    "checkpoint_header": N_(
        'a checkpoint starts with "{header} <digest>", or is that digest alone'
    ),
    "checkpoint_line": N_('line {line} of the checkpoint is not "stream version hash"'),
    "checkpoint_digest": N_(
        "the checkpoint's lines do not match its digest: it was copied wrong or altered"
    ),
}


def error_lines(exc: CreneauError, w: Words, names: Names | None = None) -> list[str]:
    """An error in words: one line, or the problems of a refusal one per line."""
    if isinstance(exc, InvalidCommand):
        return [problem_text(p, w, names) for p in exc.problems]
    message = ERRORS.get(exc.code) or PROBLEMS.get(exc.code)
    values = {k: for_terminal(_value(k, v, w, names)) for k, v in exc.params.items()}
    if message is None:
        return [f"{exc.code} {values}"]
    if "stream" in values:
        values["stream"] = values["stream"].removeprefix("edition-")
    return [w._(message, **values)]


# -- conflicts: why no programme exists ----------------------------------------------------

CONFLICTS: Mapping[str, str] = {
    "open_hours": N_(
        "« {title} » ({duration} min) fits nowhere in the days' open hours, clear of breaks"
    ),
    "too_long": N_("« {title} » lasts {duration} min, longer than the longest day ({longest} min)"),
    "occurrences": N_(
        "« {title} » runs {occurrences} times, one after the other ({duration} min each)"
    ),
    "windows": N_("« {title} » must fit inside {spans}"),
    "fixed": N_("« {title} » is pinned: {where}"),
    "fixed_room_unfit": N_(
        "« {title} » is pinned to {room}, which lacks the features or seats it needs"
    ),
    "room_fit_none": N_("« {title} » needs {needs}: no room has all of it"),
    "room_fit_only": N_("« {title} » needs {needs}: only {rooms} can host it"),
    "room_availability": N_("{room} is open only {spans}"),
    "room_overlap": N_("{room} holds one session at a time"),
    "room_overlap_many": N_("{room} holds {concurrent} sessions at a time"),
    "room_overlap_changeover": N_(
        "{room} holds one session at a time, with {changeover} min between two"
    ),
    "room_seats": N_("{room} seats {seats} people at once, whatever runs in it"),
    "room_pinned_full": N_(
        "{room} is pinned for « {title} » {when} while already holding {others}"
    ),
    "room_minutes": N_("the sessions need {demand} room-minutes; the rooms offer {supply}"),
    "room_only_minutes": N_(
        "the {count} sessions only {room} can host need {demand} min; it is open {supply} min"
    ),
    "person_availability": N_("{name} is available {when}"),
    "person_availability_except": N_("{name} is available {when}, except {off}"),
    "person_pinned_unavailable": N_("{name} is not available {when}, when « {title} » is pinned"),
    "person_overlap": N_("{name} cannot be in two of {titles} at once"),
    "person_overlap_gap": N_(
        "{name} cannot be in two of {titles} at once, with {gap} min between two"
    ),
    "max_per_day": N_("{name} appears in {maximum} sessions a day at most"),
    "exclusive": N_("« {title} » runs with nothing else for {audiences} beside it"),
    "after": N_("« {later} » starts at least {gap} min after « {earlier} » ends"),
    "after_same_day": N_(
        "« {later} » starts at least {gap} min after « {earlier} » ends, the same day"
    ),
    "after_chain": N_(
        "the same-day chain of sessions ending with « {title} » needs {minutes} min, more "
        "than the longest day ({longest} min)"
    ),
    "no_all_male_panels": N_("« {title} » may not have only men on stage"),
    "parity_share": N_("women are at least {share} of the people on the programme"),
    "moderator": N_("« {title} » needs a moderator who is free and may moderate"),
    "tracks_min": N_("at least {count} sessions for {audience} during {spans}"),
    "tracks_max": N_("at most {count} sessions for {audience} during {spans}"),
    "not_parallel": N_("« {one} » and « {two} » must not overlap"),
    "attendee_gap": N_("the audience needs {minutes} min between two sessions in different rooms"),
    "unexplained": N_("no schedule exists, and the search for every reason ran out of time"),
}

LEFT_OUT = {
    "not selected": N_("not selected"),
    "worth less": N_("not selected: it would fit, but is worth less than it costs"),
    "no room left": N_(
        "left out: no room and time are left free for it, its people included, beside the "
        "sessions chosen"
    ),
}

LEFT_OUT_RULES = {
    "no_all_male_panels": N_("it would be a panel of men only (parity)"),
    "parity_share": N_("it would bring the share of women below the minimum (parity)"),
    "moderator": N_("no moderator is free for it"),
    "room_fit": N_("no room fits it"),
    "open_hours": N_("it fits nowhere in the open hours"),
    "tracks": N_("its audience track would have too many sessions at once"),
    "exclusive": N_("a plenary runs at every time it could take"),
    "room_overlap": N_("every room it fits is taken whenever it could run"),
    "room_availability": N_("the rooms it fits are closed whenever it could run"),
    "person_overlap": N_("its people are on other sessions whenever it could run"),
    "person_availability": N_("its people are not available whenever it could run"),
    "max_per_day": N_("its people already have as many sessions a day as they accept"),
    "attendee_gap": N_("its audience would have no time to move between sessions"),
}


def impossible_text(explanation: Sequence[Explained], w: Words) -> str:
    """Why no programme exists, the rules found to conflict in one sentence."""
    return w._("no schedule exists; these rules conflict: {rules}",
               rules="; ".join(conflict_text(c, w) for c in explanation))  # fmt: skip


def conflict_text(c: Conflict | Explained, w: Words) -> str:
    """Why no programme exists, one rule about one subject, in a committee's words."""
    values: dict[str, str] = {}
    for k, v in c.params.items():
        values[k] = _conflict_value(k, v, w)
    message = CONFLICTS.get(c.code)
    if c.code == "room_availability" and not c.params.get("spans"):
        message = N_("{room} is closed throughout the edition")
    return w._(message, **values) if message else f"{c.rule} ({c.subject})"


def _spans(spans: Sequence[Sequence[str]], w: Words) -> str:
    if not spans:
        return w._("never")
    return w.listing([f"{w.short_date(d)} {a}–{b}" for d, a, b in spans])


def _conflict_value(name: str, value: Any, w: Words) -> str:
    if name in ("spans", "when", "off"):
        if value == "always":
            return w._("always")
        return _spans(value, w)
    if name == "needs":
        features, seats = value
        bits = []
        if features:
            bits.append(w.listing([feature_name(f, w) for f in features]))
        if seats:
            bits.append(w._("{n} seats", n=seats))
        return w.listing(bits) or w._("a room")
    if name in ("rooms", "titles", "others"):
        items = [f"« {x} »" if name != "rooms" else x for x in value]
        if name == "titles" and len(items) > 5:
            return w._("{first} and {n} more", first=", ".join(items[:5]), n=len(items) - 5)
        return w.listing(items)
    if name == "audiences":
        return w.listing([audience_name(a, w) for a in value])
    if name == "audience":
        return audience_name(value, w)
    if name == "share":
        return w.percent(value)
    if name == "where":
        day, start, room = value
        return " ".join(x for x in (w.short_date(day) if day else "", start or "", room or "") if x)
    return str(value)


def left_out_text(reason: str, rules: Sequence[str], w: Words) -> str:
    if reason == "left out":
        words = [w._(LEFT_OUT_RULES[r]) for r in rules if r in LEFT_OUT_RULES]
        return w._("left out: {why}", why="; ".join(words)) if words else w._(
            LEFT_OUT["no room left"])  # fmt: skip
    return w._(LEFT_OUT.get(reason, reason))
