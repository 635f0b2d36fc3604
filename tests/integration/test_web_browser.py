"""The committee's page in a real browser: Playwright driving Debian's Chromium against a
real `creneau serve` on 127.0.0.1. A session dragged onto a taken room is refused with
the rule in words; dragged to a free slot it moves, and a second browser sees the move
without a reload."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from creneau.adapters.bootstrap import open_store
from creneau.adapters.tokens import Tokens
from tests.integration.cli_helpers import published
from tests.integration.serve_helpers import serving

CHROMIUM = "/usr/bin/chromium"
E = "nec-metz-2023"


def need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):  # .ci/run installs Debian's chromium: missing there is a fault
            pytest.fail("chromium is not installed")
        pytest.skip("Debian's chromium is not installed")


@pytest.fixture
def server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[str, str]]:
    need_chromium()
    db = published(capsys, tmp_path)
    _, secret = Tokens(open_store(db)).create(role="committee", edition=E, name="comite-metz",
                                              actor="setup")  # fmt: skip
    with serving(db) as base:
        yield base, secret


@pytest.fixture
def browser() -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


def log_in(page: Any, secret: str) -> None:
    page.fill("#token", secret)
    page.click("#login button")


def keep(tmp_path: Path, page: Any, name: str) -> None:
    """A screenshot of the page; the README's pictures when CRENEAU_SCREENSHOTS names a
    folder."""
    page.screenshot(path=str(tmp_path / name))
    if os.environ.get("CRENEAU_SCREENSHOTS"):
        shutil.copy(tmp_path / name, Path(os.environ["CRENEAU_SCREENSHOTS"]) / name)


def test_drag_refused_then_accepted_and_seen_by_another_browser(
    server: tuple[str, str], browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, secret = server
    grid = f"{base}/editions/{E}/grid?lang=fr"
    committee = browser.new_page(viewport={"width": 2600, "height": 1400})
    other = browser.new_context().new_page()
    other.goto(grid)
    committee.goto(grid)
    log_in(committee, secret)
    expect(committee.locator("#who")).to_have_text("Jeton gardé pour cet onglet.")
    esport = '.session[data-session="esport"]'
    # Onto a room that already holds a workshop then: refused, the rule in words.
    committee.drag_and_drop(esport, '.slot[data-room="salle-travail-1"][data-start="14:00"]',
                            force=True)  # fmt: skip
    refused = committee.locator("#status.refused")
    expect(refused).to_contain_text("enfreint la règle")
    expect(refused).to_contain_text("« Activité découverte « E-Sport » »")
    assert committee.locator(esport).get_attribute("data-room") == "espace-decouverte"
    # To the hall, free in the afternoon: moved, and the other browser sees it.
    committee.drag_and_drop(esport, '.slot[data-room="wolking-ghost-hall"]'
                            '[data-start="14:00"]', force=True)  # fmt: skip
    expect(committee.locator("#status.done")).to_have_text("Déplacée.")
    expect(committee.locator(f'{esport}[data-room="wolking-ghost-hall"]')).to_have_count(1)
    expect(other.locator(f'{esport}[data-room="wolking-ghost-hall"]')).to_have_count(
        1, timeout=10_000)  # fmt: skip
    keep(tmp_path, committee, "web-grid.png")


def test_the_desk_books_until_the_waiting_list_starts(
    server: tuple[str, str], browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, secret = server
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.goto(f"{base}/editions/{E}/desk?lang=fr")
    log_in(page, secret)
    page.fill("#find", "Visite guidée")
    run = page.locator('tr[data-session="visite-bliiida"][data-occurrence="1"]')
    expect(run).to_be_visible()
    assert page.locator('tr[data-session="accueil"]').is_hidden()  # the search narrows
    seats = int(run.locator("td.n").first.inner_text())
    for i in range(seats + 1):
        run.locator("input[name=attendee]").fill(f"visiteur-{i}")
        run.locator("button[type=submit]").click()
        expect(page.locator("#status.done")).to_contain_text(f"visiteur-{i}")
    expect(run.locator(".left")).to_have_text("0")
    expect(run.locator(".waiting")).to_have_text(f"visiteur-{seats}")
    # A cancellation gives the place to the first who waits.
    run.locator("input[name=attendee]").fill("visiteur-0")
    run.locator("button.cancel").click()
    expect(run.locator(".waiting")).to_have_text("")
    expect(run.locator(".taken")).to_have_text(str(seats))
    keep(tmp_path, page, "web-desk.png")


def test_the_timeline_slider_shows_the_programme_as_it_was(
    server: tuple[str, str], browser: Any, tmp_path: Path
) -> None:
    import json
    import urllib.request

    from playwright.sync_api import expect

    base, secret = server
    api = f"{base}/api/v1/editions/{E}"
    version = int(urllib.request.urlopen(f"{api}/programme").headers["etag"].strip('"'))
    move = urllib.request.Request(f"{api}/moves", method="POST", data=json.dumps(
    {"session": "esport", "room": "wolking-ghost-hall"}).encode(), headers={
    "Authorization": f"Bearer {secret}", "Content-Type": "application/json",
    "If-Match": str(version)})  # fmt: skip
    assert urllib.request.urlopen(move).status == 200
    page = browser.new_page(viewport={"width": 2600, "height": 1400})
    page.goto(f"{base}/editions/{E}/timeline?lang=fr")
    expect(page.locator(".log tr", has_text="session déplacée")).to_have_count(1)
    expect(page.locator(".log tr", has_text="comite-metz")).to_have_count(1)
    # Now: E-Sport in the hall; slid back one version: where the solver put it.
    hall = page.locator("#asof .session", has_text="E-Sport")
    expect(hall).to_have_count(1)
    now_box = hall.bounding_box()
    page.locator("#at").fill(str(version))
    expect(page.locator("#shown")).to_have_text(str(version))
    expect(page.locator(".log tr.current")).to_have_count(1)
    assert now_box is not None
    # The grid as it was: E-Sport in another column than now.
    page.wait_for_function(
        """x => [...document.querySelectorAll('#asof .session')]
             .some(e => e.textContent.includes('E-Sport')
                        && Math.abs(e.getBoundingClientRect().x - x) > 5)""",
        arg=now_box["x"],
    )
    keep(tmp_path, page, "web-timeline.png")


def solve_from_the_page(base: str, secret: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    page.goto(f"{base}/editions/{E}/grid?lang=fr")
    expect(page.locator("#figures li").first).to_contain_text("Part des femmes")
    log_in(page, secret)
    before = int(page.locator("#version").inner_text())
    page.click("#solve-start")
    expect(page.locator("#status")).to_have_text("Résolution…")
    expect(page.locator("#solve-progress")).to_be_visible()
    expect(page.locator("#solve-accept")).to_be_visible(timeout=30_000)
    expect(page.locator("#status.done")).to_have_text("Proposé : schedule-2.")
    expect(page.locator("#solve-diff li").first).to_be_visible()
    page.click("#solve-accept")
    expect(page.locator("#status.done")).to_have_text("Publié.")
    expect(page.locator("#version")).not_to_have_text(str(before))
    page.close()


def test_a_solve_from_the_page_with_its_progress_then_published(
    server: tuple[str, str], browser: Any
) -> None:
    solve_from_the_page(*server, browser)


@pytest.mark.postgres
def test_a_solve_from_the_page_runs_on_a_worker_when_the_server_queues_solves(
    browser: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading

    from creneau.adapters.jobqueue import run_worker
    from tests.integration.cli_helpers import publish
    from tests.postgres import scratch_store

    stop = threading.Event()
    with scratch_store() as address:
        publish(capsys, address)
        _, secret = Tokens(open_store(address)).create(
            role="committee", edition=E, name="comite-metz", actor="setup"
        )
        worker = threading.Thread(target=run_worker, args=(address,), kwargs={"stop": stop})
        try:
            with serving(address, "--queue") as base:
                worker.start()
                solve_from_the_page(base, secret, browser)
        finally:
            stop.set()
            if worker.is_alive():
                worker.join(30)
