"""The solving side of the command line: solve, accept, move, programme, check."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import msgspec

from adapters._cli_common import (
    EXIT_FAILED,
    EXIT_INFEASIBLE,
    EXIT_NO_SCHEDULE,
    EXIT_OK,
    UsageError,
    load_selected,
    pick_edition,
    service_for,
)
from adapters._report import render_changes
from adapters._text import long_date
from adapters.edition_document import load_edition
from scheduler import (
    AcceptSchedule,
    EditionSnapshot,
    EditionState,
    InvalidCommand,
    MoveSession,
    Placement,
    Problem,
    ScheduleDocument,
    SolveParameters,
    SolveProgramme,
    check_schedule,
    derive_problem,
    schedule_changes,
    schedule_document,
    validate_snapshot,
    with_previous,
)
from solver import CpSatSolver, Progress

__all__ = [
    "ProgressLine",
    "cmd_accept",
    "cmd_check",
    "cmd_move",
    "cmd_programme",
    "cmd_solve",
    "render_programme",
]


_encode = msgspec.json.Encoder()


def _write_schedule(document: ScheduleDocument, path: str) -> None:
    Path(path).write_bytes(msgspec.json.format(_encode.encode(document), indent=2) + b"\n")


def read_schedule(path: str) -> ScheduleDocument:
    try:
        return msgspec.json.decode(Path(path).read_bytes(), type=ScheduleDocument)
    except OSError as exc:
        raise InvalidCommand([Problem("", f"cannot read {path}: {exc.strerror}")]) from exc
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidCommand([Problem("", f"{path} is not a schedule document: {exc}")]) from exc


class ProgressLine:
    """A live line on a terminal while a solve runs longer than a second: elapsed time,
    best objective, bound and gap. Silent when the output is not a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.last: Progress | None = None
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def __enter__(self) -> ProgressLine:
        if self.live:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self.live and self._thread.is_alive():
            self._thread.join()
            self.stream.write("\r\033[K")
            self.stream.flush()

    def __call__(self, progress: Progress) -> None:
        self.last = progress

    @staticmethod
    def format(elapsed: float, progress: Progress | None) -> str:
        text = f"résolution… {elapsed:5.1f} s"
        if progress is not None and progress.objective is not None:
            text += f" · meilleur {progress.objective:g} · borne {progress.bound:g}"
            if progress.gap is not None:
                text += f" · écart {progress.gap:.1%}"
        return text

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            elapsed = time.perf_counter() - self.started
            if elapsed >= 1.0:
                self.stream.write("\r\033[K" + self.format(elapsed, self.last))
                self.stream.flush()


def _params(args: argparse.Namespace) -> SolveParameters:
    return SolveParameters(time_limit=args.time_limit, workers=args.workers, seed=args.seed)


def _report(document: ScheduleDocument, out: TextIO) -> int:
    if document.status in ("optimal", "feasible"):
        print(f"{document.status}: {len(document.assignments)} placements, objective "
              f"{document.objective:g} (bound {document.bound:g}), {document.solve_seconds} s",
              file=out)  # fmt: skip
        return EXIT_OK
    if document.status == "infeasible":
        print("infeasible: these rules conflict —", file=sys.stderr)
        for message in document.conflicts:
            print(f"  - {message}", file=sys.stderr)
        return EXIT_INFEASIBLE
    print(f"no schedule found within {document.parameters.get('time_limit')} s", file=sys.stderr)
    return EXIT_NO_SCHEDULE


def cmd_solve(args: argparse.Namespace, out: TextIO) -> int:
    if (args.edition_file is None) == (args.store is None):
        raise UsageError("solve takes an edition document, or --store, not both")
    params = _params(args)
    if args.edition_file is not None:
        if args.output is None:
            raise UsageError("solve EDITION needs --output FILE")
        snapshot = load_edition(args.edition_file).snapshot
        problems = validate_snapshot(snapshot)
        if problems:
            raise InvalidCommand(problems)
        problem = derive_problem(snapshot)
        if args.previous:
            previous = read_schedule(args.previous)
            if previous.edition != snapshot.id:
                raise InvalidCommand(
                    [
                        Problem(
                            "",
                            f"{args.previous} is a schedule of "
                            f'"{previous.edition}", not "{snapshot.id}"',
                        )
                    ]
                )
            problem = with_previous(problem, previous.assignments)
        with ProgressLine(sys.stderr) as line:
            result = CpSatSolver().solve(problem, params, line)
        document = schedule_document(problem, result, params, edition=snapshot)
        _write_schedule(document, args.output)
        code = _report(document, out)
        if args.previous and document.assignments:
            _print_changes(snapshot, previous.assignments, document, out)
        return code
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        before = service.load(edition)
        with ProgressLine(sys.stderr) as line:
            command = SolveProgramme(
                time_limit=params.time_limit, workers=params.workers, seed=params.seed
            )
            document, schedule_id = service.solve(
                edition, CpSatSolver(), command, actor=args.actor, progress=line
            )
    if args.output:
        _write_schedule(document, args.output)
    code = _report(document, out)
    if before.programme and document.assignments:
        _print_changes(before.snapshot(), before.programme, document, out)
    if schedule_id:
        print(
            f"recorded as {schedule_id}: `creneau accept --store {args.store}` publishes it",
            file=out,
        )
    return code


