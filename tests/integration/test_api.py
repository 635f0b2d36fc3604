"""The HTTP API through Litestar's test client, on a real SQLite store: who may do what,
stale versions, problem documents in the command line's words, solves as jobs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from creneau.adapters.api import create_app
from creneau.adapters.bootstrap import open_store
from creneau.adapters.tokens import Tokens
from creneau.scheduler import EditionService
from tests.integration.cli_helpers import SUD_OUEST, published, run

E = "nec-metz-2023"
API = f"/api/v1/editions/{E}"


@pytest.fixture
def api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[dict[str, Any]]:
    db = published(capsys, tmp_path)
    assert run(capsys, "import", str(SUD_OUEST), "--store", db)[0] == 0
    store = open_store(db)
    tokens = Tokens(store)
    secrets = {}
    for name, role, edition in (("root", "admin", None), ("comite-metz", "committee", E),
                                ("accueil", "desk", E), ("public-metz", "viewer", E),
                                ("comite-ondres", "committee", "nec-sud-ouest-2023")):  # fmt: skip
        secrets[name] = tokens.create(role=role, edition=edition, name=name, actor="setup")[1]
    with TestClient(app=create_app(store)) as client:
        yield {"client": client, "tokens": secrets, "db": db, "capsys": capsys}


def auth(api: dict[str, Any], name: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api['tokens'][name]}", **headers}


def version(api: dict[str, Any]) -> int:
    r = api["client"].get(API, headers=auth(api, "public-metz"))
    assert r.status_code == 200
    return int(r.headers["etag"].strip('"'))


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["type"].startswith("urn:creneau:problem:")
    return body


def test_without_a_token_only_the_public_programme(api: dict[str, Any]) -> None:
    client = api["client"]
    editions = client.get("/api/v1/editions").json()
    assert {e["id"] for e in editions} == {E, "nec-sud-ouest-2023"}
    assert client.get(f"{API}/programme").json()["assignments"]
    feed = client.get(f"{API}/exports/frab-xml")
    assert feed.status_code == 200 and feed.text.startswith("<?xml")
    problem(client.get(API), 401)
    problem(client.get(f"{API}/exports/edition"), 401)
    problem(client.get(f"{API}/log"), 401)
    problem(client.post(f"{API}/moves", json={"session": "accueil", "start": "08:35"}), 401)


def test_roles_editions_and_revoked_tokens(api: dict[str, Any]) -> None:
    client = api["client"]
    before = version(api)
    move = {"session": "atelier-education", "start": "14:30"}
    headers = {"If-Match": f'"{before}"'}
    body = problem(client.post(f"{API}/moves", json=move,
                               headers=auth(api, "public-metz", **headers)), 403)  # fmt: skip
    assert "viewer" in body["title"]
    problem(client.post(f"{API}/moves", json=move, headers=auth(api, "accueil", **headers)), 403)
    body = problem(client.post(f"{API}/moves", json=move,
                               headers=auth(api, "comite-ondres", **headers)), 403)  # fmt: skip
    assert body["title"] == "ce jeton n’est pas pour cette édition"
    assert version(api) == before  # nothing written by a refused request
    Tokens(open_store(api["db"])).revoke("comite-metz", actor="setup")
    body = problem(client.post(f"{API}/moves", json=move,
                               headers=auth(api, "comite-metz", **headers)), 401)  # fmt: skip
    assert "révoqué" in body["title"]
    problem(client.get(API, headers={"Authorization": "Bearer crn_nope_nope"}), 401)


def test_a_move_needs_the_version_read_and_names_the_broken_rule(api: dict[str, Any]) -> None:
    client = api["client"]
    move = {"session": "atelier-education", "room": "wolking-ghost-hall", "start": "14:30"}
    problem(client.post(f"{API}/moves", json=move, headers=auth(api, "comite-metz")), 428)
    now = version(api)
    body = problem(client.post(f"{API}/moves", json=move,
                               headers=auth(api, "comite-metz", **{"If-Match": f'"{now - 1}"'})),
                   409)  # fmt: skip
    assert body["version"] == now
    # The same refusal, in the same words, as `creneau move`.
    refused = client.post(f"{API}/moves", json={"session": "atelier-education", "start": "14:00",
                                                "room": "salle-travail-1"},
                          headers=auth(api, "comite-metz", **{"If-Match": f'"{now}"'}))  # fmt: skip
    body = problem(refused, 422)
    _, _, err = run(api["capsys"], "move", "atelier-education", "--start", "14:00", "--room",
                    "salle-travail-1", "--store", api["db"], "--edition", E)  # fmt: skip
    assert body["errors"] and all(e["message"] in err for e in body["errors"]), (body, err)
    assert version(api) == now
    english = client.post(f"{API}/moves?lang=en", json={"session": "atelier-education",
                                                        "start": "14:00",
                                                        "room": "salle-travail-1"},
                          headers=auth(api, "comite-metz", **{"If-Match": f'"{now}"'}))  # fmt: skip
    assert problem(english, 422)["title"] == "refused, nothing was recorded"
    ok = client.post(f"{API}/moves", json={"session": "esport", "room": "wolking-ghost-hall"},
                     headers=auth(api, "comite-metz", **{"If-Match": f'"{now}"'}))  # fmt: skip
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"events": 1, "version": now + 1}
    # The token's name is the actor recorded, not the server's OS user.
    log = client.get(f"{API}/log", params={"entity": "esport"},
                     headers=auth(api, "public-metz")).json()  # fmt: skip
    assert log["entries"][-1]["actor"] == "comite-metz"
    assert log["entries"][-1]["type"] == "session.moved"


def test_committee_commands_through_the_same_handlers(api: dict[str, Any]) -> None:
    client = api["client"]
    now = version(api)
    room = {"command": "update_room", "room": {"id": "salle-travail-1", "name": "Salle 1",
                                               "capacity": 30}}  # fmt: skip
    r = client.post(f"{API}/commands", json=room,
                    headers=auth(api, "comite-metz", **{"If-Match": str(now)}))  # fmt: skip
    assert r.status_code == 200, r.text
    document = client.get(API, headers=auth(api, "comite-metz")).json()
    assert next(x for x in document["rooms"] if x["id"] == "salle-travail-1")["capacity"] == 30
    bad = {"command": "update_room", "room": {"id": "salle-travail-1", "capacity": -5}}
    body = problem(client.post(f"{API}/commands", json=bad, headers=auth(
        api, "comite-metz", **{"If-Match": str(now + 1)})), 422)  # fmt: skip
    assert any("-5" in e["message"] for e in body["errors"])
    headers = auth(api, "comite-metz", **{"If-Match": str(now + 1)})
    malformed = client.post(f"{API}/commands", json={"command": "launch_rockets"},
                            headers=headers)  # fmt: skip
    problem(malformed, 400)
    assert version(api) == now + 1


def test_the_desk_books_until_the_waiting_list(api: dict[str, Any]) -> None:
    client = api["client"]
    # A viewer may read the places too, not book them.
    assert client.get(f"{API}/places", headers=auth(api, "public-metz")).status_code == 200
    refused = client.post(f"{API}/bookings", json={"attendee": "x", "session": "visite-bliiida"},
                          headers=auth(api, "public-metz"))  # fmt: skip
    problem(refused, 403)
    seats = None
    for i in range(40):
        r = client.post(f"{API}/bookings", json={"attendee": f"a{i}", "session": "visite-bliiida"},
                        headers=auth(api, "accueil"))  # fmt: skip
        assert r.status_code == 200, r.text
        now = {(p["session"], p["occurrence"]): p for p in
               client.get(f"{API}/places", headers=auth(api, "accueil")).json()}  # fmt: skip
        run1 = now[("visite-bliiida", 1)]
        seats = run1["offered"]
        if run1["waiting"]:
            break
    assert seats is not None and len(run1["confirmed"]) == seats and run1["waiting"] == [f"a{i}"]
    r = client.delete(f"{API}/bookings/a0/visite-bliiida", headers=auth(api, "accueil"))
    assert r.status_code == 200, r.text
    after = {(p["session"], p["occurrence"]): p for p in
             client.get(f"{API}/places", headers=auth(api, "accueil")).json()}  # fmt: skip
    assert f"a{i}" in after[("visite-bliiida", 1)]["confirmed"]  # the first waiting took it


def test_a_solve_runs_as_a_job_and_is_recorded(api: dict[str, Any]) -> None:
    client = api["client"]
    headers = auth(api, "comite-metz")
    started = client.post(f"{API}/solves", json={"time_limit": 5, "seed": 1}, headers=headers)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["state"] == "running" and job["solved_version"] == version(api)
    # Registrations meanwhile do not make it stale.
    client.post(f"{API}/bookings", json={"attendee": "zoe", "session": "visite-bliiida"},
                headers=auth(api, "accueil"))  # fmt: skip
    with client.stream("GET", f"{API}/solves/{job['job']}/events", headers=headers) as events:
        told = [msgspec.json.decode(line.removeprefix("data:").strip())
                for line in events.iter_lines() if line.startswith("data:")]  # fmt: skip
    assert told and told[-1]["state"] == "finished"
    deadline = time.monotonic() + 10
    status = told[-1]
    while status["schedule"] is None and time.monotonic() < deadline:
        status = client.get(f"{API}/solves/{job['job']}", headers=headers).json()
    assert status["schedule"] == "schedule-2" and status["figures"]
    problem(client.get(f"{API}/solves/nope", headers=headers), 404)


def test_the_openapi_document_names_every_route(api: dict[str, Any]) -> None:
    spec = api["client"].get("/schema/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    for path in ("/api/v1/editions", "/api/v1/editions/{edition}/moves",
                 "/api/v1/editions/{edition}/bookings", "/api/v1/editions/{edition}/solves",
                 "/api/v1/editions/{edition}/log", "/api/v1/verify", "/api/v1/checkpoint",
                 "/health"):  # fmt: skip
        assert path in spec["paths"], sorted(spec["paths"])


def test_an_admin_imports_an_edition_and_solves_are_stopped_or_cancelled(
    api: dict[str, Any],
) -> None:
    from benchmarks.national import generate
    from creneau.adapters.edition_document import to_document

    client = api["client"]
    document = to_document(generate(1.0))
    problem(client.post("/api/v1/editions", json=document, headers=auth(api, "comite-metz")), 403)
    created = client.post("/api/v1/editions", json=document, headers=auth(api, "root"))
    assert created.status_code == 201, created.text
    edition = document["id"]
    base = f"/api/v1/editions/{edition}"
    headers = auth(api, "root")
    job = client.post(f"{base}/solves", json={"time_limit": 120}, headers=headers).json()
    cancelled = client.delete(f"{base}/solves/{job['job']}", headers=headers).json()
    assert cancelled["state"] == "cancelled" and cancelled["schedule"] is None
    job = client.post(f"{base}/solves", json={"time_limit": 120}, headers=headers).json()
    deadline = time.monotonic() + 60
    while client.get(f"{base}/solves/{job['job']}", headers=headers).json()["solutions"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    stopped = client.post(f"{base}/solves/{job['job']}/stop", headers=headers).json()
    assert stopped["state"] == "finished" and stopped["schedule"] == "schedule-1"
    # A refused import writes nothing: the document names its fault.
    bad = {**document, "rooms": [{**document["rooms"][0], "capacity": -1}]}
    problem(client.post("/api/v1/editions", json=bad, headers=headers), 428)  # re-import
    now = client.get(base, headers=headers).headers["etag"]
    body = problem(client.post("/api/v1/editions", json=bad,
                               headers={**headers, "If-Match": now}), 422)  # fmt: skip
    assert any(e["path"].startswith("rooms[0]") for e in body["errors"])
    assert client.get(base, headers=headers).headers["etag"] == now


def test_the_pages_need_no_token_to_be_read(api: dict[str, Any]) -> None:
    client = api["client"]
    index = client.get("/?lang=fr")
    assert index.status_code == 200
    for page in ("grid", "desk", "timeline"):
        assert f'href="/editions/{E}/{page}?lang=fr"' in index.text
    public = client.get(f"/editions/{E}", params={"audience": "general_public", "lang": "fr"})
    assert public.status_code == 200 and "Programme — grand public" in public.text
    assert "/atelier-conseillers/" not in public.text and "/esport/" in public.text
    # The other programmes, one link each (on a screen; the print style hides them).
    assert f'href="/editions/{E}?audience=professionals&amp;lang=fr">professionnels' in public.text
    assert "tout le programme" in public.text
    problem(client.get(f"/editions/{E}", params={"audience": "martians"}), 422)
    grid = client.get(f"/editions/{E}/grid", params={"lang": "en"})
    assert grid.status_code == 200 and 'data-session="esport"' in grid.text
    fragment = client.get(f"/editions/{E}/grid/fragment").json()
    assert fragment["version"] == version(api) and "slot" in fragment["grid"]


def test_an_admin_makes_and_revokes_tokens_over_http(api: dict[str, Any]) -> None:
    client = api["client"]
    body = {"role": "viewer", "edition": E, "name": "presse"}
    problem(client.post("/api/v1/tokens", json=body, headers=auth(api, "comite-metz")), 403)
    made = client.post("/api/v1/tokens", json=body, headers=auth(api, "root"))
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    assert client.get(API, headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listed = client.get("/api/v1/tokens", headers=auth(api, "root")).json()
    assert {"presse", "root", "comite-metz"} <= {t["name"] for t in listed}
    assert all("secret" not in t and "digest" not in t for t in listed)
    taken = client.post("/api/v1/tokens", json=body, headers=auth(api, "root"))
    assert "presse" in problem(taken, 400)["title"]
    assert client.delete("/api/v1/tokens/presse", headers=auth(api, "root")).status_code == 200
    problem(client.get(API, headers={"Authorization": f"Bearer {secret}"}), 401)


def test_an_admin_verifies_the_store_and_against_a_checkpoint(api: dict[str, Any]) -> None:
    from tests.tampering import tamper

    client = api["client"]
    problem(client.get("/api/v1/verify", headers=auth(api, "comite-metz")), 403)
    problem(client.get("/api/v1/checkpoint"), 401)
    kept = client.get("/api/v1/checkpoint", headers=auth(api, "root")).json()
    assert kept["text"].splitlines()[0].endswith(kept["digest"])
    found = client.get("/api/v1/verify", headers=auth(api, "root")).json()
    assert found["ok"] and found["broken"] is None and found["events"] > 100
    assert found["lines"][0].startswith("OK")
    # A change after the checkpoint: history up to it still holds, by text or digest.
    client.post(f"{API}/moves", json={"session": "accueil", "start": "08:35"},
                headers=auth(api, "comite-metz", **{"If-Match": str(version(api))}))  # fmt: skip
    for given in (kept["text"], kept["digest"]):
        against = client.post("/api/v1/verify", json={"checkpoint": given},
                              headers=auth(api, "root")).json()  # fmt: skip
        assert against["ok"], against
        assert kept["digest"] in against["lines"][-1]
    bad = client.post("/api/v1/verify", json={"checkpoint": "not a checkpoint"},
                      headers=auth(api, "root"))  # fmt: skip
    assert problem(bad, 400)["type"].endswith("checkpoint_header")
    # An event altered behind the engine's back: the answer names it, as the command line.
    store = open_store(api["db"])
    tamper(store, 3, b'{"type":"room.removed","room_id":"x"}')
    found = client.get("/api/v1/verify", headers=auth(api, "root")).json()
    assert not found["ok"] and found["broken"]["position"] == 3
    assert found["broken"]["reason"] == "altered"
    code, printed, _ = run(api["capsys"], "verify", "--store", api["db"])
    assert code != 0
    assert found["lines"] == [printed.strip()]


def test_the_log_names_people_only_when_a_committee_asks(api: dict[str, Any]) -> None:
    client = api["client"]
    person = client.get(f"{API}/exports/edition", headers=auth(api, "comite-metz")).json()[
        "people"][0]  # fmt: skip
    command = {"command": "update_person", "person": {**person, "organisation": "Ville de Metz"}}
    written = client.post(f"{API}/commands", json=command, headers=auth(
        api, "comite-metz", **{"If-Match": str(version(api))}))  # fmt: skip
    assert written.status_code == 200, written.text
    params = {"entity": person["id"], "lang": "en"}
    hidden = client.get(f"{API}/log", params=params, headers=auth(api, "public-metz")).json()
    assert "Ville de Metz" not in str(hidden) and "organisation" in str(hidden)
    problem(client.get(f"{API}/log", params={**params, "names": "true"},
                       headers=auth(api, "public-metz")), 403)  # fmt: skip
    shown = client.get(f"{API}/log", params={**params, "names": "true"},
                       headers=auth(api, "comite-metz")).json()  # fmt: skip
    assert "Ville de Metz" in str(shown)


def test_a_scenario_sweep_runs_in_the_server_and_compares_its_variants(
    api: dict[str, Any],
) -> None:
    client = api["client"]
    headers = auth(api, "comite-metz")
    sweep = {"time_limit": 10, "scenario": [
        {"name": "as it is"},
        {"name": "Frédéric absent", "absent": [{"person": "frederic-schnur"}]},
        {"name": "no work room 1", "closed": [{"room": "salle-travail-1"}]},
    ]}  # fmt: skip
    problem(client.post(f"{API}/scenarios", json=sweep, headers=auth(api, "accueil")), 403)
    wrong = {"scenario": [{"name": "x", "closed": [{"room": "nowhere"}]}]}
    refused = problem(client.post(f"{API}/scenarios", json=wrong, headers=headers), 422)
    assert "scenario[0].closed[0].room" in json.dumps(refused)
    started = client.post(f"{API}/scenarios", json=sweep, headers=headers)
    assert started.status_code == 202, started.text
    sweep_id = started.json()["sweep"]
    deadline = time.monotonic() + 60
    while (told := client.get(f"{API}/scenarios/{sweep_id}", headers=headers).json())[
            "state"] == "running":  # fmt: skip
        assert time.monotonic() < deadline
        time.sleep(0.2)
    rows = {r["scenario"]: r for r in told["rows"]}
    assert list(rows) == ["as it is", "Frédéric absent", "no work room 1"]
    assert rows["as it is"]["outcome"] == "optimal" and rows["as it is"]["moves"] == 0
    assert rows["Frédéric absent"]["schedule"] is not None
    assert rows["no work room 1"]["outcome"] == "infeasible"
    assert rows["no work room 1"]["schedule"] is None
    state = EditionService(open_store(api["db"])).load(E)
    assert state.scenarios == {rows["as it is"]["schedule"]: "as it is",
                               rows["Frédéric absent"]["schedule"]: "Frédéric absent"}  # fmt: skip
    problem(client.get(f"{API}/scenarios/sweep-nope", headers=headers), 404)
