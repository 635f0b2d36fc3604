"""Running a parsed command: logging, the command itself, and its errors in words.
Imported once the command line is parsed, so that --help and --version load nothing of
the engine."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import TextIO

import structlog

from creneau.adapters._cli_common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    UsageError,
)
from creneau.adapters._i18n import Words
from creneau.adapters._messages import error_lines
from creneau.adapters.bootstrap import StoreNotFound
from creneau.scheduler import CheckpointError, CreneauError, InvalidCommand

__all__ = ["run"]


# The services: they log JSON lines (one event per line, with its job and edition ids),
# what a log collector reads; the other commands log for a person at a terminal.
SERVICES = ("serve", "worker")


def _configure_logging(json_logs: bool, verbose: bool) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json_logs
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    stamped: list[structlog.typing.Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # What the libraries log through the standard library (uvicorn, procrastinate): the
    # same lines, warnings and worse.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *stamped],
    ))  # fmt: skip
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    structlog.configure(
        processors=[*stamped, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.INFO if verbose or json_logs else logging.WARNING
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def run(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    _configure_logging(args.log_json or args.command in SERVICES, args.verbose)
    module, _, name = args.run.partition(":")
    command = getattr(importlib.import_module(f"creneau.adapters.{module}"), name)
    log = structlog.get_logger()
    try:
        code: int = command(args, out, w)
        return code
    except InvalidCommand as exc:
        where = getattr(args, "file", None) or getattr(args, "edition_file", None)
        if where:
            print(w.say("error: {file}: refused, nothing was recorded:", file=where),
                  file=sys.stderr)  # fmt: skip
        else:
            print(w._("error: refused, nothing was recorded:"), file=sys.stderr)
        for line in error_lines(exc, w, getattr(exc, "names", None)):
            print(f"  {line}", file=sys.stderr)
        # Where and which rule, never the values: they may be a person's name or address.
        log.info("command_refused", problems=[f"{p.path}: {p.code}" for p in exc.problems])
        return EXIT_INVALID
    except (UsageError, StoreNotFound, CheckpointError) as exc:
        print(w._("error: {message}", message=error_lines(exc, w)[0]), file=sys.stderr)
        return EXIT_INVALID
    except CreneauError as exc:
        print(w._("error: {message}", message=error_lines(exc, w)[0]), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(w._("interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (`| head`) went away: stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
