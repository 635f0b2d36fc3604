"""The committee's web page, served by the same application as the API: server-rendered
HTML (Jinja2, adapters/templates), a little plain JavaScript, nothing loaded from the
internet, no build step. The page calls the API for every change, with the token its
user pastes (kept in the tab's session storage), and follows the edition's changes as
server-sent events, whoever made them."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import ServerSentEvent

from creneau.adapters._messages import shown
from creneau.adapters.api import Problem, _server, _words, log_entry, summaries
from creneau.adapters.programmes import _render, programme_html
from creneau.scheduler import EditionState

__all__ = ["WEB_ROUTES"]


def _html(page: str) -> Response[str]:
    return Response(page, media_type="text/html; charset=utf-8")


@get("/", sync_to_thread=True)
def index(request: Request[Any, Any, Any]) -> Response[str]:
    """The editions of this server, each with its public programme and its pages."""
    w = _words(request)
    editions = [(e.id, e.name) for e in summaries(_server(request), w)]
    pages = ((w._("Programme grid"), "grid"), (w._("Registration desk"), "desk"),
             (w._("Audit timeline"), "timeline"))  # fmt: skip
    rows = "".join(
        f'<li><a href="/editions/{e}?lang={w.lang}">{html.escape(name)}</a> · '
        + " · ".join(
            f'<a href="/editions/{e}/{path}?lang={w.lang}">{html.escape(label)}</a>'
            for label, path in pages
        )
        + "</li>"
        for e, name in editions
    )
    title = html.escape(w._("Editions"))
    return _html(f'<!DOCTYPE html><html lang="{w.lang}"><head><meta charset="utf-8">'
                 f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                 f"<title>Créneau — {title}</title></head><body><h1>{title}</h1>"
                 f"<ul>{rows}</ul></body></html>")  # fmt: skip


@get("/editions/{edition:str}", sync_to_thread=True)
def public_programme(
    request: Request[Any, Any, Any],
    edition: FromPath[str],
    audience: FromQuery[str | None] = None,
) -> Response[str]:
    """The public programme (no token), per audience, readable on a phone."""
    from creneau.adapters.feeds import select

    w = _words(request)
    server = _server(request)
    state = server.state(edition, w)
    if state.accepted is None:
        raise Problem(404, "no_programme_yet", w._("no programme is published yet"))
    snapshot = shown(state, w)
    runs = server.call(lambda: select(snapshot, state.programme, audience=audience), w, edition)
    from creneau.adapters._messages import audience_name

    links = [(w._("the whole programme"), f"/editions/{edition}?lang={w.lang}")]
    links += [(audience_name(a, w), f"/editions/{edition}?audience={a}&lang={w.lang}")
              for a in snapshot.audiences]  # fmt: skip
    return _html(programme_html(state, runs, w, audience=audience, links=links,
                                generated=dt.datetime.now(dt.UTC)))  # fmt: skip


def _grid(state: EditionState, w: Any) -> str:
    from creneau.adapters._report import timetable

    snapshot = shown(state, w)
    pinned = frozenset(s.id for s in snapshot.sessions if s.fixed is not None)
    return timetable(snapshot, state.programme, w, interactive=True, pinned=pinned)


@get("/editions/{edition:str}/grid", sync_to_thread=True)
def grid_page(request: Request[Any, Any, Any], edition: FromPath[str]) -> Response[str]:
    """The programme grid: rooms × time per day, sessions dragged to another room or
    time (the move is refused, naming the rule, when it breaks one)."""
    from creneau.adapters._report import CSS

    w = _words(request)
    state = _server(request).state(edition, w)
    words = {"moved": w._("Moved."), "ready": w._("Token kept for this tab."),
             "solving": w._("Solving…"), "found": w._("Proposed: {schedule}."),
             "nothing": w._("No change from the published programme."),
             "accepted": w._("Published.")}  # fmt: skip
    return _html(_render("grid.html", w, edition=shown(state, w), version=state.version,
                         grid=_grid(state, w), figures=_figures(state, w), report_css=CSS,
                         words=words))  # fmt: skip


def _figures(state: EditionState, w: Any) -> list[str]:
    """The parity and quality panel: the report's figures of the published programme."""
    from creneau.adapters._report import render_metrics

    return render_metrics(shown(state, w), state.programme, w) if state.programme else []


