"""The capacity side of the command line: register, cancel, places."""

from __future__ import annotations

import argparse
from typing import TextIO

from adapters._cli_common import EXIT_OK, pick_edition, service_for
from scheduler import BookPlace, CancelPlace, decode_event, place_lines
from scheduler._events import PlacePromoted

__all__ = ["cmd_cancel", "cmd_places", "cmd_register"]


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
