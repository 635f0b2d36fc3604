"""The capacity side of the command line: register, cancel, places."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import TextIO

from adapters._cli_common import EXIT_INVALID, EXIT_OK, UsageError, pick_edition, service_for
from scheduler import (
    BookPlace,
    BookPlaces,
    CancelPlace,
    InvalidCommand,
    decide,
    decode_event,
    place_lines,
    replay,
)
from scheduler._events import PlacePromoted

__all__ = ["cmd_cancel", "cmd_import_registrations", "cmd_places", "cmd_register"]

COLUMNS = ("attendee", "session", "profile", "occurrence", "rotation")


def cmd_register(args: argparse.Namespace, out: TextIO) -> int:
    command = BookPlace(attendee=args.attendee, session_id=args.session,
                        occurrence=args.occurrence or 1, rotation=args.rotation,
                        profile=args.profile)  # fmt: skip
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        service.execute(command, edition_id=edition, actor=args.actor, attempts=20)
        state = service.load(edition)
    confirmed, waiting = state.places[(args.session, command.occurrence, args.rotation)]
    if args.attendee in confirmed:
        print("confirmed", file=out)
    else:
        print(f"waiting {waiting.index(args.attendee) + 1}", file=out)
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace, out: TextIO) -> int:
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        recorded = service.execute(
            CancelPlace(attendee=args.attendee, session_id=args.session),
            edition_id=edition,
            actor=args.actor,
            attempts=20,
        )
    print("cancelled", file=out)
    for record in recorded[1:]:
        event = decode_event(record.type, record.schema_version, record.payload)
        if isinstance(event, PlacePromoted):
            print(f"{event.attendee} takes the place, from the waiting list", file=out)
    return EXIT_OK


def cmd_places(args: argparse.Namespace, out: TextIO) -> int:
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        state = service.load(edition)
    print(f"{'session':<28} {'occ.':>4} {'rotation':>8} {'offered':>8} {'confirmed':>9} "
          f"{'waiting':>7}", file=out)  # fmt: skip
    for line in place_lines(state):
        offered = "—" if line.offered is None else str(line.offered)
        print(f"{line.session:<28} {line.occurrence:>4} {line.rotation or '':>8} {offered:>8} "
              f"{line.confirmed:>9} {line.waiting:>7}", file=out)  # fmt: skip
    return EXIT_OK


def _rows(path: str) -> tuple[list[tuple[int, BookPlace]], list[str]]:
    """The bookings of a spreadsheet (CSV, a header line naming the columns), each with
    its line number; and the rows that cannot even be read, with theirs."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    lines = text.splitlines()
    if not lines:
        raise UsageError(f"{path} is empty")
    dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    reader = csv.DictReader(lines, dialect=dialect)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or "attendee" not in header or "session" not in header:
        raise UsageError(
            f"{path}, line 1: the columns are {', '.join(COLUMNS)} "
            f"(attendee and session required); found {', '.join(header)}"
        )
    reader.fieldnames = header
    bookings, bad = [], []
    for number, row in enumerate(reader, start=2):
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        occurrence = values.get("occurrence") or "1"
        if not occurrence.isdigit():
            bad.append(f'line {number}: occurrence "{occurrence}" is not a number')
            continue
        bookings.append((number, BookPlace(
            attendee=values.get("attendee", ""), session_id=values.get("session", ""),
            occurrence=int(occurrence), rotation=values.get("rotation") or None,
            profile=values.get("profile") or None,
        )))  # fmt: skip
    return bookings, bad


def cmd_import_registrations(args: argparse.Namespace, out: TextIO) -> int:
    bookings, bad = _rows(args.file)
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        # Try every row on a copy of the edition first: each bad row is named.
        state = service.load(edition)
        good: list[tuple[int, BookPlace]] = []
        for number, booking in bookings:
            try:
                state = replay(decide(state, booking), state)
                good.append((number, booking))
            except InvalidCommand as refused:
                bad += [f"line {number}: {p.message}" for p in refused.problems]
        bad.sort(key=lambda line: int(line.split()[1].rstrip(":")))
        if bad and args.all_or_nothing:
            print(f"{len(bad)} rows refused; nothing recorded (--all-or-nothing):", file=out)
            for line in bad:
                print(f"  {line}", file=out)
            return EXIT_INVALID
        if args.all_or_nothing:
            service.execute(BookPlaces(bookings=tuple(b for _, b in good)), edition_id=edition,
                            actor=args.actor)  # fmt: skip
        else:
            for _, booking in good:
                service.execute(booking, edition_id=edition, actor=args.actor, attempts=20)
    print(f"{len(good)} rows recorded" + (f"; {len(bad)} rows refused:" if bad else ""),
          file=out)  # fmt: skip
    for line in bad:
        print(f"  {line}", file=out)
    return EXIT_INVALID if bad else EXIT_OK