@get("/editions/{edition:str}/grid/fragment", sync_to_thread=True)
def grid_fragment(
    request: Request[Any, Any, Any],
    edition: FromPath[str],
    version: Annotated[int | None, QueryParameter(ge=1)] = None,
) -> dict[str, Any]:
    """The grid now (sessions draggable), or as it was after ``version`` (to look at)."""
    from creneau.adapters._report import timetable

    w = _words(request)
    server = _server(request)
    if version is None:
        state = server.state(edition, w)
        return {"grid": _grid(state, w), "version": state.version,
                "figures": _figures(state, w)}  # fmt: skip
    state = server.state(edition, w, at_version=version)
    grid = timetable(shown(state, w), state.programme, w) if state.programme else \
        f"<p>{html.escape(w._('No programme was published yet at that point.'))}</p>"  # fmt: skip
    return {"grid": grid, "version": state.version}


@get("/editions/{edition:str}/timeline", sync_to_thread=True)
def timeline_page(
    request: Request[Any, Any, Any],
    edition: FromPath[str],
    entity: FromQuery[str | None] = None,
) -> Response[str]:
    """The audit timeline: every event with its actor and time, narrowed to one entity
    when asked, and a slider that shows the programme as it was at any point."""
    from creneau.adapters._report import CSS
    from creneau.scheduler import Metadata

    w = _words(request)
    server = _server(request)
    state = server.state(edition, w)
    zone = state.info.timezone if state.info else None
    entries = []
    for line in server.audit(edition, entity, w):
        moment = Metadata(actor="", recorded_at=line.recorded_at, correlation_id="").time
        entries.append((log_entry(line, w), w.moment(moment, zone)))
    return _html(_render("timeline.html", w, edition=shown(state, w), version=state.version,
                         entries=entries, entity=entity or "", report_css=CSS))  # fmt: skip


@get("/api/v1/editions/{edition:str}/changes")
async def changes(
    request: Request[Any, Any, Any], edition: FromPath[str], since: FromQuery[int | None] = None
) -> ServerSentEvent:
    """The edition's version each time it changes (first at once), as server-sent
    events: what a page follows to show changes made elsewhere without a reload."""
    import anyio

    from creneau.scheduler._application import stream_id_of

    w = _words(request)
    server = _server(request)
    server.state(edition, w)

    def version() -> int:
        with server.lock:
            return server.store.stream_version(stream_id_of(edition))

    async def events() -> AsyncIterator[str]:
        told = since
        now = await anyio.to_thread.run_sync(version)
        while True:
            if now != told:
                told = now
                yield str(now)
            if server.fanout is None:  # one host: the store is asked again
                await anyio.sleep(0.3)
                now = await anyio.to_thread.run_sync(version)
            else:  # several: the stream's notifications, whichever host wrote
                await server.fanout.wait(edition, 1.0)
                now = max(now, server.fanout.version(edition) or 0)

    return ServerSentEvent(events(), event_type="version")


@get("/editions/{edition:str}/desk", sync_to_thread=True)
def desk_page(request: Request[Any, Any, Any], edition: FromPath[str]) -> Response[str]:
    """The registration desk: every run (and rotation) with its places, taken, left and
    who waits; book a place or the waiting list, cancel one (what seed 000's committee
    did on paper at the hall's door)."""
    from creneau.scheduler import offered
    from creneau.scheduler._places import rotation_starts

    w = _words(request)
    server = _server(request)
    state = server.state(edition, w)
    titles = {s.id: s.title or s.id for s in state.sessions.values()}
    rows = []
    for p in sorted(state.programme, key=lambda p: (p.day, p.start, titles[p.session])):
        starts: list[str | None] = [*rotation_starts(state, p.session, p.occurrence)]
        for rotation in starts or [None]:
            confirmed, waiting = state.places.get((p.session, p.occurrence, rotation), ((), ()))
            places = offered(state, p.session, p.occurrence, rotation)
            when = f"{w.short_date(p.day)} {rotation or p.start}"
            left = None if places is None else max(places - len(confirmed), 0)
            rows.append({"session": p.session, "occurrence": p.occurrence,
                         "rotation": rotation, "title": titles[p.session], "when": when,
                         "offered": places, "taken": len(confirmed),
                         "waiting": list(waiting), "left": left})  # fmt: skip
    return _html(_render("desk.html", w, edition=shown(state, w), rows=rows))


WEB_ROUTES = [index, public_programme, grid_page, grid_fragment, desk_page, timeline_page, changes]
