"""`creneau forget` (erase a person or an attendee) and `creneau export-person`
(everything held about them), the data subjects' rights over the log."""

from __future__ import annotations

import argparse
from typing import TextIO

import msgspec

from creneau.adapters._cli_common import EXIT_FAILED, EXIT_OK, service_for, write_private
from creneau.adapters._i18n import Words

__all__ = ["cmd_export_person", "cmd_forget"]


def _whom(args: argparse.Namespace) -> tuple[str, str]:
    return ("person", args.person) if args.person is not None else ("attendee", args.attendee)


def cmd_forget(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    kind, entity = _whom(args)
    who = w._("person") if kind == "person" else w._("attendee")
    with service_for(args, read_only=not args.yes) as service:
        found = service.subjects_of(kind, entity, args.edition)  # type: ignore[arg-type]
        editions = sorted({e for e, _ in found})
        if not args.yes:
            if not found:
                print(w.say('nothing is held about the {kind} "{id}"', kind=who, id=entity),
                      file=out)  # fmt: skip
                return EXIT_FAILED
            print(w.say('forget the {kind} "{id}" in {editions}: their names, organisations, '
                        "gender, identifiers and profiles will read as erased, for good",
                        kind=who, id=entity, editions=", ".join(editions)), file=out)  # fmt: skip
            print(w._("nothing was erased: run again with --yes to erase"), file=out)
            return EXIT_FAILED
        erased = service.forget(kind, entity, edition_id=args.edition,  # type: ignore[arg-type]
                                actor=args.actor)  # fmt: skip
    where = ", ".join(sorted({e for e, _ in erased}))
    line = w.nsay(
        'erased: the {kind} "{id}" ({n} key destroyed, in {editions})',
        'erased: the {kind} "{id}" ({n} keys destroyed, in {editions})',
        len(erased),
        kind=who,
        id=entity,
        editions=where,
    )
    print(line, file=out)
    print(w._("the log is unchanged and still verifies; copies exported before are not "
              "reached: ask their holders to delete them"), file=out)  # fmt: skip
    return EXIT_OK


def cmd_export_person(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    kind, entity = _whom(args)
    with service_for(args, read_only=True) as service:
        held = service.personal_data(kind, entity, args.edition)  # type: ignore[arg-type]
    data = msgspec.json.format(msgspec.json.encode(held), indent=2) + b"\n"
    if args.output:
        write_private(args.output, data)
    else:
        out.write(data.decode())
    return EXIT_OK
