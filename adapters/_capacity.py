"""The capacity side of the command line: register, cancel, places, registrations from a
spreadsheet."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import TextIO

from creneau.adapters._cli_common import (
    EXIT_INVALID,
    EXIT_OK,
    UsageError,
    pick_edition,
    service_for,
)
from creneau.adapters._i18n import Words, for_terminal
from creneau.adapters._messages import problem_text
from creneau.scheduler import (
    BookPlace,
    BookPlaces,
    CancelPlace,
    CloseReserve,
    OpenReserve,
    Problem,
    book_all,
)
from creneau.scheduler._events import Event, PlaceBumped, PlacePromoted

__all__ = ["cmd_cancel", "cmd_import_registrations", "cmd_places", "cmd_register"]

COLUMNS = ("attendee", "session", "profile", "occurrence", "rotation")


def cmd_register(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    command = BookPlace(attendee=args.attendee, session_id=args.session,
                        occurrence=args.occurrence or 1, rotation=args.rotation,
                        profile=args.profile)  # fmt: skip
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        service.execute(command, edition_id=edition, actor=args.actor, attempts=20)
        state = service.load(edition)
    confirmed, waiting = state.places[(args.session, command.occurrence, args.rotation)]
    if args.attendee in confirmed:
        print(w._("confirmed"), file=out)
    else:
        print(w._("waiting list, position {n}", n=waiting.index(args.attendee) + 1), file=out)
    return EXIT_OK


def _print_moves(events: list[Event], w: Words, out: TextIO) -> None:
    for event in events:
        if isinstance(event, PlacePromoted):
            print(w.say("{attendee} takes a place in {session}, from the waiting list",
                        attendee=event.attendee, session=event.session_id), file=out)  # fmt: skip
        elif isinstance(event, PlaceBumped):
            print(w.say("{attendee} goes back to the waiting list of {session}",
                        attendee=event.attendee, session=event.session_id), file=out)  # fmt: skip


def cmd_cancel(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        recorded = service.execute(
            CancelPlace(attendee=args.attendee, session_id=args.session),
            edition_id=edition,
            actor=args.actor,
            attempts=20,
        )
        moved = service.events_of(recorded[1:])
    print(w._("cancelled"), file=out)
    _print_moves(moved, w, out)
    return EXIT_OK


def cmd_places(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    change = args.open_reserve or args.close_reserve
    with service_for(args, read_only=change is None) as service:
        edition = pick_edition(service, args.edition)
        if change is not None:
            command = (OpenReserve(session_id=change) if args.open_reserve
                       else CloseReserve(session_id=change))  # fmt: skip
            recorded = service.execute(command, edition_id=edition, actor=args.actor)
            if args.open_reserve:
                print(w.say("reserve chairs of {session} offered as places", session=change),
                      file=out)  # fmt: skip
            else:
                print(w.say("reserve chairs of {session} no longer offered", session=change),
                      file=out)  # fmt: skip
            _print_moves(service.events_of(recorded), w, out)
            print(file=out)
        service.views.catch_up()
        lines = service.views.places(edition)
    header = (w._("session"), w._("run"), w._("rotation"), w._("offered"), w._("confirmed"),
              w._("waiting"))  # fmt: skip
    print(f"{header[0]:<28} {header[1]:>5} {header[2]:>8} {header[3]:>8} {header[4]:>9} "
          f"{header[5]:>8}", file=out)  # fmt: skip
    for line in lines:
        offered = "—" if line.offered is None else str(line.offered)
        if line.reserve_open:
            offered += "*"
        print(f"{for_terminal(line.session):<28} {line.occurrence:>5} {line.rotation or '':>8} "
              f"{offered:>8} {line.confirmed:>9} {line.waiting:>8}", file=out)  # fmt: skip
    if any(line.reserve_open for line in lines):
        print(w._("* reserve chairs included"), file=out)
    return EXIT_OK


def _rows(path: str) -> tuple[list[tuple[int, BookPlace]], list[tuple[int, str]]]:
    """The bookings of a spreadsheet (CSV, a header line naming the columns), each with
    its line number; and the rows that cannot be read, with theirs and what is wrong.
    Lines are read one by one: a quote left open spoils its own line, not the next."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError("unreadable_file", path=path, detail=exc.strerror or str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise UsageError("not_utf8", detail=str(exc)) from exc
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise UsageError("csv_empty", path=path)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # one column, or nothing to tell the delimiter by
    try:
        header = [h.strip().lower() for h in next(csv.reader([lines[0]], dialect, strict=True))]
    except csv.Error as exc:
        raise UsageError("csv_header", path=path, columns=COLUMNS, found=lines[0]) from exc
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or "attendee" not in header or "session" not in header:
        raise UsageError("csv_header", path=path, columns=COLUMNS, found=", ".join(header))
    bookings: list[tuple[int, BookPlace]] = []
    bad: list[tuple[int, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            cells = next(csv.reader([line], dialect, strict=True))
        except csv.Error:
            bad.append((number, "csv_quote"))
            continue
        if len(cells) > len(header):
            bad.append((number, "csv_cells"))
            continue
        values = {k: v.strip() for k, v in zip(header, cells, strict=False)}
        occurrence = values.get("occurrence") or "1"
        if not (occurrence.isdecimal() and occurrence.isascii()):
            bad.append((number, f"csv_occurrence:{occurrence}"))
            continue
        bookings.append((number, BookPlace(
            attendee=values.get("attendee", ""), session_id=values.get("session", ""),
            occurrence=int(occurrence), rotation=values.get("rotation") or None,
            profile=values.get("profile") or None,
        )))  # fmt: skip
    return bookings, bad


def _row_problem(code: str, w: Words) -> str:
    if code.startswith("csv_occurrence:"):
        return w.say('the run "{value}" is not a number', value=code.partition(":")[2])
    if code == "csv_quote":
        return w._("a quote is opened and not closed")
    return w._("more cells than columns")


def cmd_import_registrations(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    bookings, unreadable = _rows(args.file)
    bad: list[tuple[int, str]] = [(n, _row_problem(code, w)) for n, code in unreadable]
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        # Every row tried on the edition first, in one pass: each bad row is named.
        state = service.load(edition)
        _, problems = book_all(state, [b for _, b in bookings])
        refused: dict[int, list[Problem]] = {}
        for p in problems:
            index, _, rest = p.path.removeprefix("bookings[").partition("]")
            refused.setdefault(int(index), []).append(
                Problem(rest.removeprefix("."), p.code, p.params))  # fmt: skip
        for i, found in refused.items():
            bad += [(bookings[i][0], problem_text(Problem("", p.code, p.params), w))
                    for p in found]  # fmt: skip
        good = [b for i, (_, b) in enumerate(bookings) if i not in refused]
        bad.sort()
        if bad and args.all_or_nothing:
            print(w.nsay("{n} row refused; nothing recorded (--all-or-nothing):",
                         "{n} rows refused; nothing recorded (--all-or-nothing):",
                         len(bad)), file=out)  # fmt: skip
            for number, message in bad:
                print(w._("  line {line}: {problem}", line=number, problem=message), file=out)
            return EXIT_INVALID
        if good:
            service.execute(BookPlaces(bookings=tuple(good)), edition_id=edition,
                            actor=args.actor)  # fmt: skip
    print(w.nsay("{n} row recorded", "{n} rows recorded", len(good)), file=out)
    if bad:
        print(w.nsay("{n} row refused:", "{n} rows refused:", len(bad)), file=out)
        for number, message in bad:
            print(w._("  line {line}: {problem}", line=number, problem=message), file=out)
    return EXIT_INVALID if bad else EXIT_OK
