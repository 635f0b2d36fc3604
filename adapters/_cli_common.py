"""What the command-line modules share: errors, exit codes, opening the store, choosing
the edition."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
from collections.abc import Iterator

from adapters.bootstrap import build, open_store
from scheduler import CreneauError, EditionService, EditionState

__all__ = [
    "EXIT_FAILED",
    "EXIT_INFEASIBLE",
    "EXIT_INVALID",
    "EXIT_NO_SCHEDULE",
    "EXIT_OK",
    "UsageError",
    "load_selected",
    "pick_edition",
    "service_for",
]

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INFEASIBLE, EXIT_NO_SCHEDULE = 0, 1, 2, 3, 4


class UsageError(CreneauError):
    pass


def pick_edition(service: EditionService, wanted: str | None) -> str:
    editions = service.editions()
    if wanted is not None:
        if wanted not in editions:
            raise UsageError(
                f'no edition "{wanted}" in this store (it holds: {", ".join(editions) or "none"})'
            )
        return wanted
    if not editions:
        raise UsageError("this store holds no edition yet")
    if len(editions) > 1:
        raise UsageError(
            f"this store holds several editions; name one with --edition: {', '.join(editions)}"
        )
    return editions[0]


def _parse_at(text: str) -> tuple[int | None, dt.datetime | None]:
    if text.isdigit():
        return int(text), None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f'--at "{text}" is neither a version number nor an ISO time') from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return None, moment


def load_selected(service: EditionService, args: argparse.Namespace) -> EditionState:
    edition = pick_edition(service, args.edition)
    if args.at is None:
        return service.load(edition)
    version, moment = _parse_at(args.at)
    return service.load(edition, at_version=version, at_time=moment)


@contextlib.contextmanager
def service_for(args: argparse.Namespace, *, create: bool = False) -> Iterator[EditionService]:
    store = open_store(args.store, create=create)
    try:
        yield build(store)
    finally:
        store.close()
