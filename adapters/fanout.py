"""Live updates across hosts: each server follows the shared stream once, through the
store's subscription (LISTEN/NOTIFY on PostgreSQL), and tells every page it streams to
when their edition changes, whichever host wrote the change.

One subscription per server, not one per page: a page waits on an asyncio event this
follower sets from its thread; the version it is told is the stream's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import structlog

from creneau.scheduler._views import STREAM_PREFIX

__all__ = ["Fanout"]


class Fanout:
    """The editions' versions as the shared stream tells them, fanned out to waiters."""

    def __init__(self, store: Any) -> None:
        from creneau.events_store.postgres import PostgresEventStore

        self._own = PostgresEventStore(store.dsn, schema=store.schema, migrate=False)
        self._versions: dict[str, int] = {}
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._after = self._own.head_position()
        self._thread = threading.Thread(target=self._follow, name="creneau-fanout", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        log = structlog.get_logger()
        while not self._stop.is_set():
            try:
                for r in self._own.subscribe(self._after, stop=self._stop):
                    self._after = r.position
                    if not r.stream_id.startswith(STREAM_PREFIX):
                        continue
                    edition = r.stream_id.removeprefix(STREAM_PREFIX)
                    with self._lock:
                        self._versions[edition] = max(self._versions.get(edition, 0), r.version)
                        waiters = list(self._waiters.get(edition, ()))
                    for loop, event in waiters:
                        with contextlib.suppress(RuntimeError):  # its loop has closed
                            loop.call_soon_threadsafe(event.set)
            except Exception as exc:  # the database away: follow again from where it was
                log.warning("fanout_interrupted", error=f"{type(exc).__name__}: {exc}")
                self._stop.wait(1.0)

    def version(self, edition: str) -> int | None:
        """The edition's version as last told by the stream; None before any news."""
        with self._lock:
            return self._versions.get(edition)

    async def wait(self, edition: str, timeout: float) -> None:
        """Until the edition changes, or ``timeout`` seconds pass."""
        event = asyncio.Event()
        key = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.setdefault(edition, set()).add(key)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            with self._lock:
                self._waiters.get(edition, set()).discard(key)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._own.close()
