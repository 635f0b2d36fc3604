"""Library code logs through structlog; in tests only warnings are shown. Tests marked
``postgres`` need the server of ``tests/postgres.py``."""

import logging

import pytest
import structlog

from tests import postgres

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres"):
        postgres.require()
