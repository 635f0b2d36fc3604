"""The PostgreSQL server the tests of the PostgreSQL store run against: 127.0.0.1:5432,
trust authentication, database ``test``, or the address in ``CRENEAU_TEST_POSTGRES``.
Without one, those tests fail with one line that says so, not a traceback each."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator

import psycopg
import pytest

DSN = os.environ.get("CRENEAU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def _reachable() -> str | None:
    try:
        psycopg.connect(DSN, connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def require() -> None:
    """Fail the test at once, in one line, when the server cannot be reached."""
    problem = _reachable()
    if problem is not None:
        pytest.fail(
            f"PostgreSQL is not reachable at {DSN} ({problem}): start it, or set "
            "CRENEAU_TEST_POSTGRES to a server the tests may use",
            pytrace=False,
        )


@contextlib.contextmanager
def scratch_store() -> Iterator[str]:
    """The address of a store in a schema of its own on that server, dropped after."""
    require()
    from creneau.events_store.postgres import PostgresEventStore, new_schema_name

    schema = new_schema_name()
    try:
        yield f"{DSN}?schema={schema}"
    finally:
        PostgresEventStore(DSN, schema=schema, migrate=False).drop()
