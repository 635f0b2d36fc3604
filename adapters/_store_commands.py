"""The commands on the store itself: verify, checkpoint, migrate, views; and export."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from creneau.adapters._cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    load_selected,
    service_for,
    warn_if_broken,
    write_private,
)
from creneau.adapters._i18n import N_, Words
from creneau.adapters.bootstrap import open_store
from creneau.adapters.edition_document import document_bytes
from creneau.scheduler import (
    BrokenRule,
    EditionSnapshot,
    checkpoint,
    parse_checkpoint,
    verify_against,
)

__all__ = ["cmd_checkpoint", "cmd_export", "cmd_store_migrate", "cmd_verify", "cmd_views"]


def cmd_verify(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    kept = None
    if args.against is not None:
        source = args.against
        text = source
        if os.path.isfile(source):
            with open(source, encoding="utf-8-sig") as f:
                text = f.read()
        kept = parse_checkpoint(text)
    store = open_store(args.store, read_only=True)
    try:
        broken = store.verify()
        rewritten = verify_against(store, kept) if kept is not None and broken is None else []
        streams = store.streams()
        count = sum(store.stream_version(s) for s in streams)
    finally:
        store.close()
    if broken is not None:
        reasons = {
            "gap": N_("a version is missing: the stream has a gap"),
            "previous_hash": N_("it does not chain to the event before it"),
            "altered": N_("its content does not match its hash: it was altered after being "
                          "recorded"),
            "unreadable": N_("the store cannot give it back ({detail})"),
        }  # fmt: skip
        why = w._(reasons.get(broken.reason, broken.reason), detail=broken.detail)
        print(w.say('BROKEN: "{stream}" version {version} (position {position}): {why}',
                    stream=broken.stream_id.removeprefix("edition-"), version=broken.version,
                    position=broken.position, why=why), file=out)  # fmt: skip
        return EXIT_FAILED
    if rewritten:
        for code, stream, version in rewritten:
            message = {
                "gone": N_('REWRITTEN: "{stream}" no longer reaches version {version}: events '
                           "recorded before the checkpoint are gone"),
                "rewritten": N_('REWRITTEN: "{stream}" version {version} is not what was '
                                "checkpointed: history up to it was rewritten"),
                "no_such_moment": N_("REWRITTEN: no moment of this store's history has that "
                                     "digest: its history was rewritten, or it is another store"),
            }[code]  # fmt: skip
            print(w.say(message, stream=stream.removeprefix("edition-"), version=version),
                  file=out)  # fmt: skip
        return EXIT_FAILED
    print(w.nsay("OK: {n} event in {streams} streams, every hash chain intact",
                 "OK: {n} events in {streams} streams, every hash chain intact", count,
                 streams=len(streams)), file=out)  # fmt: skip
    if kept is not None:
        print(w._("and history up to the checkpoint {digest} holds", digest=kept.digest),
              file=out)  # fmt: skip
    return EXIT_OK


def cmd_checkpoint(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    store = open_store(args.store, read_only=True)
    try:
        kept = checkpoint(store)
    finally:
        store.close()
    out.write(kept.text())
    return EXIT_OK


def cmd_store_migrate(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    store = open_store(args.store, create=True)
    try:
        version = store.migrate() if hasattr(store, "migrate") else None
    finally:
        store.close()
    if version:
        print(w._("schema up to date: version {version}", version=version), file=out)
    else:
        print(w._("schema up to date"), file=out)
    return EXIT_OK


def cmd_views(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    with service_for(args) as service:
        position = service.views.rebuild()
    print(w._("views rebuilt from the log, up to position {position}", position=position),
          file=out)  # fmt: skip
    return EXIT_OK


def _calendar_name(edition: EditionSnapshot, chosen: dict[str, str], w: Words) -> str:
    """The edition's name, and what the calendar was narrowed to."""
    from creneau.adapters._messages import audience_name

    title: str = edition.name or edition.id
    if "person" in chosen:
        person = next(p for p in edition.people if p.id == chosen["person"])
        return w._("{edition} — {what}", edition=title, what=person.name or person.id)
    if "room" in chosen:
        room = next(r for r in edition.rooms if r.id == chosen["room"])
        return w._("{edition} — {what}", edition=title, what=room.name or room.id)
    if "audience" in chosen:
        return w._("{edition} — {what}", edition=title,
                   what=audience_name(chosen["audience"], w))  # fmt: skip
    return title


def cmd_export(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    import msgspec

    from creneau.adapters._messages import Names, violation_text

    with service_for(args, read_only=True) as service:
        state = load_selected(service, args)
        broken = warn_if_broken(state, args, w, sys.stderr, service) if state.programme else []
    chosen = {k: getattr(args, k) for k in ("audience", "room", "person")
              if getattr(args, k) is not None}  # fmt: skip
    if chosen and args.format in ("edition", "json"):
        raise UsageError("filter_not_for_format", option=f"--{next(iter(chosen))}",
                         format=args.format)  # fmt: skip
    if args.format in ("c3voc-json", "frab-xml", "ics", "csv"):
        import datetime as dt
        from importlib import metadata

        from creneau.adapters.feeds import c3voc_json, frab_xml, select

        if state.accepted is None:
            raise UsageError("no_programme_yet")
        edition = state.snapshot()
        programme = select(edition, state.programme, **chosen)
        version, generator = f"v{state.version}", metadata.version("creneau")
        if args.format == "csv":
            from creneau.adapters.tables import programme_csv

            data = programme_csv(state, programme, w)
        elif args.format == "ics":
            from creneau.adapters.calendars import ics

            data = ics(edition, programme, w, name=_calendar_name(edition, chosen, w),
                       stamp=dt.datetime.now(dt.UTC))  # fmt: skip
        elif args.format == "frab-xml":
            data = frab_xml(edition, programme, version, generator)
        else:
            feed = c3voc_json(edition, programme, version, generator)
            data = msgspec.json.format(msgspec.json.encode(feed), indent=2) + b"\n"
    elif args.format == "json":
        if state.accepted is None:
            raise UsageError("no_programme_yet")
        names = Names.of(state.snapshot())
        published = msgspec.structs.replace(
            state.schedules[state.accepted],
            assignments=state.programme,
            stream_version=state.version,
            violations=tuple(BrokenRule(rule=v.rule, message=violation_text(v, w, names))
                             for v in broken),
        )  # fmt: skip
        data = msgspec.json.format(msgspec.json.encode(published), indent=2) + b"\n"
    else:
        data = document_bytes(state.snapshot())
    if args.output:
        write_private(args.output, data)
    else:
        out.write(data.decode())
    return EXIT_OK
