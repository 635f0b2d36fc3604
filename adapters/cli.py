"""The ``creneau`` command line.

One language per run (``--lang``, ``CRENEAU_LANG``, ``LANG``; French by default): the
help, the errors, every table. Parsing loads only argparse and the words; a command
loads what it needs (OR-Tools only for the commands that solve), so that every command
starts at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import math
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from creneau.adapters._i18n import LANGUAGES, Words, choose_language, words

# The formats of `creneau export` (adapters/_exporting.py renders them; named here so
# that the parser is built without importing the exports).
EXPORT_FORMATS = (
    "edition",
    "xlsx-edition",
    "json",
    "frab-xml",
    "c3voc-json",
    "ics",
    "xcal",
    "csv",
    "xlsx",
    "html",
    "pdf",
    "run-sheets",
    "run-sheets-html",
)

__all__ = ["main", "os_user"]

MAX_WORKERS = 64
EXIT_INTERRUPTED = 130


def os_user() -> str:
    """Who runs the command, as the system knows them: the command line's actor when
    --actor says none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def seconds(w: Words) -> Callable[[str], float]:
    """``--time-limit``: a positive, finite number of seconds."""

    def parse(text: str) -> float:
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise w.refusal('"{value}" is not a number of seconds above 0', value=text)
        return value

    return parse


def workers(w: Words) -> Callable[[str], int]:
    """``--workers``: 1 to 64 search workers."""

    def parse(text: str) -> int:
        if not (text.isdecimal() and text.isascii()) or not 1 <= int(text) <= MAX_WORKERS:
            raise w.refusal('"{value}" is not a number of workers from 1 to {most}', value=text,
                            most=MAX_WORKERS)  # fmt: skip
        return int(text)

    return parse


