"""`creneau export`: the edition, or its programme, in the formats other people and tools
read. From a store (the published programme, or ``--schedule ID``), or in one shot from
an edition document and a schedule document."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from typing import TextIO

import attrs
import msgspec

from creneau.adapters._cli_common import (
    EXIT_OK,
    UsageError,
    load_selected,
    service_for,
    warn_if_broken,
    write_private,
)
from creneau.adapters._i18n import Words
from creneau.adapters._messages import (
    Names,
    audience_name,
    shown,
    violation_text,
)
from creneau.scheduler import (
    BrokenRule,
    EditionSnapshot,
    EditionState,
    Placement,
    Violation,
)

__all__ = ["FORMATS", "Export", "cmd_export", "export_of", "render"]


@attrs.frozen
class Export:
    """What one export is made of: the state of the edition, the runs chosen (the
    published programme or a schedule, narrowed by the filters), the words of the run."""

    state: EditionState
    edition: EditionSnapshot
    placements: tuple[Placement, ...]
    w: Words
    chosen: dict[str, str]
    schedule: str | None = None
    broken: tuple[Violation, ...] = ()

    @property
    def version(self) -> str:
        return f"v{self.state.version}"

    @property
    def generator(self) -> str:
        from importlib import metadata

        return metadata.version("creneau")

    @property
    def stamp(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def title(self) -> str:
        """The edition's name, and what the export was narrowed to."""
        edition, w, chosen = self.edition, self.w, self.chosen
        name: str = edition.name or edition.id
        if "person" in chosen:
            person = next(p for p in edition.people if p.id == chosen["person"])
            return w._("{edition} — {what}", edition=name, what=person.name or person.id)
        if "room" in chosen:
            room = next(r for r in edition.rooms if r.id == chosen["room"])
            return w._("{edition} — {what}", edition=name, what=room.name or room.id)
        if "audience" in chosen:
            return w._("{edition} — {what}", edition=name,
                       what=audience_name(chosen["audience"], w))  # fmt: skip
        return name


def _edition(x: Export) -> bytes:
    from creneau.adapters.edition_document import document_bytes

    return document_bytes(x.edition)


def _workbook(x: Export) -> bytes:
    from creneau.adapters.workbooks import workbook_bytes

    return workbook_bytes(x.edition, x.w.lang)


def _json(x: Export) -> bytes:
    names = Names.of(x.edition)
    state = x.state
    source = state.schedules[x.schedule or state.accepted or ""]
    published = msgspec.structs.replace(
        source,
        assignments=x.placements,
        stream_version=state.version,
        violations=tuple(BrokenRule(rule=v.rule, message=violation_text(v, x.w, names))
                         for v in x.broken),
    )  # fmt: skip
    return msgspec.json.format(msgspec.json.encode(published), indent=2) + b"\n"


def _frab(x: Export) -> bytes:
    from creneau.adapters.feeds import frab_xml

    return frab_xml(x.edition, x.placements, x.version, x.generator)


def _c3voc(x: Export) -> bytes:
    from creneau.adapters.feeds import c3voc_json

    feed = c3voc_json(x.edition, x.placements, x.version, x.generator)
    return msgspec.json.format(msgspec.json.encode(feed), indent=2) + b"\n"


def _ics(x: Export) -> bytes:
    from creneau.adapters.calendars import ics

    return ics(x.edition, x.placements, x.w, name=x.title(), stamp=x.stamp)


def _xcal(x: Export) -> bytes:
    from creneau.adapters.calendars import xcal

    return xcal(x.edition, x.placements, x.w, name=x.title(), stamp=x.stamp)


def _csv(x: Export) -> bytes:
    from creneau.adapters.tables import programme_csv

    return programme_csv(x.state, x.placements, x.w)


def _xlsx(x: Export) -> bytes:
    from creneau.adapters.tables import programme_xlsx

    return programme_xlsx(x.state, x.placements, x.w, title=x.title())


def _programme(x: Export) -> str:
    from creneau.adapters.programmes import programme_html

    return programme_html(x.state, x.placements, x.w, audience=x.chosen.get("audience"),
                          generated=x.stamp)  # fmt: skip


def _sheets(x: Export) -> str:
    from creneau.adapters.programmes import run_sheets_html

    return run_sheets_html(x.state, x.placements, x.w, generated=x.stamp)


def _pdf_of(page: Callable[[Export], str]) -> Callable[[Export], bytes]:
    def render(x: Export) -> bytes:
        from creneau.adapters.programmes import pdf

        return pdf(page(x))

    return render


@attrs.frozen
class Format:
    render: Callable[[Export], bytes]
    binary: bool = False
    programme: bool = True  # made of the runs of a programme (the filters apply)


FORMATS: dict[str, Format] = {
    "edition": Format(_edition, programme=False),
    "xlsx-edition": Format(_workbook, binary=True, programme=False),
    "json": Format(_json, programme=False),
    "frab-xml": Format(_frab),
    "c3voc-json": Format(_c3voc),
    "ics": Format(_ics),
    "xcal": Format(_xcal),
    "csv": Format(_csv),
    "xlsx": Format(_xlsx, binary=True),
    "html": Format(lambda x: _programme(x).encode()),
    "pdf": Format(_pdf_of(_programme), binary=True),
    "run-sheets": Format(_pdf_of(_sheets), binary=True),
    "run-sheets-html": Format(lambda x: _sheets(x).encode()),
}


