"""The commands on the store itself: verify, checkpoint, migrate, views; and export."""

from __future__ import annotations

import argparse
import os
from typing import TextIO

import attrs

from creneau.adapters._cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    service_for,
)
from creneau.adapters._i18n import N_, Words
from creneau.adapters.bootstrap import open_store
from creneau.scheduler import (
    Checkpoint,
    checkpoint,
    parse_checkpoint,
    verify_against,
)
from creneau.scheduler._envelope import ChainBreak
from creneau.scheduler.ports import EventStore

__all__ = [
    "Verification",
    "cmd_checkpoint",
    "cmd_store_migrate",
    "cmd_verify",
    "cmd_views",
    "verification",
]


@attrs.frozen
class Verification:
    """What ``creneau verify`` finds, and its lines in the run's language."""

    events: int
    streams: int
    broken: ChainBreak | None
    rewritten: list[tuple[str, str, int]]
    lines: list[str]

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.rewritten


def verification(store: EventStore, kept: Checkpoint | None, w: Words) -> Verification:
    """Check every hash chain of ``store``, and history up to ``kept`` when given."""
    broken = store.verify()
    rewritten = verify_against(store, kept) if kept is not None and broken is None else []
    streams = store.streams()
    count = sum(store.stream_version(s) for s in streams)
    lines = []
    if broken is not None:
        reasons = {
            "gap": N_("a version is missing: the stream has a gap"),
            "previous_hash": N_("it does not chain to the event before it"),
            "altered": N_("its content does not match its hash: it was altered after being "
                          "recorded"),
            "unreadable": N_("the store cannot give it back ({detail})"),
        }  # fmt: skip
        why = w._(reasons.get(broken.reason, broken.reason), detail=broken.detail)
        lines.append(w.say('BROKEN: "{stream}" version {version} (position {position}): {why}',
                           stream=broken.stream_id.removeprefix("edition-"),
                           version=broken.version, position=broken.position, why=why))  # fmt: skip
    for code, stream, version in rewritten:
        message = {
            "gone": N_('REWRITTEN: "{stream}" no longer reaches version {version}: events '
                       "recorded before the checkpoint are gone"),
            "rewritten": N_('REWRITTEN: "{stream}" version {version} is not what was '
                            "checkpointed: history up to it was rewritten"),
            "no_such_moment": N_("REWRITTEN: no moment of this store's history has that "
                                 "digest: its history was rewritten, or it is another store"),
        }[code]  # fmt: skip
        lines.append(w.say(message, stream=stream.removeprefix("edition-"), version=version))
    if broken is None and not rewritten:
        lines.append(w.nsay("OK: {n} event in {streams} streams, every hash chain intact",
                            "OK: {n} events in {streams} streams, every hash chain intact",
                            count, streams=len(streams)))  # fmt: skip
        if kept is not None:
            lines.append(w._("and history up to the checkpoint {digest} holds",
                             digest=kept.digest))  # fmt: skip
    return Verification(count, len(streams), broken, rewritten, lines)


def read_checkpoint(source: str) -> Checkpoint:
    """A checkpoint given as a file, its text or its digest."""
    text = source
    if os.path.isfile(source):
        with open(source, encoding="utf-8-sig") as f:
            text = f.read()
    return parse_checkpoint(text)


def cmd_verify(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    kept = read_checkpoint(args.against) if args.against is not None else None
    store = open_store(args.store, read_only=True)
    try:
        found = verification(store, kept, w)
    finally:
        store.close()
    for line in found.lines:
        print(line, file=out)
    return EXIT_OK if found.ok else EXIT_FAILED


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
