"""The solving side of the command line: solve, accept, move, programme, check."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TextIO, TypeVar

import msgspec

from creneau.adapters._cli_common import (
    EXIT_FAILED,
    EXIT_INFEASIBLE,
    EXIT_INTERRUPTED,
    EXIT_NO_SCHEDULE,
    EXIT_OK,
    UsageError,
    load_selected,
    pick_edition,
    service_for,
    warn_if_broken,
    write_private,
)
from creneau.adapters._i18n import Words, for_terminal
from creneau.adapters._messages import (
    Names,
    conflict_text,
    left_out_text,
    shown,
    violation_text,
)
from creneau.adapters._report import render_changes
from creneau.adapters.edition_document import decode_raw, load_edition, read_bytes
from creneau.scheduler import (
    AcceptSchedule,
    EditionSnapshot,
    EditionState,
    InvalidCommand,
    MoveSession,
    Placement,
    Problem,
    ScheduleDocument,
    SolveJob,
    SolveParameters,
    SolveProgramme,
    derive_problem,
    schedule_changes,
    validate_snapshot,
    with_previous,
)

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
    write_private(path, msgspec.json.format(_encode.encode(document), indent=2) + b"\n")


def read_schedule(path: str) -> ScheduleDocument:
    raw = decode_raw(read_bytes(path), kind="json")
    try:
        return msgspec.convert(raw, ScheduleDocument)
    except msgspec.ValidationError as exc:
        raise InvalidCommand(
            [Problem("", "not_a_schedule", {"path": path, "detail": str(exc)})]
        ) from exc


class ProgressLine:
    """A live line on a terminal while a solve runs longer than a second: elapsed time,
    best objective, bound and gap. Silent when the output is not a terminal."""

    def __init__(self, stream: TextIO, w: Words) -> None:
        self.stream = stream
        self.w = w
        self.live = stream.isatty()
        self.last: Any = None
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

    def __call__(self, progress: Any) -> None:
        self.last = progress

    def format(self, elapsed: float, progress: Any) -> str:
        w = self.w
        text = w._("solving… {elapsed} s", elapsed=w.number(round(elapsed, 1)))
        if progress is not None and progress.objective is not None:
            text += w._(" · best {best} · bound {bound}", best=w.number(progress.objective),
                        bound=w.number(progress.bound))  # fmt: skip
            if progress.gap is not None:
                text += w._(" · gap {gap}", gap=w.percent(progress.gap))
            share = getattr(progress, "figures", {}).get("women_share")
            if share is not None:
                text += w._(" · women {share}", share=w.percent(share))
        return text

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            elapsed = time.perf_counter() - self.started
            if elapsed >= 1.0:
                self.stream.write("\r\033[K" + self.format(elapsed, self.last))
                self.stream.flush()


T = TypeVar("T")


def await_job(job: SolveJob, line: ProgressLine, w: Words) -> bool:
    """Wait for a solve job, its progress on the line; Ctrl-C stops the search (the best
    schedule so far is the answer) instead of raising in the middle of the work. Returns
    whether it was interrupted."""
    interrupted = False
    while True:
        try:
            if job.wait(0.1):
                return interrupted
            line(job.progress())
        except KeyboardInterrupt:
            if not interrupted:
                print(w._("\ninterrupted: stopping the search…"), file=sys.stderr)
            interrupted = True
            job.stop()


def _params(args: argparse.Namespace) -> SolveParameters:
    return SolveParameters(time_limit=args.time_limit, workers=args.workers, seed=args.seed)


def _worded(document: ScheduleDocument, w: Words) -> ScheduleDocument:
    """The document with its explanation worded in the run's language."""
    if not document.explanation:
        return document
    return msgspec.structs.replace(
        document, conflicts=tuple(conflict_text(c, w) for c in document.explanation)
    )


