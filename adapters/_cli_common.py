"""What the command-line modules share: exit codes, errors, opening the store, choosing
the edition, writing files, the programme's health."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import structlog

from creneau.adapters._i18n import Words
from creneau.adapters._messages import (
    Names,
    shown,
    violation_text,
)
from creneau.adapters.bootstrap import open_engine
from creneau.scheduler import CreneauError, EditionService, EditionState, Violation, check_schedule

log = structlog.get_logger()

__all__ = [
    "EXIT_FAILED",
    "EXIT_INFEASIBLE",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_NO_SCHEDULE",
    "EXIT_OK",
    "UsageError",
    "load_selected",
    "pick_edition",
    "programme_violations",
    "service_for",
    "warn_if_broken",
    "write_private",
]

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INFEASIBLE, EXIT_NO_SCHEDULE = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C


class UsageError(CreneauError):
    """The command line asked for something that cannot be: a code and its data."""


def pick_edition(service: EditionService, wanted: str | None) -> str:
    editions = service.editions()
    if wanted is not None:
        if wanted not in editions:
            raise UsageError("no_such_edition", edition=wanted, editions=tuple(editions))
        return wanted
    if not editions:
        raise UsageError("store_empty")
    if len(editions) > 1:
        raise UsageError("several_editions", editions=tuple(editions))
    return editions[0]


def _parse_at(text: str) -> tuple[int | None, dt.datetime | None]:
    if text.isdecimal() and text.isascii():
        return int(text), None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError("bad_at", value=text) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return None, moment


def load_selected(service: EditionService, args: argparse.Namespace) -> EditionState:
    edition = pick_edition(service, args.edition)
    if getattr(args, "at", None) is None:
        service.views.catch_up()
        return service.load(edition)
    version, moment = _parse_at(args.at)
    return service.load(edition, at_version=version, at_time=moment)


@contextlib.contextmanager
def service_for(
    args: argparse.Namespace, *, create: bool = False, read_only: bool = False
) -> Iterator[EditionService]:
    actor = getattr(args, "actor", None)
    with open_engine(args.store, actor=actor, create=create, read_only=read_only) as engine:
        yield engine.service
        if not read_only:
            # What was written reaches the views now, so that the next read finds them
            # up to date; a failure here loses nothing (the next read folds it).
            try:
                engine.service.views.catch_up()
            except CreneauError as exc:
                log.warning("views_not_caught_up", error=str(exc))


def write_private(path: str | Path, data: bytes) -> None:
    """Write a file readable by its owner only: exports name people."""
    p = Path(path)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(p, 0o600)


def programme_violations(
    state: EditionState, service: EditionService | None = None
) -> list[Violation]:
    """The hard rules the published programme breaks now (the edition changed since):
    from the programme view when it is the edition as it is now, else checked."""
    if not state.programme or state.info is None:
        return []
    if service is not None:
        view = service.views.programme(state.info.id)
        if view is not None and (view.accepted, view.placements) == (
            state.accepted, state.programme):  # fmt: skip
            return list(view.violations)
    return check_schedule(state.snapshot(), state.programme)


def warn_if_broken(
    state: EditionState,
    args: argparse.Namespace,
    w: Words,
    out: TextIO,
    service: EditionService | None = None,
) -> list[Violation]:
    """Say, before anything else, when the published programme no longer holds: each rule
    it breaks, and how to re-plan it."""
    broken = programme_violations(state, service)
    if not broken:
        return broken
    names = Names.of(shown(state, w))
    print(w.nsay("The published programme no longer holds: it breaks {n} rule.",
                 "The published programme no longer holds: it breaks {n} rules.",
                 len(broken)), file=out)  # fmt: skip
    for v in broken:
        print(f"  ! {violation_text(v, w, names)}", file=out)
    print(w.say("  → `creneau solve --store {store}` re-plans it with the fewest changes.",
                store=args.store), file=out)  # fmt: skip
    print(file=out)
    return broken