class _Version(argparse.Action):
    """--version, reading the installed metadata only when asked (it costs an import)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib import metadata

        print(f"creneau {metadata.version('creneau')}")
        parser.exit()


def _parser(w: Words) -> argparse.ArgumentParser:
    def _(message: str) -> str:  # argparse reads % in help as a format: the words escape it
        return w._(message).replace("%", "%%")

    def _occurrence(text: str) -> int:
        if not (text.isdecimal() and text.isascii()) or int(text) < 1:
            raise w.refusal('"{value}" is not a run number (1, 2, 3…)', value=text)
        return int(text)

    def _day(text: str) -> dt.date:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise w.refusal('"{value}" is not a date written YYYY-MM-DD', value=text) from None

    parser = argparse.ArgumentParser(
        prog="creneau",
        description=_("Créneau: event-sourced programme scheduling for Numérique en Commun[s]."),
    )
    parser.add_argument("--version", action=_Version, nargs=0, help=_("print the version and exit"))
    parser.add_argument("--log-json", action="store_true", help=_("write logs as JSON lines"))
    parser.add_argument("--verbose", "-v", action="store_true", help=_("log every command run"))
    lang_help = _("the language of the run: fr or en (default: CRENEAU_LANG, then LANG, then fr)")
    parser.add_argument("--lang", choices=LANGUAGES, help=lang_help)
    sub = parser.add_subparsers(dest="command", required=True, metavar=_("COMMAND"))
    store_help = _("the event store: a SQLite file, or a PostgreSQL address "
                   "postgresql://user@host/db[?schema=NAME]")  # fmt: skip

    def add(name: str, help: str, *, store: bool = True) -> argparse.ArgumentParser:
        # A description is printed as it is: only help texts are formats.
        p = sub.add_parser(name, help=help, description=help.replace("%%", "%"))
        p.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help=lang_help)
        if store:
            p.add_argument("--store", required=True, metavar=_("STORE"), help=store_help)
        return p

    def actor(p: argparse.ArgumentParser) -> None:
        p.add_argument("--actor", default=None, metavar=_("ACTOR"),
                       help=_("who does this (default: the OS user)"))  # fmt: skip

    def edition(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--edition", metavar="ID", help=_("the edition, when the store holds several")
        )

    def selection(p: argparse.ArgumentParser, *, at: bool = True) -> None:
        edition(p)
        if at:
            p.add_argument("--at", metavar=_("VERSION|ISO-TIME"),
                           help=_("as it was after that version, or at that time (UTC unless "
                                  "the time names its offset)"))  # fmt: skip

    p = add("import", _("import an edition document (JSON or TOML), creating the store if needed; "
                        "prints what it changes"))  # fmt: skip
    p.add_argument("file", metavar=_("FILE"))
    p.add_argument(
        "--dry-run",
        action="store_true",
        help=_("print the changes it would record, and record nothing"),
    )
    p.add_argument(
        "--prune",
        action="store_true",
        help=_(
            "also remove what the edition holds and the document does not name "
            "(rooms, people, sessions, registrations and their places), listing it"
        ),
    )
    actor(p)
    p.set_defaults(run="_importing:cmd_import")

    p = add("log", _("the audit trail: every event, who recorded it, when, and what it changed"))
    selection(p, at=False)
    p.add_argument("--entity", metavar="ID", help=_("only the events that touched this id"))
    p.add_argument("--names", action="store_true", help=_(
        "show people's names, organisations and gender (hidden otherwise)"))  # fmt: skip
    p.set_defaults(run="_show:cmd_log")

    p = add("show", _("the edition as it is, or as it was"))
    selection(p)
    p.set_defaults(run="_show:cmd_show")

    p = add("verify", _("check every stream's hash chain (exit 0 intact, 1 naming the first "
                        "altered event); with --against, also that history up to a checkpoint "
                        "holds"))  # fmt: skip
    p.add_argument("--against", metavar=_("CHECKPOINT"),
                   help=_("a checkpoint printed by `creneau checkpoint`: a file, its text, or "
                          "its digest alone"))  # fmt: skip
    p.set_defaults(run="_store_commands:cmd_verify")

    p = add("checkpoint", _("print the head of every stream, to keep outside the store"))
    p.set_defaults(run="_store_commands:cmd_checkpoint")

    def subject(p: argparse.ArgumentParser) -> None:
        whom = p.add_mutually_exclusive_group(required=True)
        whom.add_argument("--person", metavar="ID", help=_("a speaker or moderator, by id"))
        whom.add_argument("--attendee", metavar="ID", help=_("an attendee, by identifier"))
        edition(p)

    p = add("forget", _("erase a person or an attendee (GDPR art. 17): their key is destroyed, "
                        "their personal fields read as erased from then on; the log is not "
                        "rewritten and still verifies"))  # fmt: skip
    subject(p)
    p.add_argument("--yes", action="store_true",
                   help=_("erase for good (without it, say what would be erased)"))  # fmt: skip
    actor(p)
    p.set_defaults(run="_personal_commands:cmd_forget")

    p = add("export-person", _("everything the store holds about a person or an attendee, "
                               "as JSON (GDPR art. 15)"))  # fmt: skip
    subject(p)
    p.add_argument("--output", metavar=_("FILE"), help=_("write it to FILE (readable by its "
                                                         "owner only)"))  # fmt: skip
    p.set_defaults(run="_personal_commands:cmd_export_person")

    p = add("serve", _("serve the HTTP API (/api/v1, its OpenAPI at /schema/openapi.json) "
                       "over the store"))  # fmt: skip
    p.add_argument("--host", default="127.0.0.1", help=_("the address to listen on "
                                                         "(default 127.0.0.1)"))  # fmt: skip
    p.add_argument("--port", type=int, default=8000, help=_("the port (default 8000)"))
    p.add_argument("--queue", action="store_true",
                   help=_("send solves to the workers of the PostgreSQL store's queue "
                          "(`creneau worker`) instead of solving in this process"))  # fmt: skip
    p.set_defaults(run="_serving:cmd_serve")

    p = add("worker", _("run the solve jobs of a PostgreSQL store's queue, on this host; "
                        "start as many as the hosts allow"))  # fmt: skip
    p.add_argument("--concurrency", type=workers(w), default=1, metavar="N",
                   help=_("jobs solved at once by this worker (default 1)"))  # fmt: skip
    p.add_argument("--heartbeat", type=seconds(w), default=2.0, metavar="S",
                   help=_("seconds between two signs of life (default 2)"))  # fmt: skip
    p.add_argument("--stalled-after", type=seconds(w), default=15.0, metavar="S",
                   help=_("a worker silent this long is taken for dead, and its jobs given "
                          "to another (default 15)"))  # fmt: skip
    p.set_defaults(run="_queueing:cmd_worker")

    p = add("scenarios", _("solve what-if variants of the edition (a policy changed, a room "
                           "closed, someone absent), each recorded as a proposed schedule "
                           "tagged with its scenario, and compare them"))  # fmt: skip
    p.add_argument("file", metavar=_("FILE"), help=_("the scenarios, a TOML file"))
    edition(p)
    p.add_argument("--time-limit", type=seconds(w), default=None, metavar="S",
                   help=_("seconds each solve may take (default: the file's, or 30)"))  # fmt: skip
    p.add_argument("--here", action="store_true",
                   help=_("solve them in this process, one after the other, even on a "
                          "PostgreSQL store (the SQLite store always does)"))  # fmt: skip
    actor(p)
    p.set_defaults(run="_queueing:cmd_scenarios")

    p = add("token", _("the tokens of the HTTP API: create one (shown once), revoke one, "
                       "list them"))  # fmt: skip
    p.add_argument("action", choices=("create", "revoke", "list"))
    p.add_argument("--role", choices=("admin", "committee", "desk", "viewer"),
                   help=_("what the token may do (create)"))  # fmt: skip
    p.add_argument("--edition", metavar="ID",
                   help=_("the one edition it acts on (create; none for admin)"))  # fmt: skip
    p.add_argument("--name", metavar=_("NAME"), help=_(
        "its name: the actor of every event it causes (create, revoke)"))  # fmt: skip
    actor(p)
    p.set_defaults(run="_serving:cmd_token")

    p = add("store", _("manage the store itself"))
    p.add_argument("action", choices=("migrate",), help=_("migrate: bring its schema up to date"))
    p.set_defaults(run="_store_commands:cmd_store_migrate")

    p = add(
        "views",
        _(
            "the views reads use (programme, places, audit trail, figures, "
            "snapshots): rebuild drops them and folds the whole log again"
        ),
    )
    p.add_argument("action", choices=("rebuild",), help=_("rebuild: from the log"))
    p.set_defaults(run="_store_commands:cmd_views")

    p = add("solve", _("solve a programme: from an edition document to a schedule document "
                       "(exit 0 found, 2 invalid document, 3 infeasible, 4 none found in time, "
                       "130 interrupted), or on a store, recording the schedule as proposed"),
            store=False)  # fmt: skip
    p.add_argument("edition_file", nargs="?", metavar=_("EDITION"),
                   help=_("an edition document"))  # fmt: skip
    p.add_argument("--store", metavar=_("STORE"), help=store_help)
    edition(p)
    p.add_argument("--output", metavar=_("FILE"), help=_("where to write the schedule document"))
    p.add_argument("--time-limit", type=seconds(w), default=30.0, metavar="S",
                   help=_("seconds the solver may take (default 30)"))  # fmt: skip
    p.add_argument("--workers", type=workers(w), default=2, metavar="N",
                   help=_("search workers, 1 to 64 (default 2); with --seed, the same inputs "
                          "give the same schedule"))  # fmt: skip
    p.add_argument("--seed", type=int, default=0, metavar="K", help=_("random seed (default 0)"))
    p.add_argument("--previous", metavar=_("SCHEDULE"),
                   help=_("a schedule document of the same edition to change as little as "
                          "the rules allow"))  # fmt: skip
    p.add_argument("--queue", action="store_true",
                   help=_("on a PostgreSQL store: queue the solve for the workers "
                          "(`creneau worker`) and wait for its answer"))  # fmt: skip
    p.add_argument("--detach", action="store_true",
                   help=_("with --queue: print the job's id and return at once"))  # fmt: skip
    actor(p)
    p.set_defaults(run="_solving:cmd_solve")

    p = add("accept", _("publish a proposed schedule as the programme (the latest by default)"))
    p.add_argument("schedule_id", nargs="?", metavar=_("SCHEDULE_ID"))
    edition(p)
    actor(p)
    p.set_defaults(run="_solving:cmd_accept")

    p = add("move", _("move one session of the published programme by hand; refused, naming "
                      "the rule, when it would break one"))  # fmt: skip
    p.add_argument("session", metavar=_("SESSION_ID"))
    p.add_argument("--occurrence", type=_occurrence, default=1, metavar="N",
                   help=_("which run of the session (default 1)"))  # fmt: skip
    p.add_argument("--day", type=_day, metavar="YYYY-MM-DD")
    p.add_argument("--start", metavar="HH:MM")
    p.add_argument("--room", metavar=_("ROOM_ID"))
    edition(p)
    actor(p)
    p.set_defaults(run="_solving:cmd_move")

    p = add("programme", _("print the published programme, day by day and room by room"))
    selection(p)
    p.set_defaults(run="_solving:cmd_programme")

    p = add("register", _("register an attendee to a session (a run or a rotation): prints "
                          "confirmed, or their place on the waiting list"))  # fmt: skip
    p.add_argument("--attendee", required=True, metavar="ID")
    p.add_argument("--session", required=True, metavar="ID")
    p.add_argument("--profile", metavar=_("AUDIENCE"),
                   help=_("their audience, when they are new (default: the first the session "
                          "serves)"))  # fmt: skip
    which = p.add_mutually_exclusive_group()
    which.add_argument("--occurrence", type=_occurrence, metavar="N")
    which.add_argument("--rotation", metavar="HH:MM")
    edition(p)
    actor(p)
    p.set_defaults(run="_capacity:cmd_register")

    p = add("cancel", _("give a place back; the first of its waiting list takes it"))
    p.add_argument("--attendee", required=True, metavar="ID")
    p.add_argument("--session", required=True, metavar="ID")
    edition(p)
    actor(p)
    p.set_defaults(run="_capacity:cmd_cancel")

    p = add("import-registrations", _("import the registrations of a spreadsheet (CSV: attendee, "
                                      "session[, profile, occurrence, rotation]); every bad row is "
                                      "named with its line; the good ones are kept, or none with "
                                      "--all-or-nothing"))  # fmt: skip
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument("--all-or-nothing", action="store_true",
                   help=_("record nothing unless every row is good"))  # fmt: skip
    edition(p)
    actor(p)
    p.set_defaults(run="_capacity:cmd_import_registrations")

    p = add("places", _("places of every session run and rotation: offered, confirmed, waiting"))
    reserve = p.add_mutually_exclusive_group()
    reserve.add_argument("--open-reserve", metavar=_("SESSION_ID"),
                         help=_("offer the reserve chairs of the session's room as places too "
                                "(the waiting list moves up)"))  # fmt: skip
    reserve.add_argument("--close-reserve", metavar=_("SESSION_ID"),
                         help=_("stop offering the reserve chairs"))  # fmt: skip
    edition(p)
    actor(p)
    p.set_defaults(run="_capacity:cmd_places")

    p = add("diff", _("what changed between two schedule versions, in words: schedule ids (as "
                      "`solve` records them: schedule-1, schedule-2…) or `programme` for the "
                      "published programme"))  # fmt: skip
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    selection(p, at=False)
    p.set_defaults(run="_report:cmd_diff", at=None)

    p = add("report", _("the programme's figures (parity overall, by format, by day, on the main "
                        "stage; all-male panels; attendee conflicts; seats), and with --html a "
                        "page with the timetable and parity bars"))  # fmt: skip
    p.add_argument("--schedule", metavar="ID",
                   help=_("a recorded schedule, or `programme` (default: the published "
                          "programme, else the latest schedule)"))  # fmt: skip
    p.add_argument("--html", metavar=_("FILE"), help=_("also write the report as an HTML page"))
    selection(p)
    p.set_defaults(run="_report:cmd_report")

    p = add("check", _("check a schedule document against every hard rule of an edition "
                       "document, independently of the solver (exit 0 valid, 1 broken)"),
            store=False)  # fmt: skip
    p.add_argument("edition_file", metavar=_("EDITION"))
    p.add_argument("schedule", metavar=_("SCHEDULE"))
    p.set_defaults(run="_solving:cmd_check")

    p = add("export", _("write the edition back as a document (edition) or a workbook "
                        "(xlsx-edition), or its programme: as a schedule document (json), as the "
                        "feeds conference apps read (frab-xml, c3voc-json), as calendars (ics, "
                        "xcal), tables (csv, xlsx), the public programme (html, pdf) or the run "
                        "sheets (run-sheets, run-sheets-html); from a store, or in one shot "
                        "from an edition document and a schedule document"),
            store=False)  # fmt: skip
    p.add_argument("edition_file", nargs="?", metavar=_("EDITION"),
                   help=_("an edition document (instead of --store)"))  # fmt: skip
    p.add_argument("schedule_file", nargs="?", metavar=_("SCHEDULE"),
                   help=_("a schedule document of that edition"))  # fmt: skip
    p.add_argument("--store", metavar=_("STORE"), help=store_help)
    selection(p)
    p.add_argument("--format", choices=tuple(EXPORT_FORMATS), default="edition")
    p.add_argument("--schedule", metavar="ID",
                   help=_("a recorded schedule instead of the published programme"))  # fmt: skip
    for option, what in (("--audience", _("only the sessions for this audience")),
                         ("--room", _("only the sessions in this room")),
                         ("--person", _("only the sessions this person is on"))):  # fmt: skip
        p.add_argument(option, metavar=_("ID"), help=what)
    p.add_argument("--output", metavar=_("FILE"),
                   help=_("where to write (default: standard output; a file for xlsx and "
                          "pdf)"))  # fmt: skip
    p.set_defaults(run="_exporting:cmd_export")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = choose_language(argv)
    w = words(lang if lang in LANGUAGES else "fr")
    w.install_in_argparse()
    try:
        args = _parser(w).parse_args(argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    if getattr(args, "actor", "x") is None:
        args.actor = os_user()
    from creneau.adapters._run import run

    return run(args, out, w)


if __name__ == "__main__":
    raise SystemExit(main())