def render(name: str, export: Export) -> bytes:
    return FORMATS[name].render(export)


def _chosen(args: argparse.Namespace, edition: EditionSnapshot) -> dict[str, str]:
    chosen = {k: getattr(args, k) for k in ("audience", "room", "person")
              if getattr(args, k, None) is not None}  # fmt: skip
    if chosen and not FORMATS[args.format].programme:
        raise UsageError("filter_not_for_format", option=f"--{next(iter(chosen))}",
                         format=args.format)  # fmt: skip
    return chosen


def _runs(state: EditionState, wanted: str | None) -> tuple[Placement, ...]:
    if wanted is None:
        if state.accepted is None:
            raise UsageError("no_programme_yet")
        return state.programme
    schedule = state.schedules.get(wanted)
    if schedule is None:
        raise UsageError("no_such_schedule", schedule=wanted, known=tuple(state.schedules))
    if schedule.status not in ("optimal", "feasible"):
        raise UsageError("schedule_has_no_programme", schedule=wanted, status=schedule.status)
    return schedule.assignments


def export_of(
    state: EditionState,
    fmt: str,
    w: Words,
    chosen: dict[str, str],
    *,
    schedule: str | None = None,
    broken: tuple[Violation, ...] = (),
) -> Export:
    """What the export ``fmt`` of a stored edition is made of: the edition alone, or the
    runs of its published programme (or of ``schedule``), narrowed by ``chosen``; the
    command line and the HTTP API both export through it."""
    from creneau.adapters.feeds import select

    edition = shown(state, w)
    if fmt in ("edition", "xlsx-edition"):
        return Export(state, edition, (), w, chosen)
    runs = _runs(state, schedule)
    if schedule is not None:  # the places a run offers, as if it were published
        state = attrs.evolve(state, programme=runs)
    if FORMATS[fmt].programme:
        runs = tuple(select(edition, runs, **chosen))
    return Export(state, edition, runs, w, chosen, schedule=schedule, broken=broken)


def _from_store(args: argparse.Namespace, w: Words) -> Export:
    with service_for(args, read_only=True) as service:
        state = load_selected(service, args)
        broken = warn_if_broken(state, args, w, sys.stderr, service) if state.programme else []
    chosen = _chosen(args, shown(state, w))
    schedule = getattr(args, "schedule", None)
    # The rules the published programme breaks; a recorded schedule is exported as it is.
    return export_of(state, args.format, w, chosen, schedule=schedule,
                     broken=tuple(broken) if schedule is None else ())  # fmt: skip


def _one_shot(args: argparse.Namespace, w: Words) -> Export:
    """An edition document (or a feed) and a schedule document, as a store would hold
    them once the edition imported and the schedule recorded (a memory store, gone after
    the run). A schedule that breaks a rule is exported as it is, each rule named."""
    from creneau.adapters._solving import read_schedule
    from creneau.adapters.bootstrap import open_engine
    from creneau.adapters.edition_document import load_edition
    from creneau.scheduler import ImportEdition, RecordSchedule, check_schedule

    document = load_edition(args.edition_file)
    edition_id = document.snapshot.id
    chosen = _chosen(args, document.snapshot)
    schedule = None
    if args.format not in ("edition", "xlsx-edition"):
        if args.schedule_file is None:
            raise UsageError("export_needs_schedule", format=args.format)
        schedule = read_schedule(args.schedule_file)
        if schedule.edition != edition_id:
            raise UsageError("schedule_of_other_edition", path=args.schedule_file,
                             other=schedule.edition, edition=edition_id)  # fmt: skip
        if schedule.status not in ("optimal", "feasible"):
            raise UsageError("schedule_has_no_programme", schedule=args.schedule_file,
                             status=schedule.status)  # fmt: skip
    with open_engine("memory:", actor="export") as engine:
        service = engine.service
        service.execute(ImportEdition(snapshot=document.snapshot, source=document.source,
                                      sha256=document.sha256))  # fmt: skip
        if schedule is not None:
            state = service.load(edition_id)
            service.execute(RecordSchedule(schedule=msgspec.structs.replace(
                schedule, stream_version=state.version)), edition_id=edition_id)  # fmt: skip
        state = service.load(edition_id)
    edition = shown(state, w)
    if schedule is None:
        return Export(state, edition, (), w, chosen)
    recorded = list(state.schedules)[-1]
    broken = check_schedule(edition, schedule.assignments)
    if broken:
        names = Names.of(edition)
        print(w.nsay("{path} breaks {n} hard rule of the edition; exported as it is:",
                     "{path} breaks {n} hard rules of the edition; exported as it is:",
                     len(broken), path=args.schedule_file), file=sys.stderr)  # fmt: skip
        for v in broken:
            print(f"  ! {violation_text(v, w, names)}", file=sys.stderr)
    return export_of(state, args.format, w, chosen, schedule=recorded, broken=tuple(broken))


def cmd_export(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    fmt = FORMATS[args.format]
    if (args.store is None) == (args.edition_file is None):
        raise UsageError("export_store_or_documents")
    if args.store is not None and args.schedule_file is not None:
        raise UsageError("export_store_or_documents")
    if fmt.binary and not args.output:
        raise UsageError("binary_needs_output", format=args.format)
    export = _from_store(args, w) if args.store is not None else _one_shot(args, w)
    data = fmt.render(export)
    if args.output:
        write_private(args.output, data)
    else:
        out.write(data.decode())
    return EXIT_OK
