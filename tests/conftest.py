"""Library code logs through structlog; in tests only warnings are shown. Tests marked
``postgres`` need the server of ``tests/postgres.py``."""

import logging

import pytest
import structlog

from tests import postgres


def _quiet() -> None:
    structlog.reset_defaults()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


_quiet()


@pytest.fixture(autouse=True)
def _logging_as_tests_want() -> object:
    """A command run in-process configures structlog for its own run (a level, the
    stderr of that moment, which pytest closes after the test): put it back after."""
    yield
    _quiet()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres"):
        postgres.require()
