"""Hypothesis strategies and small builders shared by the tests."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import strategies as st

from scheduler import Metadata, NewEvent

DAY = dt.date(2023, 10, 12)


def new_event(n: int = 0, *, type: str = "test.happened", payload: bytes | None = None) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        type=type,
        schema_version=1,
        payload=payload if payload is not None else b'{"n":%d}' % n,
        metadata=Metadata(
            actor="tester", recorded_at="2023-10-12T08:00:00.000000Z",
            correlation_id=str(uuid.uuid4()),
        ),
    )


def batch(size: int, start: int = 0) -> list[NewEvent]:
    return [new_event(start + i) for i in range(size)]


ids = st.sampled_from([f"x{i}" for i in range(6)])
