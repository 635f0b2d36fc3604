"""Two `creneau serve` processes on one PostgreSQL store: bookings written through both
at once, none lost; a committee write with the version read from one server refused by
the other once the first has written (409); each server's change stream tells the
other's writes."""

from __future__ import annotations

import concurrent.futures
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from creneau.adapters.bootstrap import open_store
from creneau.adapters.tokens import Tokens
from tests.integration.cli_helpers import publish
from tests.integration.serve_helpers import call, serving
from tests.postgres import scratch_store

E = "nec-metz-2023"


@pytest.fixture
def store(capsys: pytest.CaptureFixture[str]) -> Iterator[str]:
    with scratch_store() as address:
        yield publish(capsys, address)


@pytest.mark.postgres
@pytest.mark.slow
def test_two_servers_on_one_postgres_store(store: str) -> None:
    tokens = Tokens(open_store(store))
    desk = tokens.create(role="desk", edition=E, name="accueil", actor="setup")[1]
    committee = tokens.create(role="committee", edition=E, name="comite", actor="setup")[1]
    with serving(store) as a, serving(store) as b:
        api_a, api_b = f"{a}/api/v1/editions/{E}", f"{b}/api/v1/editions/{E}"
        _, headers, _ = call("GET", api_a, committee)
        start = int(headers["etag"].strip('"'))

        def book(i: int) -> int:
            server = api_a if i % 2 else api_b
            status, _, _ = call("POST", f"{server}/bookings", desk,
                                {"attendee": f"p{i}", "session": "visite-bliiida"})  # fmt: skip
            return status

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(book, range(30)))
        assert statuses == [200] * 30
        _, _, places = call("GET", f"{api_b}/places", desk)
        held = [x for p in places if p["session"] == "visite-bliiida"
                for x in (*p["confirmed"], *p["waiting"])]  # fmt: skip
        assert sorted(held) == sorted(f"p{i}" for i in range(30))  # none lost, none twice
        _, headers, _ = call("GET", api_a, committee)
        now = int(headers["etag"].strip('"'))
        assert now >= start + 30
        # A move through A with the version read; the same version through B is stale.
        move = {"session": "esport", "room": "wolking-ghost-hall"}
        status, _, body = call("POST", f"{api_a}/moves", committee, move, **{"If-Match": str(now)})
        assert status == 200, body
        status, _, body = call("POST", f"{api_b}/moves", committee,
                               {"session": "esport", "room": "espace-decouverte"},
                               **{"If-Match": str(now)})  # fmt: skip
        assert status == 409 and body["version"] == now + 1
        # B's change stream tells A's write.
        stream = urllib.request.urlopen(f"{api_b}/changes?since={now}", timeout=10)
        for line in stream:
            if line.startswith(b"data:"):
                assert int(line.removeprefix(b"data:").strip()) == now + 1
                break
        stream.close()