def _print_changes(
    edition: EditionSnapshot,
    previous: Sequence[Placement],
    document: ScheduleDocument,
    out: TextIO,
) -> None:
    """Re-planning: what the new schedule changes in the previous one."""
    changes = schedule_changes(previous, document.assignments)
    moved = sum(1 for c in changes if c.kind in ("moved", "removed"))
    print(f"{moved} of {len(previous)} placements changed from the previous schedule"
          + (":" if changes else ""), file=out)  # fmt: skip
    for line in render_changes(edition, changes, "en"):
        print(f"  - {line}", file=out)


def cmd_accept(args: argparse.Namespace, out: TextIO) -> int:
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        service.execute(
            AcceptSchedule(schedule_id=args.schedule_id), edition_id=edition, actor=args.actor
        )
        state = service.load(edition)
    print(f"{state.accepted} published: {len(state.programme)} placements", file=out)
    return EXIT_OK


def cmd_move(args: argparse.Namespace, out: TextIO) -> int:
    command = MoveSession(
        session_id=args.session,
        occurrence=args.occurrence,
        day=args.day,
        start=args.start,
        room=args.room,
    )
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        recorded = service.execute(command, edition_id=edition, actor=args.actor)
    print("moved" if recorded else "already there: nothing recorded", file=out)
    return EXIT_OK


def cmd_programme(args: argparse.Namespace, out: TextIO) -> int:
    with service_for(args) as service:
        state = load_selected(service, args)
    if not state.programme:
        raise UsageError("no programme is published yet: solve, then accept a schedule")
    print(render_programme(state, args.lang), file=out, end="")
    return EXIT_OK


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    snapshot = load_edition(args.edition_file).snapshot
    document = read_schedule(args.schedule)
    if document.edition != snapshot.id:
        raise InvalidCommand(
            [
                Problem(
                    "edition",
                    f'the schedule is for "{document.edition}", the edition is "{snapshot.id}"',
                )
            ]
        )
    broken = check_schedule(snapshot, document.assignments)
    if broken:
        print(f"{len(broken)} hard rules broken:", file=out)
        for v in broken:
            print(f"  {v}", file=out)
        return EXIT_FAILED
    print(f"valid: {len(document.assignments)} placements break no hard rule", file=out)
    return EXIT_OK


# -- the printed programme -----------------------------------------------------------


_WORDS = {
    "fr": {
        "title": "Programme",
        "from": "publié depuis",
        "moderation": "animation",
        "empty": "aucune session",
    },
    "en": {
        "title": "Programme",
        "from": "published from",
        "moderation": "moderation",
        "empty": "no session",
    },
}


def render_programme(state: EditionState, lang: str) -> str:
    """The published programme, day by day and room by room."""
    words = _WORDS[lang]
    snap = state.snapshot()
    sessions = {s.id: s for s in snap.sessions}
    people = {p.id: p.name or p.id for p in snap.people}
    rooms = {r.id: r.name or r.id for r in snap.rooms}
    order = {r.id: i for i, r in enumerate(snap.rooms)}
    lines = [
        f"{words['title']} — {snap.name or snap.id} ({words['from']} {state.accepted}, "
        f"version {state.version})"
    ]
    by_day: dict[object, dict[str, list[Placement]]] = defaultdict(lambda: defaultdict(list))
    for p in state.programme:
        by_day[p.day][p.room].append(p)
    for day in sorted(by_day):  # type: ignore[type-var]
        lines += ["", long_date(day, lang)]  # type: ignore[arg-type]
        for room in sorted(by_day[day], key=lambda r: order.get(r, len(order))):
            lines.append(f"  {rooms.get(room, room)}")
            for p in sorted(by_day[day][room], key=lambda p: p.start):
                s = sessions.get(p.session)
                title = s.title if s else p.session
                if s and s.occurrences > 1:
                    title += f" ({p.occurrence}/{s.occurrences})"
                who = ", ".join(people.get(x, x) for x in (s.speakers if s else ()))
                hosts = ", ".join(
                    people.get(x, x) for x in (*(s.moderators if s else ()), *p.moderators)
                )
                extra = f" — {who}" if who else ""
                if hosts:
                    extra += (
                        f" ; {words['moderation']} : {hosts}"
                        if lang == "fr"
                        else f"; {words['moderation']}: {hosts}"
                    )
                lines.append(f"    {p.start}–{p.end}  {title}{extra}")
    return "\n".join(lines) + "\n"
