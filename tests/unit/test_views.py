"""Views follow the stream: after any run of commands, caught up at any moments, they equal
a view rebuilt from the whole log, and what a replay of the stream says (places, the
audit trail, the state a snapshot and its tail give). A follower that stops between
reading and writing loses no event and folds none twice. On memory, SQLite and
PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creneau.events_store import MemoryEventStore, SQLiteEventStore
from creneau.scheduler import (
    VIEW,
    AddRoom,
    Command,
    EditionService,
    InvalidCommand,
    Room,
    Views,
    place_lines,
    replay,
)
from creneau.scheduler._personal import Personal
from tests.postgres import DSN
from tests.postgres import require as require_postgres
from tests.strategies import commands, setup


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    made: list[Any] = []

    def make() -> Any:
        if request.param == "memory":
            store: Any = MemoryEventStore()
        elif request.param == "sqlite":
            store = SQLiteEventStore(tmp_path_factory.mktemp("views") / "s.db")
        else:
            require_postgres()
            from creneau.events_store.postgres import PostgresEventStore, new_schema_name

            store = PostgresEventStore(DSN, schema=new_schema_name())
        made.append(store)
        return store

    yield make
    for store in made:
        if hasattr(store, "drop"):
            store.drop()
        store.close()


def run_commands(service: EditionService, steps: list[Command], catch_ups: list[bool]) -> None:
    for command, now in zip([*setup, *steps], [False] * len(setup) + catch_ups, strict=True):
        with contextlib.suppress(InvalidCommand):
            service.execute(command, edition_id="ed")
        if now:
            service.views.catch_up()


def replayed(store: Any) -> Any:
    return replayed_of(store, "ed")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_followed_view_equals_a_rebuilt_one(make_store: Any, data: st.DataObject) -> None:
    steps = data.draw(st.lists(commands, min_size=3, max_size=25))
    catch_ups = data.draw(st.lists(st.booleans(), min_size=len(steps), max_size=len(steps)))
    store = make_store()
    service = EditionService(store, actor="tester")
    run_commands(service, steps, catch_ups)
    service.views.catch_up()
    followed = service.views.rows()
    state = replayed(store)
    assert service.views.places("ed") == place_lines(state)
    audit = service.views.audit("ed")
    assert [x.version for x in audit] == list(range(1, state.version + 1))
    # A snapshot and the stream after it give the state a replay gives.
    assert EditionService(store, actor="tester").load("ed") == state
    rebuilt = Views(store)
    assert rebuilt.rebuild() == store.view_position(VIEW)
    assert rebuilt.rows() == followed


class Crash(Exception):
    pass


def test_a_follower_stopped_before_writing_resumes_without_loss_or_repeat(make_store: Any) -> None:
    store = make_store()
    service = EditionService(store, actor="tester")
    run_commands(service, [], [])
    service.views.catch_up()
    before = store.view_position(VIEW)
    service.execute(AddRoom(room=Room(id="r-new", capacity=12)), edition_id="ed")
    original = store.write_view

    def crash(*args: Any, **kwargs: Any) -> bool:
        raise Crash

    store.write_view = crash
    with pytest.raises(Crash):
        Views(store).catch_up()
    store.write_view = original
    assert store.view_position(VIEW) == before  # nothing half-written
    follower = Views(store)
    follower.catch_up()
    audit = follower.audit("ed")
    versions = [x.version for x in audit]
    assert versions == sorted(set(versions)) == list(range(1, len(versions) + 1))
    assert audit[-1].entity == "room:r-new"
    assert follower.rows() == Views(store).rows()
    fresh = Views(store)
    fresh.rebuild()
    assert fresh.rows() == follower.rows()


def test_the_programme_and_its_figures_follow_the_stream(tmp_path: Path) -> None:
    from creneau import load_edition
    from creneau.scheduler import (
        AcceptSchedule,
        BookPlace,
        ImportEdition,
        check_schedule,
        programme_metrics,
    )
    from creneau.solver import CpSatSolver

    store = SQLiteEventStore(tmp_path / "metz.db")
    service = EditionService(store, actor="tester")
    snapshot = load_edition(Path(__file__).resolve().parents[2] / "examples" /
                            "nec-metz-2023.toml").snapshot  # fmt: skip
    service.execute(ImportEdition(snapshot=snapshot))
    _, schedule = service.solve("nec-metz-2023", CpSatSolver())
    service.execute(AcceptSchedule(schedule_id=schedule), edition_id="nec-metz-2023")
    service.views.catch_up()
    for who in ("a", "b", "c"):
        service.execute(BookPlace(attendee=who, session_id="atelier-education"),
                        edition_id="nec-metz-2023")  # fmt: skip
        service.views.catch_up()
    state = replayed_of(store, "nec-metz-2023")
    view = service.views.programme("nec-metz-2023")
    assert view is not None and view.placements == state.programme
    assert list(view.violations) == check_schedule(state.snapshot(), state.programme) == []
    assert dict(service.views.quality("nec-metz-2023")) == programme_metrics(
        state.snapshot(), state.programme
    )
    rebuilt = Views(store)
    rebuilt.rebuild()
    assert rebuilt.rows() == service.views.rows()


def replayed_of(store: Any, edition: str) -> Any:
    """The edition folded straight from the log, personal fields opened with the keys."""
    personal = Personal(store)
    return replay(personal.open(edition, t, v, p, i)
                  for _, t, v, p, i in store.read_payloads(f"edition-{edition}"))  # fmt: skip
