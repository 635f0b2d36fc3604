"""schemathesis against the API's own OpenAPI document, in-process: requests generated
from the schema get no 5xx, every response documented matches its schema, and a request
refused writes nothing to the store."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from creneau.adapters.api import create_app
from creneau.adapters.bootstrap import open_engine, open_store
from creneau.adapters.edition_document import load_edition
from creneau.adapters.tokens import Tokens
from creneau.scheduler import AcceptSchedule, ImportEdition, SolveProgramme
from creneau.solver import CpSatSolver
from tests.integration.cli_helpers import METZ

STATE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = str(tmp_path_factory.mktemp("schema") / "metz.db")
    snapshot = load_edition(METZ).snapshot
    with open_engine(db, actor="setup") as engine:
        service = engine.service
        service.execute(ImportEdition(snapshot=snapshot))
        _, schedule = service.solve(snapshot.id, CpSatSolver(), SolveProgramme(time_limit=10))
        service.execute(AcceptSchedule(schedule_id=schedule), edition_id=snapshot.id)
    store = open_store(db)
    STATE["store"] = store
    STATE["token"] = Tokens(store).create(role="committee", edition=snapshot.id,
                                          name="comite-metz", actor="setup")[1]  # fmt: skip
    app = create_app(store)
    # Solves start threads that run for as long as asked, and the changes stream for
    # as long as the page stays: both exercised in test_api.py and the browser test.
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app).exclude(
        path_regex="solves|changes"
    )


def positions() -> int:
    store = STATE["store"]
    return sum(store.stream_version(s) for s in store.streams())


def test_the_api_keeps_its_schema_and_refusals_write_nothing(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    headers = {"Authorization": f"Bearer {STATE['token']}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def check(case: Any) -> None:
            if case.path_parameters and "edition" in case.path_parameters:
                case.path_parameters["edition"] = "nec-metz-2023"  # reach past the 404
            before = positions()
            response = case.call(headers=headers)
            checks = [not_a_server_error, response_schema_conformance]
            case.validate_response(response, checks=checks)
            if response.status_code >= 400:
                assert positions() == before, (case.method, case.path, response.status_code)

        check()