def _report(document: ScheduleDocument, out: TextIO, w: Words, interrupted: bool) -> int:
    if document.status in ("optimal", "feasible"):
        status = w._("optimal") if document.status == "optimal" else w._("feasible")
        print(w.nsay("{status}: {n} placement, objective {objective} (bound {bound}), "
                     "{seconds} s", "{status}: {n} placements, objective {objective} (bound "
                     "{bound}), {seconds} s", len(document.assignments), status=status,
                     objective=w.number(document.objective or 0),
                     bound=w.number(document.bound or 0),
                     seconds=w.number(document.solve_seconds)), file=out)  # fmt: skip
        if document.first_solution_seconds is not None:
            print(w._("first schedule after {seconds} s",
                      seconds=w.number(document.first_solution_seconds)), file=out)  # fmt: skip
        for u in document.unscheduled:
            print(w.say("  proposal {session}: {why}", session=u.session,
                        why=left_out_text(u.reason, u.rules, w)), file=out)  # fmt: skip
        if interrupted:
            print(w._("interrupted: this is the best schedule found before the stop"),
                  file=sys.stderr)  # fmt: skip
            return EXIT_INTERRUPTED
        return EXIT_OK
    if document.status == "infeasible":
        print(w._("infeasible: these rules conflict —"), file=sys.stderr)
        for message in document.conflicts:
            print(f"  - {for_terminal(message)}", file=sys.stderr)
        return EXIT_INFEASIBLE
    if interrupted:
        print(w._("interrupted before any schedule was found: nothing recorded"),
              file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
    print(w._("no schedule found within {seconds} s", seconds=document.parameters.get(
        "time_limit")), file=sys.stderr)  # fmt: skip
    return EXIT_NO_SCHEDULE


def _solver() -> Any:
    from creneau.solver import CpSatSolver  # OR-Tools is imported only by the commands that solve

    return CpSatSolver()


def cmd_solve(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    if (args.edition_file is None) == (args.store is None):
        raise UsageError("solve_document_or_store")
    if args.queue or args.detach:
        if args.store is None or args.previous:
            raise UsageError("queue_needs_store")
        from creneau.adapters._queueing import solve_queued

        return solve_queued(args, out, w)
    params = _params(args)
    if args.edition_file is not None:
        if args.output is None:
            raise UsageError("solve_needs_output")
        snapshot = load_edition(args.edition_file).snapshot
        problems = validate_snapshot(snapshot)
        if problems:
            raise InvalidCommand(problems)
        problem = derive_problem(snapshot)
        previous = None
        if args.previous:
            previous = read_schedule(args.previous)
            if previous.edition != snapshot.id:
                raise InvalidCommand(
                    [
                        Problem(
                            "",
                            "schedule_of_other_edition",
                            {
                                "path": args.previous,
                                "other": previous.edition,
                                "edition": snapshot.id,
                            },
                        )
                    ]
                )
            problem = with_previous(problem, previous.assignments)
        job = SolveJob.start(_solver(), problem, params, job_id="document", edition=snapshot)
        with ProgressLine(sys.stderr, w) as line:
            interrupted = await_job(job, line, w)
        document = _worded(job.document(), w)
        _write_schedule(document, args.output)
        code = _report(document, out, w, interrupted)
        if previous is not None and document.assignments:
            _print_changes(snapshot, previous.assignments, document, out, w)
        return code
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        before = service.load(edition)
        command = SolveProgramme(time_limit=params.time_limit, workers=params.workers,
                                 seed=params.seed)  # fmt: skip
        job = service.start_solve(edition, _solver(), command, actor=args.actor)
        with ProgressLine(sys.stderr, w) as line:
            interrupted = await_job(job, line, w)
        # Recorded now, unless what the solve read changed meanwhile (said with names).
        try:
            document, schedule_id = _named(service, edition, job.collect)
        except InvalidCommand:
            # What was found is still told (and written with --output), then the refusal.
            _tell(job.document(), args, before, out, w, interrupted)
            raise
    code = _tell(document, args, before, out, w, interrupted)
    if schedule_id:
        print(w.say("recorded as {schedule}: `creneau accept --store {store}` publishes it",
                    schedule=schedule_id, store=args.store), file=out)  # fmt: skip
    return code


def _tell(
    document: ScheduleDocument,
    args: argparse.Namespace,
    before: EditionState,
    out: TextIO,
    w: Words,
    interrupted: bool,
) -> int:
    document = _worded(document, w)
    if args.output:
        _write_schedule(document, args.output)
    code = _report(document, out, w, interrupted)
    if before.programme and document.assignments:
        _print_changes(shown(before, w), before.programme, document, out, w)
    return code


def _print_changes(
    edition: EditionSnapshot,
    previous: Sequence[Placement],
    document: ScheduleDocument,
    out: TextIO,
    w: Words,
) -> None:
    """Re-planning: what the new schedule changes in the previous one."""
    changes = schedule_changes(previous, document.assignments)
    moved = sum(1 for c in changes if c.kind in ("moved", "removed"))
    print(w._("{moved} of {total} placements changed from the previous schedule",
              moved=moved, total=len(previous)) + (w._(":") if changes else ""),
          file=out)  # fmt: skip
    for line in render_changes(edition, changes, w):
        print(f"  - {line}", file=out)


def _named(service: Any, edition: str, work: Callable[[], T]) -> T:
    """``work()``, its refusals told with the edition's names (titles, rooms, people)."""
    try:
        return work()
    except InvalidCommand as refused:
        refused.names = Names.of(service.load(edition).snapshot())  # type: ignore[attr-defined]
        raise


def cmd_accept(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        _named(
            service,
            edition,
            lambda: service.execute(
                AcceptSchedule(schedule_id=args.schedule_id), edition_id=edition, actor=args.actor
            ),
        )
        state = service.load(edition)
    print(w.nsay("{schedule} published: {n} placement", "{schedule} published: {n} placements",
                 len(state.programme), schedule=state.accepted), file=out)  # fmt: skip
    return EXIT_OK


def cmd_move(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    command = MoveSession(session_id=args.session, occurrence=args.occurrence, day=args.day,
                          start=args.start, room=args.room)  # fmt: skip
    with service_for(args) as service:
        edition = pick_edition(service, args.edition)
        recorded = _named(
            service, edition, lambda: service.execute(command, edition_id=edition, actor=args.actor)
        )
    print(w._("moved") if recorded else w._("already there: nothing recorded"), file=out)
    return EXIT_OK


def cmd_programme(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    with service_for(args, read_only=True) as service:
        state = load_selected(service, args)
        if not state.programme:
            raise UsageError("no_programme_yet")
        warn_if_broken(state, args, w, out, service)
    print(render_programme(state, w), file=out, end="")
    return EXIT_OK


def cmd_check(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    from creneau.adapters import validator

    try:
        edition, _, findings = validator.check_files(args.edition_file, args.schedule)
    except validator.DocumentError as exc:
        params = dict(exc.params)
        raise InvalidCommand([Problem(str(params.pop("at", "")), exc.code, params)]) from exc
    names = Names.of_document(edition)
    if findings:
        print(w.nsay("{n} hard rule broken:", "{n} hard rules broken:", len(findings)), file=out)
        for f in findings:
            print(f"  [{f.rule}] {violation_text(f, w, names)}", file=out)
        return EXIT_FAILED
    placed = sum(1 for _ in read_schedule(args.schedule).assignments)
    print(w.nsay("valid: {n} placement breaks no hard rule",
                 "valid: {n} placements break no hard rule", placed), file=out)  # fmt: skip
    return EXIT_OK


# -- the printed programme -----------------------------------------------------------


def render_programme(state: EditionState, w: Words) -> str:
    """The published programme, day by day and room by room."""
    snap = shown(state, w)
    sessions = {s.id: s for s in snap.sessions}
    people = {p.id: p.name or p.id for p in snap.people}
    rooms = {r.id: r.name or r.id for r in snap.rooms}
    order = {r.id: i for i, r in enumerate(snap.rooms)}
    lines = [w.say("Programme — {name} (published from {schedule}, version {version})",
                   name=snap.name or snap.id, schedule=state.accepted,
                   version=state.version)]  # fmt: skip
    by_day: dict[Any, dict[str, list[Placement]]] = defaultdict(lambda: defaultdict(list))
    for p in state.programme:
        by_day[p.day][p.room].append(p)
    for day in sorted(by_day):
        lines += ["", w.date(day)]
        for room in sorted(by_day[day], key=lambda r: order.get(r, len(order))):
            lines.append(f"  {for_terminal(rooms.get(room, room))}")
            for p in sorted(by_day[day][room], key=lambda p: p.start):
                s = sessions.get(p.session)
                title = for_terminal(s.title or s.id if s else p.session)
                if s and s.occurrences > 1:
                    title += f" ({p.occurrence}/{s.occurrences})"
                who = ", ".join(for_terminal(people.get(x, x)) for x in (s.speakers if s else ()))
                hosts = ", ".join(
                    for_terminal(people.get(x, x))
                    for x in (*(s.moderators if s else ()), *p.moderators)
                )
                extra = f" — {who}" if who else ""
                if hosts:
                    extra += w._("; moderation: {people}", people=hosts)
                lines.append(f"    {p.start}–{p.end}  {title}{extra}")
    return "\n".join(lines) + "\n"
