"""``creneau import``: an edition document into a store, saying what it changes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from creneau.adapters._cli_common import EXIT_OK, service_for
from creneau.adapters._describe import KINDS, summary_lines
from creneau.adapters._i18n import Words, for_terminal
from creneau.adapters._messages import shown
from creneau.adapters.bootstrap import is_postgres, open_store
from creneau.adapters.edition_document import LoadedDocument, load_edition
from creneau.scheduler import (
    EditionService,
    EditionSnapshot,
    EditionState,
    EntityChange,
    ImportEdition,
    decide_and_fold,
    describe_events,
)

__all__ = ["cmd_import", "kept_lines"]


def _state_before(args: argparse.Namespace, edition_id: str) -> EditionState:
    """The edition as the store holds it now (an empty one when there is no store yet),
    read without creating anything."""
    if not is_postgres(args.store) and not Path(args.store.removeprefix("sqlite:")).exists():
        return EditionState()
    try:
        store = open_store(args.store, read_only=True)
    except Exception:
        return EditionState()
    try:
        service = EditionService(store)
        return service.load(edition_id) if edition_id in service.editions() else EditionState()
    finally:
        store.close()


def kept_lines(state: EditionState, snap: EditionSnapshot, w: Words) -> list[str]:
    """What the edition holds that the document does not name, kept without --prune."""
    if not state.exists:
        return []
    lines = []
    named = {
        "room": {r.id for r in snap.rooms},
        "person": {p.id for p in snap.people},
        "session": {s.id for s in snap.sessions},
        "registration": {g.attendee for g in snap.registrations},
    }
    held = {
        "room": list(state.rooms),
        "person": list(state.people),
        "session": list(state.sessions),
        "registration": list(state.registrations),
    }
    for kind, (one, many) in KINDS.items():
        missing = [x for x in held[kind] if x not in named[kind]]
        if missing:
            shown = ", ".join(for_terminal(x) for x in missing[:8])
            if len(missing) > 8:
                shown = w._("{first} and {n} more", first=shown, n=len(missing) - 8)
            lines.append(w._("{count} {kind}: {ids}", count=len(missing),
                             kind=w._(one if len(missing) == 1 else many), ids=shown))  # fmt: skip
    return lines


def _changes(before: EditionState, command: ImportEdition) -> list[EntityChange]:
    events, _ = decide_and_fold(before, command)
    return [c for _, c in describe_events(before, events) if c is not None]


def cmd_import(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    document: LoadedDocument = load_edition(args.file)  # a bad file must not make a store
    command = ImportEdition(snapshot=document.snapshot, source=document.source,
                            sha256=document.sha256, prune=args.prune)  # fmt: skip
    edition = document.snapshot.id
    before = _state_before(args, edition)
    changes = _changes(before, command)  # refused here: nothing was created or written
    kept = [] if args.prune else kept_lines(before, document.snapshot, w)
    if args.dry_run:
        if not changes:
            print(w.say('"{edition}" is already as {source} says: nothing would change.',
                        edition=edition, source=document.source), file=out)  # fmt: skip
        else:
            print(
                w.nsay(
                    'Importing {source} would record {n} change in "{edition}":',
                    'Importing {source} would record {n} changes in "{edition}":',
                    len(changes),
                    source=document.source,
                    edition=edition,
                ),
                file=out,
            )
            for line in summary_lines(changes, w):
                print(f"  {line}", file=out)
        _print_kept(kept, w, out)
        print(w._("(dry run: nothing was recorded)"), file=out)
        return EXIT_OK
    with service_for(args, create=True) as service:
        recorded = service.execute(command, actor=args.actor)
        if recorded:
            start = recorded[0].version - 1
            was = before if before.version == start else service.load(edition, at_version=start)
            events = service.events_of(recorded)
            changes = [c for _, c in describe_events(was, events) if c is not None]
    if not recorded:
        print(w.say('"{edition}" is already as {source} says: nothing recorded.',
                    edition=edition, source=document.source), file=out)  # fmt: skip
    else:
        print(
            w.nsay(
                'Imported "{edition}": {n} change, now at version {version}.',
                'Imported "{edition}": {n} changes, now at version {version}.',
                len(changes),
                edition=edition,
                version=recorded[-1].version,
            ),
            file=out,
        )
        for line in summary_lines(changes, w):
            print(f"  {line}", file=out)
    _print_kept(kept, w, out)
    if document.placements is not None:
        _record_feed_programme(args, document, w, out)
    return EXIT_OK


def _record_feed_programme(
    args: argparse.Namespace, document: LoadedDocument, w: Words, out: TextIO
) -> None:
    """The times and rooms a feed gives, recorded as a proposed schedule: the committee
    publishes it as it is (`accept`, which refuses it while it breaks a rule), keeps it
    as the starting point of a solve, or exports it (`export --schedule ID`)."""
    from creneau.adapters._messages import Names, violation_text
    from creneau.scheduler import RecordSchedule, ScheduleDocument, check_schedule

    edition = document.snapshot.id
    placements = document.placements or ()
    with service_for(args) as service:
        state = service.load(edition)
        mine = [s for s in state.schedules.values() if s.assignments == placements]
        if mine:
            return  # imported before: the same programme is there already
        service.execute(RecordSchedule(schedule=ScheduleDocument(
            edition=edition, stream_version=state.version, status="feasible",
            assignments=placements)), edition_id=edition, actor=args.actor)  # fmt: skip
        state = service.load(edition)
    schedule_id = list(state.schedules)[-1]
    print(w.nsay('The programme of {source} ({n} run) is recorded as "{schedule}": '
                 "`creneau accept {schedule}` publishes it.",
                 'The programme of {source} ({n} runs) is recorded as "{schedule}": '
                 "`creneau accept {schedule}` publishes it.", len(placements),
                 source=document.source, schedule=schedule_id), file=out)  # fmt: skip
    broken = check_schedule(shown(state, w), placements)
    if broken:
        names = Names.of(shown(state, w))
        print(w.nsay("As published there, it breaks {n} hard rule of Créneau:",
                     "As published there, it breaks {n} hard rules of Créneau:", len(broken)),
              file=out)  # fmt: skip
        for v in broken[:20]:
            print(f"  ! {violation_text(v, w, names)}", file=out)
        if len(broken) > 20:
            print("  " + w.nsay("… and {n} more", "… and {n} more", len(broken) - 20), file=out)
        print(w.say("  → `creneau solve --store {store}` finds a programme that breaks none.",
                    store=args.store), file=out)  # fmt: skip


def _print_kept(kept: list[str], w: Words, out: TextIO) -> None:
    if kept:
        print(w._("Kept, though the document does not name them (--prune removes them):"),
              file=out)  # fmt: skip
        for line in kept:
            print(f"  {line}", file=out)
