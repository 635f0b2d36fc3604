"""`creneau serve` (the HTTP API under uvicorn) and `creneau token` (who may use it)."""

from __future__ import annotations

import argparse
from typing import TextIO

from creneau.adapters._cli_common import EXIT_OK, UsageError
from creneau.adapters._i18n import Words
from creneau.adapters.bootstrap import open_store

__all__ = ["cmd_serve", "cmd_token"]


def cmd_serve(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    import uvicorn

    from creneau.adapters.api import create_app

    store = open_store(args.store)
    queue = None
    if args.queue:
        from creneau.adapters._queueing import _queue

        queue = _queue(args.store)
    line = w.say("Serving {store} on http://{host}:{port}/api/v1 (Ctrl-C stops)",
                 store=args.store, host=args.host, port=args.port)  # fmt: skip
    print(line, file=out, flush=True)
    # Stopped (SIGTERM, Ctrl-C), it finishes the requests under way, and closes the
    # streams that never end (a page following its edition) after a few seconds.
    uvicorn.run(create_app(store, queue=queue), host=args.host, port=args.port,
                log_level="warning", log_config=None, timeout_graceful_shutdown=3)  # fmt: skip
    return EXIT_OK


def cmd_token(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    from creneau.adapters.tokens import Tokens

    tokens = Tokens(open_store(args.store, create=args.action == "create"))
    if args.action == "list":
        for t in sorted(tokens.all().values(), key=lambda t: t.name):
            state = w._("revoked") if t.revoked else w._("live")
            print(f"{t.token_id}  {t.name}  {t.role}  {t.edition or '*'}  {state}", file=out)
        return EXIT_OK
    if not args.name:
        raise UsageError("token_needs_name")
    if args.action == "revoke":
        gone = tokens.revoke(args.name, actor=args.actor)
        print(w.say('Revoked the token "{name}".', name=gone.name), file=out)
        return EXIT_OK
    if args.role is None:
        raise UsageError("token_needs_role")
    token, secret = tokens.create(role=args.role, edition=args.edition, name=args.name,
                                  actor=args.actor)  # fmt: skip
    print(w.say('Token "{name}" ({role}, {edition}) — shown once, keep it:', name=token.name,
                role=token.role, edition=token.edition or "*"), file=out)  # fmt: skip
    print(secret, file=out)
    return EXIT_OK
