"""The ``creneau`` command line."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import msgspec
import structlog

from adapters import _capacity, _report, _solving
from adapters._cli_common import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    UsageError,
    load_selected,
    pick_edition,
    service_for,
)
from adapters._text import TEXT, long_date
from adapters.bootstrap import StoreNotFound, open_store
from adapters.edition_document import document_bytes, load_edition
from scheduler import (
    CreneauError,
    EditionState,
    ImportEdition,
    InvalidCommand,
    checkpoint,
    default_actor,
    parse_checkpoint,
    verify_against,
)

__all__ = ["main"]


def _configure_logging(json_logs: bool, verbose: bool) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json_logs
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.INFO if verbose or json_logs else logging.WARNING
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def cmd_import(args: argparse.Namespace, out: TextIO) -> int:
    document = load_edition(args.file)  # before the store: a bad file must not create one
    command = ImportEdition(
        snapshot=document.snapshot, source=document.source, sha256=document.sha256
    )
    with service_for(args, create=True) as service:
        recorded = service.execute(command, actor=args.actor)
    if recorded:
        print(
            f'imported "{document.snapshot.id}": {len(recorded)} events, '
            f"now at version {recorded[-1].version}",
            file=out,
        )
    else:
        print(
            f'"{document.snapshot.id}" is already as {document.source} says: nothing recorded',
            file=out,
        )
    return EXIT_OK


def cmd_log(args: argparse.Namespace, out: TextIO) -> int:
    with service_for(args) as service:
        edition = args.edition if args.edition is None else pick_edition(service, args.edition)
        entries = list(service.history(edition, entity=args.entity))
    t = TEXT[args.lang]
    if not entries:
        print(t["no_events"], file=out)
        return EXIT_OK
    print(_log_line(*t["log_columns"].split("|")), file=out)
    for e in entries:
        r = e.record
        when = r.metadata.recorded_at[:19].replace("T", " ")
        print(_log_line(str(r.position), when, r.metadata.actor, r.type, e.entity), file=out)
    return EXIT_OK


def _log_line(position: str, when: str, actor: str, kind: str, entity: str) -> str:
    return f"{position:>8}  {when:<19}  {actor[:14]:<14}  {kind:<24}  {entity}"


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    with service_for(args) as service:
        state = load_selected(service, args)
    print(render_edition(state, args.lang), file=out, end="")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    kept = None
    if args.against is not None:
        source = Path(args.against)
        text = source.read_text() if source.is_file() else args.against
        try:
            kept = parse_checkpoint(text)
        except ValueError as exc:
            raise UsageError(f"--against: {exc}") from exc
    store = open_store(args.store)
    try:
        broken = store.verify()
        rewritten = verify_against(store, kept) if kept is not None else []
        streams = store.streams()
        count = sum(store.stream_version(s) for s in streams)
    finally:
        store.close()
    if broken is not None:
        print(f"BROKEN: {broken}", file=out)
        return EXIT_FAILED
    if rewritten:
        for problem in rewritten:
            print(f"REWRITTEN: {problem}", file=out)
        return EXIT_FAILED
    print(f"OK: {count} events in {len(streams)} streams, every hash chain intact", file=out)
    return EXIT_OK


def cmd_checkpoint(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args.store)
    try:
        kept = checkpoint(store)
    finally:
        store.close()
    out.write(kept.text())
    return EXIT_OK


def cmd_store_migrate(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args.store, create=True)
    version = store.migrate() if hasattr(store, "migrate") else None
    store.close()
    print("schema up to date" + (f": version {version}" if version else ""), file=out)
    return EXIT_OK


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    with service_for(args) as service:
        state = load_selected(service, args)
    if args.format == "json":
        if state.accepted is None:
            raise UsageError("no programme is published yet: solve, then accept a schedule")
        published = msgspec.structs.replace(
            state.schedules[state.accepted],
            assignments=state.programme,
            stream_version=state.version,
        )
        data = msgspec.json.format(msgspec.json.encode(published), indent=2) + b"\n"
    else:
        data = document_bytes(state.snapshot())
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        out.write(data.decode())
    return EXIT_OK


# -- rendering ---------------------------------------------------------------------


def render_edition(state: EditionState, lang: str) -> str:
    t = TEXT[lang]
    snap = state.snapshot()
    lines = [
        f"{t['edition']} : {snap.name or snap.id} ({snap.id}) — {t['version']} {state.version}"
        if lang == "fr"
        else f"{t['edition']}: {snap.name or snap.id} ({snap.id}) — {t['version']} {state.version}"
    ]
    colon = " :" if lang == "fr" else ":"
    lines.append(
        f"{t['timezone']}{colon} {snap.timezone} · {t['granularity'].format(n=snap.granularity)}"
    )
    lines.append(f"{t['days']}{colon}")
    for d in snap.days:
        breaks = ", ".join(f"{b.start}–{b.end} {b.label}".rstrip() for b in d.breaks)
        lines.append(
            f"  {long_date(d.day, lang)} : {d.open}–{d.close}"
            + (f" ; {t['breaks']} : {breaks}" if breaks else "")
        )
    if snap.venues:
        lines.append(f"{t['venues']}{colon} " + ", ".join(v.name or v.id for v in snap.venues))
    if snap.travel:
        lines.append(
            f"{t['travel']}{colon} "
            + ", ".join(f"{x.from_} ↔ {x.to} {x.minutes} min" for x in snap.travel)
        )
    lines.append(f"{t['rooms']} ({len(snap.rooms)}){colon}")
    for r in snap.rooms:
        bits = [t["seats"].format(n=r.capacity)]
        if r.reserve:
            bits.append(t["reserve"].format(n=r.reserve))
        if r.concurrent > 1:
            bits.append(t["concurrent"].format(n=r.concurrent))
        if r.features:
            bits.append(", ".join(r.features))
        lines.append(f"  {r.id:<24} {r.name} — " + " · ".join(bits))
    counts = {g: 0 for g in ("woman", "man", "nonbinary", "undisclosed")}
    for p in snap.people:
        counts[p.gender] += 1
    lines.append(f"{t['people']} ({len(snap.people)}){colon} {t['gender_counts'].format(**counts)}")
    for p in snap.people:
        extra = f" · {t['can_moderate']}" if p.can_moderate else ""
        org = f", {p.organisation}" if p.organisation else ""
        lines.append(f"  {p.id:<24} {p.name}{org}{extra}")
    lines.append(f"{t['sessions']} ({len(snap.sessions)}){colon}")
    for s in snap.sessions:
        bits = [s.format, t["minutes"].format(n=s.duration)]
        if s.occurrences > 1:
            bits.append(t["occurrences"].format(n=s.occurrences))
        if s.rotation:
            bits.append(t["rotation"].format(places=s.rotation.places, every=s.rotation.every))
        elif s.capacity:
            bits.append(t["capacity"].format(n=s.capacity))
        if s.optional:
            bits.append(t["optional"])
        if s.fixed:
            where = " ".join(
                x
                for x in (
                    s.fixed.day.isoformat() if s.fixed.day else None,
                    s.fixed.start,
                    s.fixed.room,
                )
                if x
            )
            bits.append(f"{t['fixed']} {where}")
        if s.after:
            bits.append(f"{t['after']} " + ", ".join(a.session for a in s.after))
        lines.append(f"  {s.id:<24} {s.title} — " + " · ".join(bits))
    lines.append(f"{t['registrations']}{colon} {len(snap.registrations)}")
    pol = snap.policies
    panels = t["forbidden"] if pol.parity.no_all_male_panels else t["allowed"]
    lines.append(
        f"{t['policies']}{colon} "
        + t["parity"].format(share=pol.parity.women_min_share, panels=panels)
    )
    return "\n".join(lines) + "\n"


# -- parsing -----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="creneau",
        description="Créneau: event-sourced programme scheduling for Numérique en Commun[s].",
    )
    parser.add_argument("--log-json", action="store_true", help="write logs as JSON lines")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every command run")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str, *, store: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        if store:
            p.add_argument(
                "--store", required=True, metavar="PATH", help="the event store: a SQLite file"
            )
        return p

    def actor(p: argparse.ArgumentParser) -> None:
        p.add_argument("--actor", default=None, help="who does this (default: the OS user)")

    def selection(p: argparse.ArgumentParser, *, at: bool = True) -> None:
        p.add_argument("--edition", metavar="ID", help="the edition, when the store holds several")
        if at:
            p.add_argument(
                "--at",
                metavar="VERSION|ISO-TIME",
                help="as it was after that version, or at that time (UTC unless "
                "the time names its offset)",
            )

    p = add("import", "import an edition document (JSON or TOML), creating the store if needed")
    p.add_argument("file", metavar="FILE")
    actor(p)
    p.set_defaults(run=cmd_import)

    p = add("log", "the audit trail: every event, who recorded it, when, and what it touched")
    selection(p, at=False)
    p.add_argument("--entity", metavar="ID", help="only the events that touched this id")
    p.add_argument("--lang", choices=("fr", "en"), default="fr")
    p.set_defaults(run=cmd_log)

    p = add("show", "the edition as it is, or as it was")
    selection(p)
    p.add_argument("--lang", choices=("fr", "en"), default="fr")
    p.set_defaults(run=cmd_show)

    p = add(
        "verify",
        "check every stream's hash chain (exit 0 intact, 1 naming the first "
        "altered event); with --against, also that history up to a checkpoint holds",
    )
    p.add_argument(
        "--against",
        metavar="CHECKPOINT",
        help="a checkpoint printed by `creneau checkpoint`: its text or a file",
    )
    p.set_defaults(run=cmd_verify)

    p = add("checkpoint", "print the head of every stream, to keep outside the store")
    p.set_defaults(run=cmd_checkpoint)

    p = add("store", "manage the store itself")
    p.add_argument("action", choices=("migrate",), help="migrate: bring its schema up to date")
    p.set_defaults(run=cmd_store_migrate)

    p = add(
        "solve",
        "solve a programme: from an edition document to a schedule document "
        "(exit 0 found, 2 invalid document, 3 infeasible, 4 none found in time), or on a "
        "store, recording the schedule as proposed",
        store=False,
    )
    p.add_argument("edition_file", nargs="?", metavar="EDITION", help="an edition document")
    p.add_argument("--store", metavar="PATH", help="solve the edition of this store instead")
    p.add_argument("--edition", metavar="ID", help="the edition, when the store holds several")
    p.add_argument("--output", metavar="FILE", help="where to write the schedule document")
    p.add_argument(
        "--time-limit",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds the solver may take (default 30)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="search workers (default 2); with --seed, the same inputs give the same schedule",
    )
    p.add_argument("--seed", type=int, default=0, metavar="K", help="random seed (default 0)")
    p.add_argument(
        "--previous",
        metavar="SCHEDULE",
        help="a schedule document of the same edition to start the search from",
    )
    actor(p)
    p.set_defaults(run=_solving.cmd_solve)

    p = add("accept", "publish a proposed schedule as the programme (the latest by default)")
    p.add_argument("schedule_id", nargs="?", metavar="SCHEDULE_ID")
    p.add_argument("--edition", metavar="ID", help="the edition, when the store holds several")
    actor(p)
    p.set_defaults(run=_solving.cmd_accept)

    p = add(
        "move",
        "move one session of the published programme by hand; refused, naming "
        "the rule, when it would break one",
    )
    p.add_argument("session", metavar="SESSION_ID")
    p.add_argument("--occurrence", type=int, default=1, metavar="N")
    p.add_argument("--day", type=dt.date.fromisoformat, metavar="YYYY-MM-DD")
    p.add_argument("--start", metavar="HH:MM")
    p.add_argument("--room", metavar="ROOM_ID")
    p.add_argument("--edition", metavar="ID", help="the edition, when the store holds several")
    actor(p)
    p.set_defaults(run=_solving.cmd_move)

    p = add("programme", "print the published programme, day by day and room by room")
    selection(p)
    p.add_argument("--lang", choices=("fr", "en"), default="fr")
    p.set_defaults(run=_solving.cmd_programme)

    p = add(
        "register",
        "register an attendee to a session (occurrence or rotation): prints "
        "`confirmed`, or `waiting N` (their place in the waiting list)",
    )
    p.add_argument("--attendee", required=True, metavar="ID")
    p.add_argument("--session", required=True, metavar="ID")
    p.add_argument(
        "--profile",
        metavar="AUDIENCE",
        help="their audience, when they are new (default: the edition's first)",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--occurrence", type=int, metavar="N")
    which.add_argument("--rotation", metavar="HH:MM")
    p.add_argument("--edition", metavar="ID", help="the edition, when the store holds several")
    actor(p)
    p.set_defaults(run=_capacity.cmd_register)

    p = add("cancel", "give a place back; the first of its waiting list takes it")
    p.add_argument("--attendee", required=True, metavar="ID")
    p.add_argument("--session", required=True, metavar="ID")
    p.add_argument("--edition", metavar="ID", help="the edition, when the store holds several")
    actor(p)
    p.set_defaults(run=_capacity.cmd_cancel)

    p = add(
        "import-registrations",
        "import the registrations of a spreadsheet (CSV: "
        "attendee, session[, profile, occurrence, rotation]); every bad row is named with "
        "its line; the good ones are kept, or none with --all-or-nothing",
    )
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument(
        "--all-or-nothing", action="store_true", help="record nothing unless every row is good"
    )
    p.add_argument("--edition", metavar="ID", help="the edition, when the store holds several")
    actor(p)
    p.set_defaults(run=_capacity.cmd_import_registrations)

    p = add(
        "places", "places of every session occurrence and rotation: offered, confirmed, waiting"
    )
    p.add_argument("--edition", metavar="ID", help="the edition, when the store holds several")
    p.set_defaults(run=_capacity.cmd_places)

    p = add(
        "diff",
        "what changed between two schedule versions, in words: schedule ids (as `solve` "
        "records them: schedule-1, schedule-2…) or `programme` for the published programme",
    )
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    selection(p, at=False)
    p.add_argument("--lang", choices=("fr", "en"), default="fr")
    p.set_defaults(run=_report.cmd_diff, at=None)

    p = add(
        "report",
        "the programme's figures (parity overall, by format, by day, on the main stage; "
        "all-male panels; attendee conflicts; seats), and with --html a page with the "
        "timetable and parity bars",
    )
    p.add_argument(
        "--schedule",
        metavar="ID",
        help="a recorded schedule, or `programme` (default: the published programme, "
        "else the latest schedule)",
    )
    p.add_argument("--html", metavar="FILE", help="also write the report as an HTML page")
    selection(p)
    p.add_argument("--lang", choices=("fr", "en"), default="fr")
    p.set_defaults(run=_report.cmd_report)

    p = add(
        "check",
        "check a schedule document against every hard rule of an edition (exit 0 valid, 1 broken)",
        store=False,
    )
    p.add_argument("edition_file", metavar="EDITION")
    p.add_argument("schedule", metavar="SCHEDULE")
    p.set_defaults(run=_solving.cmd_check)

    p = add(
        "export",
        "write the edition back as a document (edition), or the published "
        "programme as a schedule document (json)",
    )
    selection(p)
    p.add_argument("--format", choices=("edition", "json"), default="edition")
    p.add_argument("--output", metavar="FILE", help="where to write (default: standard output)")
    p.set_defaults(run=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    _configure_logging(args.log_json, args.verbose)
    if getattr(args, "actor", "x") is None:
        args.actor = default_actor()
    log = structlog.get_logger()
    try:
        code: int = args.run(args, out)
        return code
    except InvalidCommand as exc:
        where = f"{args.file}: " if getattr(args, "file", None) else ""
        print(f"error: {where}refused, nothing was recorded:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        log.info("command_refused", problems=[str(p) for p in exc.problems])
        return EXIT_INVALID
    except (UsageError, StoreNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except CreneauError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader (`| head`) went away: stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
