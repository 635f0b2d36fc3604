"""The commands on the store itself: verify, checkpoint, migrate, views; and export."""

from __future__ import annotations

import argparse
import os
from typing import TextIO

from creneau.adapters._cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    service_for,
)
from creneau.adapters._i18n import N_, Words
from creneau.adapters.bootstrap import open_store
from creneau.scheduler import (
    checkpoint,
    parse_checkpoint,
    verify_against,
)

__all__ = ["cmd_checkpoint", "cmd_store_migrate", "cmd_verify", "cmd_views"]


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
